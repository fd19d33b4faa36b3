"""The decoder's body rules (PROTOCOL.md section 1) and which error wins when a frame breaks several (section 3)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import (
    PROTOCOL_VERSION,
    Connection,
    FrameTooLarge,
    Hello,
    InvalidField,
    MalformedFrame,
    ProtocolError,
    Role,
    UnexpectedEvent,
    VersionMismatch,
    codec,
    encode,
)
from shared.codec import MAX_MAP_KEYS
from tests.helpers import ConnectionPair


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def pack(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def raw_map(*pairs: tuple[bytes, bytes]) -> bytes:
    """A msgpack map from already packed keys and values: any key type, duplicates allowed."""
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(key + value for key, value in pairs)


def ready_server() -> Connection:
    pair = ConnectionPair()
    pair.handshake()
    return pair.server


def refusal(data: bytes, conn: Connection | None = None) -> ProtocolError:
    """The ProtocolError ``data`` raises (fails the test on any other outcome, as h11's invariant wants)."""
    with pytest.raises(ProtocolError) as info:
        (conn or ready_server()).receive_data(data)
    return info.value


# --- item 1: the 29-byte frame that killed the server, and its family ---------------------------------------------


def test_bin_key_frame_from_issue_8_is_bad_frame_not_type_error() -> None:
    """Issue 8 item 1: a bin key beside str keys made ``from_wire`` sort mixed types (TypeError)."""
    data = frame(pack({"type": "ping", "nonce": 1, b"": 0, "zz": 0}))
    assert len(data) == 29
    error = refusal(data)
    assert isinstance(error, MalformedFrame)
    assert error.code == "bad_frame"


def test_bin_key_frame_is_refused_before_hello_too() -> None:
    data = frame(pack({"type": "hello", "id": 1, "version": 1, b"": 0, "zz": 0}))
    assert refusal(data, Connection(Role.SERVER)).code == "bad_frame"


@pytest.mark.parametrize(
    "key",
    [pack(1), pack(-1), pack(2**64 - 1), pack(1.5), pack(True), pack(None), pack(b""), pack(b"type"), pack([1])],
    ids=["int", "negative", "uint64", "float", "bool", "nil", "empty-bin", "bin", "array"],
)
def test_every_non_str_key_is_bad_frame(key: bytes) -> None:
    body = raw_map((pack("type"), pack("ping")), (pack("nonce"), pack(1)), (key, pack(0)))
    assert refusal(frame(body)).code == "bad_frame"


def test_map_key_is_bad_frame() -> None:
    body = raw_map((pack("type"), pack("ping")), (pack({"a": 1}), pack(0)))
    assert refusal(frame(body)).code == "bad_frame"


@pytest.mark.parametrize("duplicate", ["type", "nonce"])
def test_duplicate_keys_are_bad_frame(duplicate: str) -> None:
    pairs = [(pack("type"), pack("ping")), (pack("nonce"), pack(1)), (pack(duplicate), pack("pong"))]
    error = refusal(frame(raw_map(*pairs)))
    assert error.code == "bad_frame"
    assert "duplicate" in error.message


def test_duplicate_keys_in_a_nested_map_are_bad_frame() -> None:
    inner = raw_map((pack("a"), pack(1)), (pack("a"), pack(2)))
    assert refusal(frame(raw_map((pack("type"), pack("ping")), (pack("nonce"), inner)))).code == "bad_frame"


@pytest.mark.parametrize(
    "value",
    [
        pack(b""),  # an empty bin passes max_bin_len=0: it must still be refused
        pack(b"x"),
        pack(msgpack.ExtType(1, b"")),
        pack(msgpack.ExtType(1, b"x")),
        b"\xc7\x00\xff",  # ext 8 of length 0 with type -1 (the timestamp type): an impossible timestamp
        b"\xd4\x80\x00",  # fixext 1 of type -128
        pack(msgpack.Timestamp(0, 0)),
        pack(msgpack.Timestamp(2**34, 999_999_999)),
    ],
    ids=["empty-bin", "bin", "empty-ext", "ext", "empty-timestamp", "negative-ext", "timestamp32", "timestamp96"],
)
@pytest.mark.parametrize("where", ["value", "in-array"])
def test_bin_and_ext_values_are_bad_frame_anywhere(value: bytes, where: str) -> None:
    if where == "value":
        body = raw_map((pack("type"), pack("send_message")), (pack("text"), value))
    else:  # a client may receive arrays: check them on the client side, inside group_joined.members
        body = raw_map((pack("type"), pack("member_list")), (pack("members"), b"\x91" + value))
    pair = ConnectionPair()
    pair.handshake()
    conn = pair.server if where == "value" else pair.client
    assert refusal(frame(body), conn).code == "bad_frame"


def test_too_many_keys_is_bad_frame() -> None:
    wire = {"type": "ping", "nonce": 1} | {f"k{i}": i for i in range(MAX_MAP_KEYS - 1)}
    assert len(wire) == MAX_MAP_KEYS + 1
    assert refusal(frame(pack(wire))).code == "bad_frame"


def test_the_largest_frame_has_exactly_max_map_keys() -> None:
    from shared import GroupJoined
    from shared.codec import to_wire

    assert len(to_wire(GroupJoined(1, 1, "g", "a", ("a",)))) == MAX_MAP_KEYS == 9


# --- the code for L = 0 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ready", [False, True], ids=["before-hello", "ready"])
def test_zero_length_frame_is_bad_frame(ready: bool) -> None:
    conn = ready_server() if ready else Connection(Role.SERVER)
    error = refusal(b"\x00\x00\x00\x00", conn)
    assert isinstance(error, MalformedFrame)
    assert error.code == "bad_frame"


# --- which error wins: header length, msgpack, map shape, type, state, fields -----------------------------------------


def test_length_beats_everything_in_the_body() -> None:
    """The length is judged from the 4 header bytes alone, before any body byte exists."""
    error = refusal(struct.pack(">I", 1025) + b"\xc1" * 1025, Connection(Role.SERVER))
    assert isinstance(error, FrameTooLarge)
    assert error.code == "frame_too_large"


def test_msgpack_validity_beats_state() -> None:
    assert refusal(frame(b"\xc1"), Connection(Role.SERVER)).code == "bad_frame"


def test_map_shape_beats_state() -> None:
    """A duplicate key in a frame the state forbids is still bad_frame, not unexpected."""
    body = raw_map((pack("type"), pack("send_message")), (pack("id"), pack(1)), (pack("id"), pack(2)))
    assert refusal(frame(body), Connection(Role.SERVER)).code == "bad_frame"


def test_array_over_16_in_a_client_frame_is_bad_frame_at_the_server() -> None:
    """The only client array is hello's features (at most 16): a longer one is refused before building."""
    body = pack({"type": "send_message", "id": 1, "group_id": [1] * 17, "text": "x"})
    assert refusal(frame(body)).code == "bad_frame"


def test_short_array_in_the_wrong_client_field_is_bad_request() -> None:
    body = pack({"type": "send_message", "id": 1, "group_id": [1], "text": "x"})
    assert refusal(frame(body)).code == "bad_request"


def test_unknown_type_beats_state() -> None:
    assert refusal(frame(pack({"type": "nope"})), Connection(Role.SERVER)).code == "bad_frame"


def test_state_beats_fields() -> None:
    """A frame the state forbids is refused as unexpected without looking at its fields."""
    body = pack({"type": "send_message", "id": -1, "text": ""})  # bad id, missing group_id, blank text
    error = refusal(frame(body), Connection(Role.SERVER))
    assert isinstance(error, UnexpectedEvent)
    assert error.code == "unexpected"


def test_server_only_frame_with_bad_fields_is_unexpected() -> None:
    assert refusal(frame(pack({"type": "member_joined", "zzz": 1}))).code == "unexpected"


def test_fields_beat_version() -> None:
    body = pack({"type": "hello", "id": 1, "version": PROTOCOL_VERSION + 1, "client": 7})
    assert refusal(frame(body), Connection(Role.SERVER)).code == "bad_request"


def test_version_is_judged_after_the_fields() -> None:
    error = refusal(encode(Hello(1, PROTOCOL_VERSION + 1, "x")), Connection(Role.SERVER))
    assert isinstance(error, VersionMismatch)


def test_missing_field_is_reported_before_an_unknown_one() -> None:
    error = refusal(frame(pack({"type": "send_message", "id": 1, "text": "x", "zz": 1})))
    assert isinstance(error, InvalidField)
    assert "missing field 'group_id'" in error.message


def test_unknown_field_is_reported_before_bad_values() -> None:
    error = refusal(frame(pack({"type": "send_message", "id": -1, "group_id": 1, "text": "", "zz": 1})))
    assert "unknown field 'zz'" in error.message


def test_fields_are_checked_in_the_order_listed() -> None:
    error = refusal(frame(pack({"text": "", "group_id": "x", "id": -1, "type": "send_message"})))
    assert "id must be" in error.message  # id comes first in section 5, whatever the map's order
    error = refusal(frame(pack({"text": "", "group_id": "x", "id": 1, "type": "send_message"})))
    assert "group_id must be" in error.message


def test_cross_field_rule_comes_after_every_field() -> None:
    """join_group with both password and resume_token, and a bad name: the name is reported."""
    body = pack({"type": "join_group", "id": 1, "group_id": 1, "password": "pw", "name": "", "resume_token": "t"})
    assert "name must be" in refusal(frame(body)).message
    body = pack({"type": "join_group", "id": 1, "group_id": 1, "password": "pw", "name": "B", "resume_token": "t"})
    assert "exactly one of password and resume_token" in refusal(frame(body)).message


def test_events_before_the_bad_frame_survive_any_refusal() -> None:
    server = Connection(Role.SERVER)
    hello = encode(Hello(1, PROTOCOL_VERSION))
    error = refusal(hello + frame(pack({"type": "ping", "nonce": 1, b"": 0})), server)
    assert error.pending_events == [Hello(1, PROTOCOL_VERSION)]


# --- issue 11: the fast path for flat maps decides exactly as the careful path ---------------------------------------

_KEY_BYTES = st.sampled_from([pack(k) for k in ("type", "id", "nonce", "text", "x")] + [b"\xc4\x01k", b"\x01", b"\x80"])
_VALUE_BYTES = st.one_of(
    st.sampled_from([b"\xc0", b"\xc2", b"\xc3", b"\xc4\x00", b"\xd4\x01\x00", b"\x90", b"\x91\x01", b"\x81\xa1k\x01"]),
    st.integers(-(2**63), 2**64 - 1).map(pack),
    st.text(max_size=5).map(pack),
    st.floats(allow_nan=False).map(pack),
)


def _outcome(decode: Callable[[], object]) -> tuple[object, ...]:
    try:
        return ("ok", decode())
    except ProtocolError as exc:
        return (type(exc), exc.message)


@settings(max_examples=500)
@given(st.lists(st.tuples(_KEY_BYTES, _VALUE_BYTES), max_size=12), st.sampled_from([0, 64]))
def test_the_fast_path_decodes_as_the_careful_one(pairs: list[tuple[bytes, bytes]], max_array_len: int) -> None:
    """Maps with duplicate keys, bin/ext/array/map values, non-str keys or too many keys are judged the same."""
    body = raw_map(*pairs)
    expected = _outcome(lambda: codec._unpack_checked(body, max_array_len))
    assert _outcome(lambda: codec.unpack(body, max_array_len)) == expected
