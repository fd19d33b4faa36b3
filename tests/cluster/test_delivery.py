"""Every member on every process is posted every other member's message exactly once, in seq order,
while members on all processes send at the same time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from shared import MessageAccepted, SendMessage
from tests.cluster.conftest import Cluster
from tests.cluster.member import Member
from tests.cluster.senders import Sender, sending, stored_log, wait_until

PER_PROCESS = 2
MESSAGES_EACH = 40


def test_members_on_every_process_see_every_message_once_and_in_order(cluster: Cluster) -> None:
    nodes = cluster.start(3)
    members = [cluster.member(node, f"m{node.label}{i}") for node in nodes for i in range(PER_PROCESS)]
    group_id = members[0].create("team", "pw").group_id
    for member in members[1:]:
        member.join(group_id, "pw")
    for member in members:
        member.wait_roster(group_id, {m.name for m in members})

    total = len(members) * MESSAGES_EACH
    start = threading.Barrier(len(members))

    def converse(member: Member) -> list[MessageAccepted]:
        """Send every message at once (pipelined), then read until all the others' have come."""
        start.wait(timeout=30)
        pending = [
            member.submit(partial(SendMessage, group_id=group_id, text=f"{member.name} #{i}", client_msg_id=f"{i}"))
            for i in range(MESSAGES_EACH)
        ]
        acks = [member.reply(request_id) for request_id in pending]
        for ack in acks:
            if not isinstance(ack, MessageAccepted):
                member.fail(f"a message was refused: {ack!r}")
        member.wait_posted(group_id, total - MESSAGES_EACH, timeout=60)
        return [ack for ack in acks if isinstance(ack, MessageAccepted)]

    with ThreadPoolExecutor(len(members)) as pool:
        acks = dict(zip((m.name for m in members), pool.map(converse, members), strict=True))

    lines: dict[int, tuple[str, str]] = {}
    for name, accepted in acks.items():
        assert [a.seq for a in accepted] == sorted(a.seq for a in accepted), f"{name}'s acks out of seq order"
        for i, ack in enumerate(accepted):
            assert ack.seq not in lines, f"seq {ack.seq} given to {name} and to {lines[ack.seq][0]}"
            lines[ack.seq] = (name, f"{name} #{i}")
    assert sorted(lines) == list(range(1, total + 1)), "seqs 1..n, no gap"
    # A last message, waited for by all: a duplicate of an earlier one arriving late would come before
    # it, where the check below sees it.
    last = members[-1].post(group_id, "the end")
    lines[last.seq] = (members[-1].name, "the end")
    for member in members[:-1]:
        member.wait_seq(group_id, last.seq)
    log = [(seq, *line) for seq, line in sorted(lines.items())]
    for member in members:
        member.assert_posted(group_id, log)
    history = {m.label: [(e.seq, e.sender, e.text) for e in m.history(group_id)] for m in members[::PER_PROCESS]}
    for label, entries in history.items():
        assert entries == log, f"history read by {label}"


def test_messages_missed_while_the_bus_was_cut_are_refilled_from_the_log(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    alice, carol, bob, dan = (
        cluster.member(n, name) for n, name in ((a, "alice"), (a, "carol"), (b, "bob"), (b, "dan"))
    )
    group_id = alice.create("team", "pw").group_id
    for member in (carol, bob, dan):
        member.join(group_id, "pw")
    for member in (alice, carol, bob, dan):
        member.wait_roster(group_id, {"alice", "bob", "carol", "dan"})

    senders = [Sender(alice, group_id), Sender(bob, group_id)]
    with sending(senders):
        for round_no in range(1, 6):
            wait_until(partial(acked_at_least, senders, 30 * round_no), f"{30 * round_no} messages acked", senders)
            wait_until(lambda: cluster.bus_subscribers() >= 2, "both processes subscribed to the bus again", senders)
            # While both keep sending: some messages are published to no one on one side. A connection cut
            # the round before may still be counted above while Redis closes it: cut until one is cut.
            wait_until(lambda: cluster.cut_bus() >= 1, f"a bus connection cut in round {round_no}", senders)
        wait_until(partial(acked_at_least, senders, 30 * 6), "messages acked after the last cut", senders)
    assert not [s.refusals for s in senders if s.refusals], "a send was refused though Redis stayed up"

    log = stored_log(senders)
    last = carol.post(group_id, "the end")  # carol and dan only listened until now
    log.append((last.seq, "carol", "the end"))
    for member in (alice, bob, dan):
        member.wait_seq(group_id, last.seq)
    for member in (alice, carol, bob, dan):
        member.assert_posted(group_id, log)
    for member in (carol, dan):
        assert [(e.seq, e.sender, e.text) for e in member.history(group_id)] == log, f"history read by {member.label}"


def acked_at_least(senders: list[Sender], count: int) -> bool:
    return sum(s.counts()[0] for s in senders) >= count
