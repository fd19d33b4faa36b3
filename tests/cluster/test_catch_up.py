"""A catch-up on another process, with the default output limits: streamed as the member reads, read
off the loop from Redis, each message once and in order; and the same after the process restarts."""

from __future__ import annotations

import time

from shared import Error, GroupJoined
from tests.cluster.conftest import Cluster
from tests.cluster.member import Member

# 1,000 messages of 3,000 characters: about 3 MB of catch-up, three times --output-hard-limit (1 MiB),
# so the replay must go out as the member reads it, never queued whole.
MESSAGES = 1000
TEXT = "x" * 2990


def test_a_catch_up_larger_than_the_output_limit_streams_once_in_order_across_a_restart(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    alice = cluster.member(a, "alice")
    group_id = alice.create("team", "pw").group_id
    bob = cluster.member(b, "bob")
    token = bob.join(group_id, "pw").resume_token
    bob.close()
    sent = [alice.post(group_id, f"{n:06d} {TEXT}") for n in range(MESSAGES)]
    log = [(m.seq, "alice", f"{n:06d} {TEXT}") for n, m in enumerate(sent)]

    back = cluster.member(b, "bob")
    back.join(group_id, resume_token=token, since_seq=0)
    back.wait_seq(group_id, sent[-1].seq)
    back.assert_posted(group_id, log)
    assert back.is_connected()

    b.kill()  # a crash; the member comes back on a new process with what it had
    c = cluster.add_node()
    again = cluster.member(c, "bob")
    half = sent[MESSAGES // 2].seq
    again.until(lambda: _rejoined(again, group_id, token, half), "a rejoin once the crashed process's bob is swept")
    again.wait_seq(group_id, sent[-1].seq)
    again.assert_posted(group_id, [line for line in log if line[0] > half])
    late = alice.post(group_id, "live again")
    again.wait_seq(group_id, late.seq)
    assert [p.text for p in again.posted(group_id)][-1] == "live again"


def _rejoined(member: Member, group_id: int, token: str | None, since_seq: int) -> bool:
    """One try at rejoining: the crashed process's member keeps the name until it is swept (name_taken)."""
    reply = member.request(member.joining(group_id, resume_token=token, since_seq=since_seq))
    if isinstance(reply, GroupJoined):
        return True
    assert isinstance(reply, Error), reply
    assert reply.code == "name_taken", reply
    time.sleep(0.2)  # the sweep comes within --node-timeout plus a heartbeat
    return False
