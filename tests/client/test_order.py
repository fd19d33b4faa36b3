"""Own and others' messages reach the timeline in seq order, acknowledgements included (issue 8, item 11):
each message is appended after everything before it, never inserted between, at both members."""

from __future__ import annotations

import itertools

from chat_tui.session import ChatSession, TimelineChange
from tests.client.helpers import Watch
from tests.conftest import ServerProcess

BURST = 150
"""Messages each of two members sends at once: enough that acks and others' messages share reads."""


def _record_appends(session: ChatSession, group_id: int, seqs: list[int]) -> Watch:
    """Record the seq of every settled message the group's timeline adds, in the order it adds them."""
    timeline = session.timeline(group_id)

    def added(change: TimelineChange) -> None:
        shape: list[bool] = [False] * (len(timeline.entries) - sum(s.added - s.removed for s in change.splices))
        for splice in change.splices:
            shape[splice.start : splice.start + splice.removed] = [True] * splice.added
        new = [timeline.entries[i] for i, fresh in enumerate(shape) if fresh]
        seqs.extend(entry.seq for entry in new if entry.seq is not None and entry.state == "sent")

    timeline.entries.subscribe(added)
    return Watch(timeline)


async def test_bursts_from_two_members_arrive_in_seq_order_at_both(loaded_server: ServerProcess) -> None:
    alice, bob = ChatSession(*loaded_server.address), ChatSession(*loaded_server.address)
    await alice.connect()
    await bob.connect()
    group_id = (await alice.create_group("Lobby", "pw", "Alice")).group_id
    await bob.join_group(group_id, "pw", "Bob")

    at_alice: list[int] = []
    at_bob: list[int] = []
    watches = [_record_appends(alice, group_id, at_alice), _record_appends(bob, group_id, at_bob)]
    for number in range(BURST):
        await alice.send(group_id, f"alice {number}")
        await bob.send(group_id, f"bob {number}")
    for watch in watches:
        await watch.until(lambda: len(watch.settled()) == 2 * BURST)  # noqa: B023

    for seqs in (at_alice, at_bob):
        inversions = sum(1 for before, after in itertools.pairwise(seqs) if after < before)
        assert inversions == 0, seqs
        assert sorted(seqs) == list(range(1, 2 * BURST + 1))  # each once
    await alice.close()
    await bob.close()
