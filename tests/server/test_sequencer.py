"""The cluster's sequencer: every message released once, in seq order, whichever way it came."""

from __future__ import annotations

from chat_server.cluster.sequencer import NOBODY, Held, Sequencer
from chat_server.groups import Group


def _held(seq: int, client_id: int = NOBODY, reply: bytes = b"") -> Held:
    return Held(client_id, reply, f"posted {seq}".encode())


def _seqs(released: list[Held]) -> list[bytes | None]:
    return [h.posted for h in released]


def test_messages_in_order_go_out_at_once() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    assert _seqs(order.offer(group, 1, _held(1), 0.0)) == [b"posted 1"]
    assert _seqs(order.offer(group, 2, _held(2), 0.0)) == [b"posted 2"]
    assert group.stored_seq == 2
    assert order.next_deadline() is None


def test_a_message_after_a_gap_waits_for_the_gap_then_both_go_in_order() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    assert order.offer(group, 2, _held(2), 10.0) == []
    assert group.stored_seq == 0
    assert order.next_deadline() == 10.25
    assert _seqs(order.offer(group, 1, _held(1), 10.1)) == [b"posted 1", b"posted 2"]
    assert group.stored_seq == 2
    assert order.next_deadline() is None


def test_a_gap_that_waits_too_long_is_reported_once_until_its_read_comes_back() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    order.offer(group, 3, _held(3), 10.0)
    assert order.due(10.2) == []
    assert order.due(10.25) == [1]
    assert order.due(11.0) == []  # the read is in flight
    order.read_done(1, 11.0)  # it came back without the missing seqs: the gap waits afresh
    assert order.due(11.1) == []
    assert order.due(11.25) == [1]


def test_a_duplicate_is_released_once_and_the_copy_with_the_senders_reply_wins() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    order.offer(group, 2, _held(2), 0.0)  # from the log, no reply
    order.offer(group, 2, _held(2, client_id=7, reply=b"ack"), 0.0)  # the commit's answer
    order.offer(group, 2, _held(2), 0.0)  # the bus, late
    released = order.offer(group, 1, _held(1), 0.0)
    assert [(h.client_id, h.reply, h.posted) for h in released] == [
        (NOBODY, b"", b"posted 1"),
        (7, b"ack", b"posted 2"),
    ]


def test_a_message_already_delivered_gives_only_the_reply_still_owed() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    order.offer(group, 1, _held(1), 0.0)
    assert order.offer(group, 1, _held(1), 0.0) == []
    assert order.offer(group, 1, _held(1, client_id=7, reply=b"ack"), 0.0) == [Held(7, b"ack", None)]


def test_skip_to_moves_a_group_nobody_here_follows_and_drops_what_it_passes() -> None:
    group, order = Group(1, "team", "hash"), Sequencer(gap_wait=0.25)
    order.offer(group, 3, _held(3), 0.0)
    order.offer(group, 6, _held(6), 0.0)
    assert _seqs(order.skip_to(group, 4, 0.0)) == []
    assert group.stored_seq == 4
    assert order.held(1) == 1
    assert _seqs(order.offer(group, 5, _held(5), 0.0)) == [b"posted 5", b"posted 6"]
