"""The sans-IO protocol: round trips, framing at every byte boundary, and every way to break it."""

from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys

import msgpack
import pytest

from shared import (
    PROTOCOL_VERSION,
    Connection,
    CreateGroup,
    Error,
    Event,
    FetchHistory,
    FrameTooLarge,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    Hello,
    HistoryEntry,
    HistoryPage,
    InvalidField,
    JoinGroup,
    LeaveGroup,
    LocalProtocolError,
    MalformedFrame,
    MemberJoined,
    MemberLeft,
    MemberList,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    ProtocolError,
    Role,
    SendMessage,
    ServerClosing,
    State,
    UnexpectedEvent,
    VersionMismatch,
    Welcome,
    decode,
    encode,
)
from shared.events import CLIENT_EVENTS, SERVER_EVENTS
from tests.helpers import ConnectionPair

CLIENT_SAMPLES: list[Event] = [
    CreateGroup(2, "team", "pw", "Alice"),
    JoinGroup(3, 7, "pässwörd", "Bob"),
    LeaveGroup(4, 7),
    SendMessage(5, 7, "hello\nworld\t🙂"),
    SendMessage(6, 7, "with an id", "3f1c9e7a-uuid"),
    JoinGroup(7, 7, "pw", "Bob", since_seq=41),
    JoinGroup(11, 7, None, "Bob", since_seq=41, resume_token="v1.7.Zm9v~bar_baz-123"),
    FetchHistory(8, 7, before_seq=100, limit=20),
    Ping(9),
    Pong(10),
]
SERVER_SAMPLES: list[Event] = [
    GroupCreated(2, 1, "team", "Alice"),
    GroupCreated(2, 1, "team", "Alice", "tok.en"),
    GroupJoined(3, 1, "team", "Bob", ("Alice", "Bob"), 17),
    GroupJoined(3, 1, "team", "Bob", ("Alice", "Bob"), 17, resume_token="tok.en", more_members=True),
    MemberList(1, ("Carol", "Dave"), True),
    MemberList(1, (), False),
    HistoryPage(
        6, 1, (HistoryEntry(1, 1795665680029, "Alice", "first"), HistoryEntry(2, 1795665680030, "B", "x")), True
    ),
    GroupLeft(4, 1),
    MessageAccepted(5, 1, 1, 1795665680029),
    MessagePosted(1, 1, 1795665680029, "Alice", "hi [bold]there[/]"),
    MemberJoined(1, "Bob"),
    MemberLeft(1, "Bob"),
    Error(5, "not_member", "you are not in group 1"),
    Error(6, "too_many_attempts", "wait a little", retry_after_ms=1500),
    Ping(11),
    Pong(12),
    ServerClosing("bye"),
]


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def ready_server() -> Connection:
    pair = ConnectionPair()
    pair.handshake()
    return pair.server


@pytest.mark.parametrize("event", CLIENT_SAMPLES + SERVER_SAMPLES, ids=lambda e: e.TYPE)
def test_every_event_round_trips_through_bytes(event: Event) -> None:
    data = encode(event)
    assert struct.unpack(">I", data[:4])[0] == len(data) - 4
    assert decode(data[4:]) == event


@pytest.mark.parametrize("event", CLIENT_SAMPLES, ids=lambda e: e.TYPE)
def test_client_events_arrive_whole_when_split_at_every_byte(event: Event) -> None:
    data = encode(event)
    for cut in range(len(data) + 1):
        server = ready_server()
        assert server.receive_data(data[:cut]) + server.receive_data(data[cut:]) == [event]


def test_frames_fed_one_byte_at_a_time() -> None:
    server = ready_server()
    data = b"".join(encode(e) for e in CLIENT_SAMPLES)
    received = [event for i in range(len(data)) for event in server.receive_data(data[i : i + 1])]
    assert received == CLIENT_SAMPLES


