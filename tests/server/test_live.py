"""The real server process with many real clients on loopback."""

from __future__ import annotations

import signal
import socket
import struct
from collections.abc import Iterator

import pytest

from shared import (
    PROTOCOL_VERSION,
    CreateGroup,
    Error,
    GroupLeft,
    Hello,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    SendMessage,
    ServerClosing,
    encode,
)
from tests.conftest import ServerProcess
from tests.helpers import RawClient

Address = tuple[str, int]


@pytest.fixture
def clients(server_address: Address) -> Iterator[list[RawClient]]:
    opened: list[RawClient] = []
    yield opened
    for client in opened:
        client.close()


def connect(address: Address, opened: list[RawClient], *, handshake: bool = True) -> RawClient:
    client = RawClient(address, handshake=handshake)
    opened.append(client)
    return client


def test_create_join_chat_and_leave(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    created = alice.create("team", "s3cret", "Alice")
    assert created.group_id == 1
    joined = bob.join(created.group_id, "s3cret", "Bob")
    assert joined.members == ("Alice", "Bob")
    assert alice.next_event(MemberJoined) == MemberJoined(1, "Bob")

    accepted = bob.request(lambda rid: SendMessage(rid, 1, "Hello everyone!"), MessageAccepted)
    posted = alice.next_event(MessagePosted)
    assert (posted.sender, posted.text, posted.seq, posted.ts) == ("Bob", "Hello everyone!", accepted.seq, accepted.ts)
    bob.assert_silent()  # the sender does not get its own message back

    bob.request(lambda rid: LeaveGroup(rid, 1), GroupLeft)
    assert alice.next_event(MemberLeft) == MemberLeft(1, "Bob")


def test_wrong_password_and_unknown_group_get_the_same_refusal(
    server_address: Address, clients: list[RawClient]
) -> None:
    alice, mallory = connect(server_address, clients), connect(server_address, clients)
    alice.create("team", "right", "Alice")
    wrong = mallory.refused(lambda rid: JoinGroup(rid, 1, "wrong", "M"))
    unknown = mallory.refused(lambda rid: JoinGroup(rid, 42, "right", "M"))
    assert (
        (wrong.code, wrong.message)
        == (unknown.code, unknown.message)
        == (
            "bad_credentials",
            "wrong group ID or password",
        )
    )
    alice.assert_silent()  # a failed join announces nothing


def test_duplicate_group_name_is_refused(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    alice.create("Team Rocket", "pw", "Alice")
    error = bob.refused(lambda rid: CreateGroup(rid, "team rocket", "pw", "Bob"))
    assert error.code == "group_name_taken"


def test_broadcast_reaches_every_other_member_once(loaded_server: ServerProcess, clients: list[RawClient]) -> None:
    members = [connect(loaded_server.address, clients) for _ in range(30)]
    members[0].create("crowd", "pw", "m0")
    for i, member in enumerate(members[1:], start=1):
        member.join(1, "pw", f"m{i}")
    for i, member in enumerate(members[:-1]):  # each hears of everyone who joined after it
        for j in range(i + 1, len(members)):
            assert member.next_event(MemberJoined).name == f"m{j}"
    members[7].request(lambda rid: SendMessage(rid, 1, "to all"), MessageAccepted)
    for i, member in enumerate(members):
        if i != 7:
            assert member.next_event(MessagePosted).text == "to all"
    for member in members:
        member.assert_silent(0.05)


def test_one_connection_in_several_groups(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    one = alice.create("one", "pw", "Alice").group_id
    two = bob.create("two", "pw", "Bob").group_id
    bob.join(one, "pw", "Bob")
    alice.next_event(MemberJoined)
    alice.join(two, "pw", "Al")
    bob.next_event(MemberJoined)
    alice.request(lambda rid: SendMessage(rid, two, "in two"), MessageAccepted)
    alice.request(lambda rid: SendMessage(rid, one, "in one"), MessageAccepted)
    assert [(e.group_id, e.text) for e in (bob.next_event(MessagePosted), bob.next_event(MessagePosted))] == [
        (two, "in two"),
        (one, "in one"),
    ]


def test_abrupt_disconnect_is_a_leave(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    alice.create("team", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    alice.next_event(MemberJoined)
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
    bob.close()
    assert alice.next_event(MemberLeft) == MemberLeft(1, "Bob")
    carol = connect(server_address, clients)
    assert carol.join(1, "pw", "Bob").members == ("Alice", "Bob")  # the name is free again


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x00\x00\x03\xc1\xc1\xc1",  # not msgpack
        b"\xff\xff\xff\xff",  # 4 GiB frame announced
        b"\x00\x00\x00\x03\x92\x01\x02",  # an array, not a map
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_garbage_closes_only_that_connection_with_an_error_frame(
    server_address: Address, clients: list[RawClient], garbage: bytes
) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    alice.create("team", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    alice.next_event(MemberJoined)
    mallory = connect(server_address, clients)
    mallory.send_raw(garbage)
    [error] = mallory.read_until_closed()
    assert isinstance(error, Error)
    assert error.request_id is None
    assert error.code in {"bad_frame", "frame_too_large"}
    bob.request(lambda rid: SendMessage(rid, 1, "still here?"), MessageAccepted)
    assert alice.next_event(MessagePosted).text == "still here?"


def test_wrong_protocol_version_gets_a_clear_error(server_address: Address, clients: list[RawClient]) -> None:
    old = connect(server_address, clients, handshake=False)
    old.send_raw(encode(Hello(1, PROTOCOL_VERSION + 1, "future")))
    [error] = old.read_until_closed()
    assert isinstance(error, Error)
    assert error.code == "unsupported_version"
    assert "version" in error.message


def test_request_before_hello_is_refused(server_address: Address, clients: list[RawClient]) -> None:
    rude = connect(server_address, clients, handshake=False)
    rude.send_raw(encode(SendMessage(1, 1, "hi")))
    [error] = rude.read_until_closed()
    assert isinstance(error, Error)
    assert error.code == "unexpected"


def test_ping_is_answered(server_address: Address, clients: list[RawClient]) -> None:
    client = connect(server_address, clients)
    client.send(Ping(77))
    assert client.next_event(Pong) == Pong(77)


def test_sigterm_says_goodbye_and_exits_zero(server: ServerProcess) -> None:
    alice = RawClient(server.address)
    alice.create("team", "hunter2-secret", "Alice")
    assert server.stop(signal.SIGTERM) == 0
    assert alice.read_until_closed() == [ServerClosing("the server is shutting down")]
    alice.close()
    log = "".join(server.log)
    assert "hunter2" not in log  # the password never reaches the log
    assert "stopped" in log


def test_sigint_also_exits_zero(server: ServerProcess) -> None:
    assert server.stop(signal.SIGINT) == 0


def test_log_has_one_line_per_connection_event(server: ServerProcess) -> None:
    client = RawClient(server.address)
    client.close()
    server.stop()
    lines = [line for line in server.log if "conn 1" in line]
    assert len(lines) == 2
    assert "accepted" in lines[0]
    assert "closed" in lines[1]
