"""Frames before welcome (pipelining), the frame limit around hello, and frames nobody asked for."""

from __future__ import annotations

import struct

import pytest

from shared import (
    PROTOCOL_VERSION,
    Connection,
    CreateGroup,
    FrameTooLarge,
    GroupCreated,
    Hello,
    LocalProtocolError,
    MessageAccepted,
    Ping,
    Pong,
    Role,
    SendMessage,
    State,
    UnexpectedEvent,
    Welcome,
    encode,
    limits,
)
from tests.helpers import ConnectionPair

HELLO = Hello(1, PROTOCOL_VERSION, "pipeliner")
WELCOME = Welcome(1, PROTOCOL_VERSION, "server", limits.MAX_FRAME_SIZE)


def test_server_accepts_requests_pipelined_behind_hello_in_one_read() -> None:
    """A pipelined create then send arrive in the order sent, after hello (issue 8: frames before welcome)."""
    server = Connection(Role.SERVER)
    sent = [HELLO, CreateGroup(2, "team", "pw", "Alice"), SendMessage(3, 1, "first!"), Ping(4)]
    assert server.receive_data(b"".join(encode(event) for event in sent)) == sent
    assert server.state is State.HELLO_SENT


def test_server_answers_welcome_before_anything_else() -> None:
    server = Connection(Role.SERVER)
    server.receive_data(encode(HELLO) + encode(CreateGroup(2, "team", "pw", "Alice")))
    with pytest.raises(LocalProtocolError):
        server.send(GroupCreated(2, 1, "team", "Alice"))
    with pytest.raises(LocalProtocolError):
        server.send(Pong(4))
    server.send(WELCOME)
    assert server.send(GroupCreated(2, 1, "team", "Alice"))


def test_a_second_hello_is_refused_while_welcome_is_pending() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(UnexpectedEvent) as info:
        server.receive_data(encode(HELLO) + encode(HELLO))
    assert info.value.pending_events == [HELLO]


def test_client_may_send_requests_after_hello_without_waiting() -> None:
    pair = ConnectionPair()
    data = pair.client.send(HELLO) + pair.client.send(CreateGroup(2, "team", "pw", "Alice"))
    data += pair.client.send(SendMessage(3, 1, "first!"))
    assert pair.client.state.value == "hello_sent"
    assert [type(event) for event in pair.server.receive_data(data)] == [Hello, CreateGroup, SendMessage]
    replies = pair.server.send(WELCOME) + pair.server.send(GroupCreated(2, 1, "team", "Alice"))
    replies += pair.server.send(MessageAccepted(3, 1, 1, 1795665680029))
    assert [type(event) for event in pair.client.receive_data(replies)] == [Welcome, GroupCreated, MessageAccepted]
    assert pair.client.state is State.READY


def test_client_may_not_send_a_second_hello() -> None:
    client = Connection(Role.CLIENT)
    client.send(HELLO)
    with pytest.raises(LocalProtocolError):
        client.send(HELLO)


def test_nothing_but_hello_is_accepted_before_hello() -> None:
    for event in (CreateGroup(2, "team", "pw", "Alice"), Ping(1), Pong(1)):
        with pytest.raises(UnexpectedEvent):
            Connection(Role.SERVER).receive_data(encode(event))


def test_handshake_frame_limit_applies_only_until_hello() -> None:
    """Before hello a frame is at most 1024 bytes; a pipelined long message right after hello is fine."""
    long_message = SendMessage(2, 1, "é" * limits.MAX_TEXT_LENGTH)
    assert len(encode(long_message)) > limits.MAX_HANDSHAKE_FRAME_SIZE
    server = Connection(Role.SERVER)
    assert server.receive_data(encode(HELLO) + encode(long_message)) == [HELLO, long_message]
    with pytest.raises(FrameTooLarge):
        Connection(Role.SERVER).receive_data(struct.pack(">I", limits.MAX_HANDSHAKE_FRAME_SIZE + 1))


def test_full_frame_limit_still_holds_after_hello() -> None:
    server = Connection(Role.SERVER, max_frame_size=2000)
    server.receive_data(encode(HELLO))
    with pytest.raises(FrameTooLarge):
        server.receive_data(struct.pack(">I", 2001))


def test_an_unsolicited_pong_is_an_ordinary_event() -> None:
    """A pong that answers no ping is accepted (and then ignored by the receiver), not a protocol error."""
    pair = ConnectionPair()
    pair.handshake()
    assert pair.client_sends(Pong(77)) == [Pong(77)]
    assert pair.server_sends(Pong(78)) == [Pong(78)]
    assert pair.server.state is State.READY
