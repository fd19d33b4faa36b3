"""A server process SIGKILLed: it cannot say goodbye, so the others sweep it once its heartbeat expires."""

from __future__ import annotations

import time
from functools import partial

from shared import Error, GroupJoined, MemberLeft, MessageAccepted, SendMessage
from tests.cluster.conftest import NODE_TIMEOUT, Cluster
from tests.cluster.member import Member

# How long the others may take to report the crash: node_timeout, plus a heartbeat interval
# (node_timeout / 3), plus slack for a loaded machine. A bound on waiting, not a speed claim.
SWEEP_WAIT = NODE_TIMEOUT + NODE_TIMEOUT / 3 + 15
MESSAGES = 60


def test_a_killed_process_members_leave_the_others_member_lists(cluster: Cluster) -> None:
    a, b, c = cluster.start(3)
    bob, carol = cluster.member(b, "bob"), cluster.member(c, "carol")
    alice, anna = cluster.member(a, "alice"), cluster.member(a, "anna")
    group_id = bob.create("team", "pw").group_id
    for member in (carol, alice, anna):
        member.join(group_id, "pw")
    everyone = {"alice", "anna", "bob", "carol"}
    for member in (alice, anna, bob, carol):
        member.wait_roster(group_id, everyone)

    a.kill()
    for member in (bob, carol):
        member.wait_roster(group_id, {"bob", "carol"}, timeout=SWEEP_WAIT)
        gone = sorted(e.name for e in member.received if isinstance(e, MemberLeft))
        assert gone == ["alice", "anna"], f"{member.label} was told these left: {gone}"

    for node in (b, c):
        newcomer = cluster.member(node, f"new{node.label}")
        joined = newcomer.join(group_id, "pw")
        assert not {"alice", "anna"} & set(joined.members), f"{newcomer.label} was given members {joined.members}"
    cluster.member(c, "alice").join(group_id, "pw")  # the dead process's names are free again

    said = bob.post(group_id, "still here")  # and the group goes on without process A
    carol.wait_seq(group_id, said.seq)


def test_a_sender_whose_process_was_killed_resends_on_another_and_nothing_is_doubled(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    bob, alice = cluster.member(b, "bob"), cluster.member(a, "alice")
    group_id = bob.create("team", "pw").group_id
    alice.join(group_id, "pw")
    bob.wait_roster(group_id, {"alice", "bob"})
    texts = [f"alice #{i}" for i in range(MESSAGES)]

    pending = [alice.submit(partial(SendMessage, group_id=group_id, text=t, client_msg_id=f"m{i}")) for i, t in
               enumerate(texts)]  # fmt: skip
    acked_before = [alice.reply(request_id) for request_id in pending[:10]]
    a.kill()  # with the rest of alice's messages stored, half stored or not yet read

    again = cluster.member(b, "alice")
    rejoin_after_sweep(again, group_id)
    acks = [again.post(group_id, text, f"m{i}") for i, text in enumerate(texts)]  # a resend of each, same ids
    for i, before in enumerate(acked_before):
        assert isinstance(before, MessageAccepted), f"alice@A: message {i} refused before the crash: {before!r}"
        assert (acks[i].seq, acks[i].ts) == (before.seq, before.ts), f"resent message {i} stored anew"
    history = [(e.seq, e.sender, e.text) for e in bob.history(group_id)]
    assert [seq for seq, _, _ in history] == list(range(1, MESSAGES + 1)), "each message stored once, no gap"
    assert sorted(text for _, _, text in history) == sorted(texts), "each message stored once"
    assert {ack.seq: texts[i] for i, ack in enumerate(acks)} == {seq: text for seq, _, text in history}
    bob.wait_seq(group_id, max(ack.seq for ack in acks))
    bob.assert_posted(group_id, history)


def rejoin_after_sweep(member: Member, group_id: int) -> None:
    """Join as a member whose name a killed process still holds, asking again (as a client would) while
    the answer is name_taken, until the others have swept that process."""
    deadline = time.monotonic() + SWEEP_WAIT
    while True:
        reply = member.request(member.joining(group_id, "pw"))
        if isinstance(reply, GroupJoined):
            return
        if not isinstance(reply, Error) or reply.code != "name_taken" or time.monotonic() > deadline:
            member.fail(f"rejoining group {group_id} was answered {reply!r}")
        time.sleep(0.2)
