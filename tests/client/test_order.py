"""Own and others' messages reach the consumer in seq order, acknowledgements included (issue 8, item 11)."""

from __future__ import annotations

import asyncio
import itertools

from chat_tui.session import ChatSession
from chat_tui.session.events import MessageAcknowledged, SessionEvent
from shared import MessagePosted
from tests.client.helpers import next_event
from tests.conftest import ServerProcess

BURST = 150
"""Messages each of two members sends at once: enough that acks and others' messages share reads."""


async def _seqs(session: ChatSession, expected: int) -> list[int]:
    """The seq of each message event, in delivery order, until ``expected`` arrived."""
    seqs: list[int] = []
    while len(seqs) < expected:
        event: SessionEvent = await next_event(session)
        if isinstance(event, MessageAcknowledged | MessagePosted):
            seqs.append(event.seq)
    return seqs


async def test_bursts_from_two_members_arrive_in_seq_order_at_both(loaded_server: ServerProcess) -> None:
    alice, bob = ChatSession(*loaded_server.address), ChatSession(*loaded_server.address)
    await alice.connect()
    await bob.connect()
    group_id = (await alice.create_group("Lobby", "pw", "Alice")).group_id
    await bob.join_group(group_id, "pw", "Bob")

    for number in range(BURST):
        await alice.send(group_id, f"alice {number}")
        await bob.send(group_id, f"bob {number}")
    at_alice, at_bob = await asyncio.gather(_seqs(alice, 2 * BURST), _seqs(bob, 2 * BURST))

    for seqs in (at_alice, at_bob):
        inversions = sum(1 for before, after in itertools.pairwise(seqs) if after < before)
        assert inversions == 0, seqs
        assert sorted(seqs) == list(range(1, 2 * BURST + 1))  # each once
    await alice.close()
    await bob.close()
