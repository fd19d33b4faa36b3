"""Per-group, per-commit fan-out (issue 11): one shared chunk for the readers, each sender's replies in
the place of its own messages, and on the wire exactly one frame per message in seq order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server.config import ServerConfig
from chat_server.fanout import streams
from chat_server.outgoing import Fanout
from shared import MessageAccepted, MessagePosted, SendMessage
from tests.helpers import InProcessServer, RawClient


def _joined(pieces: list[bytes | memoryview]) -> bytes:
    return b"".join(bytes(piece) for piece in pieces)


def test_readers_that_sent_nothing_share_one_chunk_and_senders_get_replies_in_place() -> None:
    fanout = Fanout(
        frozenset({1, 2, 3}),
        [(1, b"ack1", b"<post1>"), (2, b"ack2", b"<post2>"), (1, b"ack3", b"<post3>")],
    )
    chunk, own = streams(fanout)
    assert chunk == b"<post1><post2><post3>"
    assert set(own) == {1, 2}  # client 3 sent nothing: it gets ``chunk`` itself, no copy
    assert _joined(own[1]) == b"ack1<post2>ack3"
    assert _joined(own[2]) == b"<post1>ack2<post3>"
    assert all(isinstance(piece, memoryview | bytes) for piece in own[1])


def test_a_sender_catching_up_gets_only_its_replies() -> None:
    """A member being replayed what it missed is not a live reader: its replay brings the posts."""
    chunk, own = streams(Fanout(frozenset({2}), [(1, b"ack1", b"<post1>"), (2, b"ack2", b"<post2>")]))
    assert _joined(own[1]) == b"ack1"
    assert _joined(own[2]) == b"<post1>ack2"
    assert chunk == b"<post1><post2>"


def test_a_reply_without_a_post_keeps_its_place() -> None:
    """A refused message or a resend of a stored one is answered, and nobody is sent a post for it."""
    chunk, own = streams(Fanout(frozenset({1, 2}), [(2, b"ack1", b"<post1>"), (1, b"err", None)]))
    assert chunk == b"<post1>"
    assert _joined(own[1]) == b"<post1>err"
    assert _joined(own[2]) == b"ack1"


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    running = InProcessServer(ServerConfig(port=0, store_url="memory:", message_burst=100, message_queue=100))
    yield running
    running.stop()


def _stream(client: RawClient, count: int) -> list[MessageAccepted | MessagePosted]:
    """The next ``count`` message frames the client receives, in arrival order."""
    frames = []
    for _ in range(count):
        frame = client.wait_for(lambda e: isinstance(e, MessageAccepted | MessagePosted))
        assert isinstance(frame, MessageAccepted | MessagePosted)
        frames.append(frame)
    return frames


def test_every_member_gets_one_frame_per_message_in_seq_order(server: InProcessServer) -> None:
    """Two senders pipelining into one commit: each sees its acks and the other's posts interleaved in
    seq order; a member that sent nothing sees every post once, in seq order."""
    alice = RawClient(server.address)
    group = alice.create("team", "pw", "Alice").group_id
    bob, carol = RawClient(server.address), RawClient(server.address)
    bob.join(group, "pw", "Bob")
    carol.join(group, "pw", "Carol")
    for sender in (alice, bob):  # each sends its 20 in one write: they reach the same loop turns
        sender.send_raw(b"".join(sender.conn.send(SendMessage(100 + n, group, f"m{n}")) for n in range(20)))
    for me in (alice, bob):
        frames = _stream(me, 40)
        assert [f.seq for f in frames] == list(range(1, 41))
        mine = [f for f in frames if isinstance(f, MessageAccepted)]
        assert [f.request_id for f in mine] == list(range(100, 120))
        assert all(f.sender != ("Alice" if me is alice else "Bob") for f in frames if isinstance(f, MessagePosted))
    posts = _stream(carol, 40)
    assert [p.seq for p in posts] == list(range(1, 41))
    assert all(isinstance(p, MessagePosted) for p in posts)
    for client in (alice, bob, carol):
        client.assert_silent()
