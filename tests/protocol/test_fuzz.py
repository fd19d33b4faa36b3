"""h11's invariant: any bytes, whole or one at a time, give events or a ProtocolError, nothing else."""

from __future__ import annotations

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import (
    Connection,
    CreateGroup,
    Event,
    FetchHistory,
    Hello,
    JoinGroup,
    LeaveGroup,
    Ping,
    Pong,
    ProtocolError,
    Role,
    SendMessage,
    encode,
)
from tests.helpers import ConnectionPair

_MSGPACK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=50)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
_FIELD_NAMES = st.sampled_from(
    [
        "type",
        "id",
        "group_id",
        "text",
        "name",
        "password",
        "group_name",
        "nonce",
        "version",
        "client",
        "members",
    ]
)
_TYPES = st.sampled_from(
    [
        "hello",
        "create_group",
        "join_group",
        "leave_group",
        "send_message",
        "ping",
        "pong",
        "welcome",
        "error",
        "message_posted",
    ]
)
_PLAUSIBLE_MAPS = st.builds(
    lambda t, rest: {"type": t, **rest}, _TYPES, st.dictionaries(_FIELD_NAMES, _MSGPACK_VALUES, max_size=5)
)


def _feed(conn: Connection, chunks: list[bytes]) -> list[Event]:
    received: list[Event] = []
    for chunk in chunks:
        try:
            received += conn.receive_data(chunk)
        except ProtocolError:
            return received
    return received


def _ready(role: Role) -> Connection:
    pair = ConnectionPair()
    pair.handshake()
    return pair.server if role is Role.SERVER else pair.client


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_any_bytes_give_events_or_a_protocol_error(data: bytes, bytewise: bool) -> None:
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for conn in (Connection(Role.SERVER), _ready(Role.SERVER), _ready(Role.CLIENT)):
        _feed(conn, chunks)


@settings(max_examples=3000, deadline=None)
@given(_PLAUSIBLE_MAPS, st.booleans())
def test_plausible_maps_give_events_or_a_protocol_error(wire: dict[str, object], bytewise: bool) -> None:
    body = msgpack.packb(wire, use_bin_type=True)
    data = len(body).to_bytes(4, "big") + body
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for conn in (Connection(Role.SERVER), _ready(Role.SERVER), _ready(Role.CLIENT)):
        for event in _feed(conn, chunks):
            assert encode(event)  # whatever was accepted is valid enough to send back out


_CLIENT_EVENTS = st.one_of(
    st.builds(Hello, st.integers(0, 5), st.integers(0, 3)),
    st.builds(CreateGroup, st.integers(0, 5), st.just("team"), st.just("pw"), st.just("Al")),
    st.builds(JoinGroup, st.integers(0, 5), st.integers(0, 3), st.just("pw"), st.just("Bo")),
    st.builds(LeaveGroup, st.integers(0, 5), st.integers(0, 3)),
    st.builds(
        SendMessage,
        st.integers(0, 5),
        st.integers(0, 3),
        st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=5).filter(str.strip),
    ),
    st.builds(FetchHistory, st.integers(0, 5), st.integers(0, 3), st.integers(0, 9)),
    st.builds(Ping, st.integers(0, 9)),
    st.builds(Pong, st.integers(0, 9)),
)


@settings(max_examples=4000, deadline=None)
@given(st.lists(_CLIENT_EVENTS, max_size=8), st.integers(1, 7))
def test_any_sequence_of_client_events_follows_the_state_table(sequence: list[Event], chunk: int) -> None:
    """Whatever order a client sends frames in, the server side yields them in order or stops with a
    ProtocolError at the first one its state forbids; nothing else, and never an event after the error."""
    server = Connection(Role.SERVER)
    data = b"".join(encode(event) for event in sequence)
    received: list[Event] = []
    failed = False
    for i in range(0, len(data), chunk):
        try:
            received += server.receive_data(data[i : i + chunk])
        except ProtocolError as exc:
            received += [e for e in exc.pending_events if isinstance(e, Event)]
            failed = True
            break
    assert received == sequence[: len(received)]
    if not failed:
        assert received == sequence
    if sequence and received:
        assert isinstance(received[0], Hello)  # nothing is accepted before the handshake
    assert all(not isinstance(e, Hello) for e in received[1:])  # and hello only once
