"""Anything PUBLISHed on the bus channel by another program must not kill a server or reach a member."""

from __future__ import annotations

import msgpack

from shared import MessagePosted
from tests.cluster.conftest import Cluster

GARBAGE = [
    b"",
    b"\xc1",  # a byte msgpack never uses
    b"plain text, not msgpack \xff\xfe",
    b"\x93\xa1p",  # an array of 3 cut short
    b"\x92\xa1p\xa2\xff\xfe",  # a string that is not UTF-8
    msgpack.packb(None),
    msgpack.packb(42),
    msgpack.packb("p"),
    msgpack.packb({"tag": "p", "group_id": 1}),
    msgpack.packb([]),
    msgpack.packb(["no such tag", 1, 2, 3]),
    msgpack.packb(["p"]),  # a known tag, no fields
    msgpack.packb(["p", "someone", "one", 1, 1, "eve", "hi", False]),  # group_id not an int
    msgpack.packb(["p", "someone", 1, 1, 1, "eve", "hi", False, "extra"]),  # one field too many
    msgpack.packb(["p", "someone", 1, 1, 1, b"eve", b"hi", False], use_bin_type=True),  # bytes for strings
    msgpack.packb(["p", "someone", 2**64 - 1, 1, 1, "eve", "hi", False]),  # no such group
    msgpack.packb(["j", "someone", 1, "seven", "eve", False, ""]),  # client_id not an int
    msgpack.packb(["l", None, None, None, None]),
    msgpack.packb(["a", "someone", 1, 7, "eve", "yes", 3]),  # booleans and strings swapped
    msgpack.packb(["g", "1"]),
    msgpack.packb(["t", [[[[[[[[[[]]]]]]]]]], 1, "eve"]),
    msgpack.packb([["p"], {"p": "p"}]),
    msgpack.packb(msgpack.ExtType(5, b"\x00")),
    msgpack.packb(["p", 1.5, 1, 1, 1, "eve", "hi", False]),
    bytes(range(256)) * 64,  # 16 KiB of noise
]


def test_foreign_garbage_on_the_bus_does_not_kill_a_server(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    alice, bob = cluster.member(a, "alice"), cluster.member(b, "bob")
    group_id = alice.create("team", "pw").group_id
    bob.join(group_id, "pw")
    for member in (alice, bob):
        member.wait_roster(group_id, {"alice", "bob"})
    seen_before = {m.label: len(m.received) for m in (alice, bob)}

    for data in GARBAGE:
        listeners = cluster.publish(data)
        assert listeners >= 2, f"only {listeners} subscriber(s) on the bus after publishing {data[:40]!r}"

    # The bus is still listened to, in both directions, and nothing of the garbage came through.
    first = alice.post(group_id, "still there?")
    bob.wait_seq(group_id, first.seq)
    second = bob.post(group_id, "yes")
    alice.wait_seq(group_id, second.seq)
    for member, said in ((alice, second), (bob, first)):
        news = member.received[seen_before[member.label] :]
        foreign = [e for e in news if not (isinstance(e, MessagePosted) and e.seq == said.seq)]
        foreign = [e for e in foreign if getattr(e, "request_id", None) is None]  # its own replies
        assert not foreign, f"{member.label} was sent something from the garbage: {foreign}"
    assert not cluster.dead_nodes(), f"died: {[n.label for n in cluster.dead_nodes()]}"