def test_several_frames_in_one_read() -> None:
    pair = ConnectionPair()
    pair.handshake()
    data = b"".join(pair.server.send(e) for e in SERVER_SAMPLES[:-1])
    assert pair.client.receive_data(data) == SERVER_SAMPLES[:-1]


def test_handshake_moves_both_sides_to_ready() -> None:
    pair = ConnectionPair()
    assert pair.client_sends(Hello(1, PROTOCOL_VERSION, "x")) == [Hello(1, PROTOCOL_VERSION, "x")]
    assert pair.server.state.value == "hello_sent"
    pair.server_sends(Welcome(1, PROTOCOL_VERSION, "s", 65536))
    assert pair.client.state is State.READY
    assert pair.server.state is State.READY


def test_request_before_hello_is_unexpected() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(UnexpectedEvent):
        server.receive_data(encode(SendMessage(1, 1, "hi")))


def test_client_cannot_send_requests_before_hello() -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(LocalProtocolError):
        client.send(SendMessage(1, 1, "hi"))


def test_second_hello_is_unexpected() -> None:
    with pytest.raises(UnexpectedEvent):
        ready_server().receive_data(encode(Hello(2, PROTOCOL_VERSION)))


def test_server_only_frame_from_a_client_is_unexpected() -> None:
    with pytest.raises(UnexpectedEvent):
        ready_server().receive_data(encode(MemberJoined(1, "Mallory")))


def test_wrong_version_is_refused_with_its_own_code() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(VersionMismatch) as info:
        server.receive_data(encode(Hello(1, PROTOCOL_VERSION + 1)))
    assert info.value.code == "unsupported_version"
    assert "version" in info.value.message


def test_oversized_length_is_refused_from_the_header_alone() -> None:
    server = ready_server()
    with pytest.raises(FrameTooLarge):
        server.receive_data(struct.pack(">I", 65537))  # no body sent at all


def test_handshake_limit_is_tighter_than_the_frame_limit() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(FrameTooLarge):
        server.receive_data(struct.pack(">I", 2000))
    assert ready_server().receive_data(struct.pack(">I", 2000)) == []  # fine once ready


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\xc1", MalformedFrame),  # never-used msgpack byte
        (msgpack.packb([1, 2]), MalformedFrame),  # not a map
        (msgpack.packb({"type": "nope"}), MalformedFrame),
        (msgpack.packb({"id": 1}), MalformedFrame),  # no type
        (msgpack.packb({"type": "send_message", "id": 1, "group_id": 1}), InvalidField),
        (msgpack.packb({"type": "send_message", "id": 1, "group_id": "1", "text": "x"}), InvalidField),
        (msgpack.packb({"type": "send_message", "id": True, "group_id": 1, "text": "x"}), InvalidField),
        (msgpack.packb({"type": "send_message", "id": -1, "group_id": 1, "text": "x"}), InvalidField),
        (
            msgpack.packb({"type": "send_message", "id": 1, "group_id": 1, "text": "x", "extra": 1}),
            InvalidField,
        ),
        (msgpack.packb({"type": "send_message", "id": 1, "group_id": 1, "text": "a\x1bb"}), InvalidField),
        (msgpack.packb({"type": "send_message", "id": 1, "group_id": 1, "text": "x" * 4001}), InvalidField),
        (msgpack.packb({"type": "send_message", "id": 1, "group_id": 1, "text": b"bytes"}), MalformedFrame),
        (msgpack.packb({"type": "ping", "nonce": [[[[1]]]]}), MalformedFrame),  # too deep
        (msgpack.packb({"type": "ping", "nonce": 1}) + b"\x00", MalformedFrame),  # trailing bytes
        (msgpack.packb({"type": "ping", "nonce": msgpack.ExtType(1, b"x")}), MalformedFrame),
        (msgpack.packb({str(i): i for i in range(20)} | {"type": "ping"}), MalformedFrame),
        (msgpack.packb({1: 2}), MalformedFrame),  # non-string key
        (b"\xa3\xff\xfe\xfd", MalformedFrame),  # invalid UTF-8
    ],
)
def test_bad_bodies_raise_a_protocol_error_with_a_code(body: bytes, error: type[ProtocolError]) -> None:
    with pytest.raises(error) as info:
        ready_server().receive_data(frame(body))
    assert info.value.code in {"bad_frame", "bad_request"}


