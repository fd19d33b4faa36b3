"""Redis SIGKILLed and restarted mid-conversation: nothing acknowledged is lost or delivered twice,
requests during the outage are refused with ``unavailable``, and nobody has to reconnect."""

from __future__ import annotations

from shared import CreateGroup, FetchHistory
from tests.cluster.conftest import Cluster
from tests.cluster.senders import UNAVAILABLE_RETRY_MS, Sender, sending, stored_log, wait_until


def test_redis_killed_and_restarted_mid_conversation_loses_no_acknowledged_message(cluster: Cluster) -> None:
    group_id, alice, bob, carol = cluster.one_group_on_three()

    senders = [Sender(alice, group_id), Sender(bob, group_id)]
    with sending(senders):
        wait_until(lambda: all(s.counts()[0] >= 10 for s in senders), "10 messages acknowledged to each", senders)

        cluster.redis.kill()
        wait_until(lambda: all(s.counts()[1] >= 2 for s in senders), "sends refused as unavailable", senders)
        for make, what in (
            (lambda rid: FetchHistory(rid, group_id, 2**53 - 1, 10), "fetch_history"),
            (lambda rid: CreateGroup(rid, "ops", "pw", "carol"), "create_group"),
        ):
            assert carol.refused(make, "unavailable").retry_after_ms == UNAVAILABLE_RETRY_MS, what
        newcomer = cluster.member(cluster.nodes[2], "dave")
        newcomer.refused(newcomer.joining(group_id, "pw"), "unavailable")
        for member in (carol, newcomer):
            assert member.is_connected(), f"{member.label} was disconnected during the outage"

        cluster.redis.start()  # same port, same append-only file
        acked_before = {s.member.label: s.counts()[0] for s in senders}
        wait_until(lambda: all(s.counts()[0] >= acked_before[s.member.label] + 10 for s in senders),
                   "10 more messages acknowledged to each after Redis came back", senders)  # fmt: skip

    log = stored_log(senders)
    newcomer.join(group_id, "pw")  # Redis is back: joining works again too
    for member in (alice, bob, carol, newcomer):
        history = [(e.seq, e.sender, e.text) for e in member.history(group_id)]
        assert history == log, f"history read by {member.label} after the outage"

    # Delivered once to everyone: a last message, after which nothing earlier may still come.
    last = carol.post(group_id, "over")
    log.append((last.seq, "carol", "over"))
    for member in (alice, bob, carol):
        if member is not carol:
            member.wait_seq(group_id, last.seq)
        member.assert_posted(group_id, log)
