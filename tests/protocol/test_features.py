"""Optional features on the wire (PROTOCOL.md §9): new fields stay off the wire unless used."""

from __future__ import annotations

import msgpack
import pytest

from shared import FEATURES, Hello, InvalidField, MessagePosted, SendMessage, Welcome, encode, limits
from shared.codec import encode_fields, from_wire


def _keys(frame: bytes) -> set[str]:
    return set(msgpack.unpackb(frame[4:]))


def test_new_fields_are_left_out_at_their_default() -> None:
    assert "features" not in _keys(encode(Hello(1, 1, "old")))
    assert "features" not in _keys(encode(Welcome(1, 1, "s", 65536)))
    assert "action" not in _keys(encode(SendMessage(1, 1, "hi")))
    assert "action" not in _keys(encode(MessagePosted(1, 1, 1, "Bob", "hi")))
    assert "action" in _keys(encode(MessagePosted(1, 1, 1, "Bob", "waves", True)))
    assert encode_fields(MessagePosted, 1, 1, 1, "Bob", "hi") == encode(MessagePosted(1, 1, 1, "Bob", "hi"))
    assert encode_fields(MessagePosted, 1, 1, 1, "Bob", "waves", True) == encode(
        MessagePosted(1, 1, 1, "Bob", "waves", True)
    )


def test_feature_names_are_checked_and_unknown_ones_kept() -> None:
    hello = from_wire({"type": "hello", "id": 1, "version": 1, "features": ["typing", "future_thing", "typing"]})
    assert isinstance(hello, Hello)
    assert hello.features == ("typing", "future_thing")
    for bad in (["Typing"], [""], ["x" * 33], "typing", ["a"] * (limits.MAX_FEATURES + 1)):
        with pytest.raises(InvalidField):
            from_wire({"type": "hello", "id": 1, "version": 1, "features": bad})
    assert all(name.isalpha() for name in FEATURES)