def test_empty_frame_is_malformed() -> None:
    with pytest.raises(MalformedFrame):
        ready_server().receive_data(frame(b""))


def test_events_before_a_bad_frame_are_kept() -> None:
    server = ready_server()
    good = encode(SendMessage(1, 1, "first"))
    with pytest.raises(ProtocolError) as info:
        server.receive_data(good + frame(b"\xc1"))
    assert info.value.pending_events == [SendMessage(1, 1, "first")]
    assert server.state is State.CLOSED


def test_connection_level_error_closes_the_client_side() -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.server_sends(Error(None, "bad_frame", "nope"))
    assert pair.client.state is State.CLOSED


@pytest.mark.parametrize(
    "make",
    [
        lambda: CreateGroup(1, " padded", "pw", "A"),
        lambda: CreateGroup(1, "team", "", "A"),
        lambda: CreateGroup(1, "team", "x" * 257, "A"),
        lambda: JoinGroup(1, 1, "pw", "Ev\u202eil"),
        lambda: JoinGroup(1, 1, "pw", "x" * 33),
        lambda: JoinGroup(1, 2**53, "pw", "A"),
        lambda: SendMessage(1, 1, "   "),
        lambda: SendMessage(1, 1, "x", "bad id with \x00"),
        lambda: SendMessage(1, 1, "x", "x" * 65),
        lambda: FetchHistory(1, 1, 10, limit=0),
        lambda: FetchHistory(1, 1, 10, limit=101),
        lambda: HistoryPage(1, 1, ((1, 2, "a"),), False),  # type: ignore[arg-type]
    ],
)
def test_invalid_fields_are_refused_on_construction(make: object) -> None:
    with pytest.raises(InvalidField):
        make()  # type: ignore[operator]


def test_names_are_normalised_to_nfc() -> None:
    decomposed = "Zoe\u0301"
    assert JoinGroup(1, 1, "pw", decomposed).name == "Zo\u00e9"


def test_passwords_and_resume_tokens_never_appear_in_repr() -> None:
    assert "hunter2" not in repr(CreateGroup(1, "team", "hunter2", "Alice"))
    assert "hunter2" not in repr(JoinGroup(1, 1, "hunter2", "Alice"))
    assert "s3cr3t" not in repr(JoinGroup(1, 1, None, "Alice", resume_token="s3cr3t"))
    assert "s3cr3t" not in repr(GroupCreated(1, 1, "team", "Alice", "s3cr3t"))
    assert "s3cr3t" not in repr(GroupJoined(1, 1, "team", "Alice", ("Alice",), 0, "s3cr3t"))


def test_shared_imports_no_io_modules() -> None:
    code = (
        "import sys, shared; "
        "bad = {'socket', 'selectors', 'asyncio', 'textual', 'chat_server', 'chat_tui'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ALL_EVENT_TYPES: list[type[Event]] = sorted({*CLIENT_EVENTS, *SERVER_EVENTS}, key=lambda cls: cls.TYPE)


@pytest.mark.parametrize("cls", ALL_EVENT_TYPES, ids=lambda cls: cls.TYPE)
def test_every_field_of_every_frame_has_a_check(cls: type[Event]) -> None:
    assert {f.name for f in dataclasses.fields(cls)} == set(cls.CHECKS)


def test_encode_fields_matches_encode() -> None:
    from shared.codec import encode_fields

    posted = MessagePosted(3, 7, 1795665680029, "Alice", "hi")
    assert encode_fields(MessagePosted, 3, 7, 1795665680029, "Alice", "hi") == encode(posted)
    assert encode_fields(MessageAccepted, 1, 3, 7, 99) == encode(MessageAccepted(1, 3, 7, 99))
