"""Events <-> msgpack maps. The only module that knows the wire dictionaries and their ``type`` key."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack

from shared import events, limits
from shared.errors import InvalidField, MalformedFrame, ProtocolError
from shared.framing import frame

_WIRE_NAME = {"request_id": "id"}  # attribute -> wire key; every other field keeps its name
_BY_TYPE: dict[str, type[events.Event]] = {cls.TYPE: cls for cls in (*events.CLIENT_EVENTS, *events.SERVER_EVENTS)}
_MAX_DEPTH = 4  # frame map -> messages array -> entry array -> value; anything deeper is not ours


# Per frame type, (attribute, wire key) pairs: computed once, so encoding is a dict build and one packb.
_WIRE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    type_: tuple((f.name, _WIRE_NAME.get(f.name, f.name)) for f in dataclasses.fields(cls))
    for type_, cls in _BY_TYPE.items()
}
_KEYS = {type_: frozenset(key for _, key in pairs) | {"type"} for type_, pairs in _WIRE_FIELDS.items()}
_REQUIRED = object()  # a field the wire map must hold


def _when_absent(cls: type[events.Event], f: dataclasses.Field[Any]) -> object:
    if f.name in cls.NIL_WHEN_ABSENT:
        return None
    return _REQUIRED if f.default is dataclasses.MISSING else f.default


# Per frame type, (wire key, value when absent) in the dataclass's field order: build() passes the
# values positionally (a keyword call of a dataclass costs half as much again; build is on every request).
_PLAN: dict[str, tuple[tuple[str, object], ...]] = {
    type_: tuple((_WIRE_NAME.get(f.name, f.name), _when_absent(cls, f)) for f in dataclasses.fields(cls))
    for type_, cls in _BY_TYPE.items()
}
# No frame has more keys than this (group_joined: type and 8 fields); refusing more bounds hostile maps early.
MAX_MAP_KEYS = max(len(keys) for keys in _KEYS.values())
assert MAX_MAP_KEYS <= 15  # every frame map fits a msgpack fixmap header (encode_fields relies on it)


# One Packer for every frame: ``msgpack.packb`` builds a new Packer on each call, which costs more than
# packing a small frame. Packing ints and strs holds the GIL throughout, so threads can share it.
_pack = msgpack.Packer(use_bin_type=True).pack


# Per frame type, the fields left out while they hold their default (Event.OMIT_WHEN_DEFAULT).
_OMITTED: dict[str, dict[str, object]] = {
    type_: {f.name: f.default for f in dataclasses.fields(cls) if f.name in cls.OMIT_WHEN_DEFAULT}
    for type_, cls in _BY_TYPE.items()
}


def to_wire(event: events.Event) -> dict[str, Any]:
    """The msgpack map for ``event`` (tuples are packed as msgpack arrays)."""
    wire: dict[str, Any] = {"type": event.TYPE}
    omitted = _OMITTED[event.TYPE]
    for attribute, key in _WIRE_FIELDS[event.TYPE]:
        value = getattr(event, attribute)
        if omitted and attribute in omitted and value == omitted[attribute]:
            continue
        wire[key] = value
    return wire


def encode(event: events.Event) -> bytes:
    """One complete frame (length prefix and body) for ``event``."""
    return frame(_pack(to_wire(event)))


# Per frame type, the bytes that never change: the map header with ``type`` and its value, and each
# field's packed key. encode_fields() only packs the values between them.
_HEADS: dict[str, tuple[bytes, tuple[bytes, ...]]] = {
    type_: (_pack("type") + _pack(type_), tuple(_pack(key) for _, key in pairs))
    for type_, pairs in _WIRE_FIELDS.items()
}
_FIXMAP_HEADERS = tuple(bytes([0x80 | pairs]) for pairs in range(16))
# How many trailing fields encode_fields may leave out: those in OMIT_WHEN_DEFAULT, at the end.
_OMITTABLE_TAIL: dict[str, int] = {
    type_: len(pairs) - next((i + 1 for i in range(len(pairs) - 1, -1, -1) if pairs[i][0] not in _OMITTED[type_]), 0)
    for type_, pairs in _WIRE_FIELDS.items()
}


def encode_fields(cls: type[events.Event], *values: object) -> bytes:
    """The frame ``encode(cls(*values))`` would give, without building or re-checking the event.

    For a server relaying values it already checked (a stored message, its acknowledgement): on
    that path, building and re-validating an event per message costs more than everything else.
    Trailing fields in ``OMIT_WHEN_DEFAULT`` may be left out of ``values`` (and so of the frame).
    Never use it for anything read off the wire.
    """
    head, keys = _HEADS[cls.TYPE]
    if not len(keys) - _OMITTABLE_TAIL[cls.TYPE] <= len(values) <= len(keys):
        raise TypeError(f"{cls.TYPE} has {len(keys)} fields, not {len(values)}")
    # A fixmap header (0x80 | pairs): no frame has more than 15 keys (MAX_MAP_KEYS).
    parts = [_FIXMAP_HEADERS[len(values) + 1], head]
    for key, value in zip(keys, values, strict=False):
        parts.append(key)
        parts.append(_pack(value))
    return frame(b"".join(parts))


def _too_deep(container: dict[str, Any] | list[Any], levels_left: int) -> bool:
    """Whether containers nest more than ``levels_left`` further levels below ``container``."""
    for value in container.values() if isinstance(container, dict) else container:
        if isinstance(value, (list, dict)) and (levels_left == 0 or _too_deep(value, levels_left - 1)):
            return True
    return False


# Values no frame ever holds. ``max_bin_len=0`` still lets an empty bin through and ``strict_map_key``
# still admits bin keys, so the hooks below look at every key and value msgpack builds.
_FOREIGN = (bytes, msgpack.ExtType, msgpack.Timestamp)


def _refuse_ext(code: int, _data: bytes) -> object:
    raise MalformedFrame(f"frame holds an ext value (type {code})")


def _checked_map(pairs: list[tuple[object, object]]) -> dict[str, object]:
    """Every msgpack map, as msgpack builds it: str keys only, each once, no bin or ext values."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if type(key) is not str:
            raise MalformedFrame(f"map key of type {type(key).__name__}; keys must be strings")
        if key in result:
            raise MalformedFrame(f"duplicate map key {key[:40]!r}")
        if isinstance(value, _FOREIGN):
            raise MalformedFrame(f"field {key[:40]!r} holds a bin or ext value")
        result[key] = value
    return result


def _checked_array(items: list[object]) -> list[object]:
    if any(isinstance(item, _FOREIGN) for item in items):
        raise MalformedFrame("an array holds a bin or ext value")
    return items


def _map_length(body: bytes) -> int:
    """The number of pairs the map header at the start of ``body`` announces (-1: no map header)."""
    first = body[0]
    if 0x80 <= first <= 0x8F:  # fixmap
        return first & 0x0F
    if first == 0xDE:  # map 16
        return int.from_bytes(body[1:3], "big")
    if first == 0xDF:  # map 32
        return int.from_bytes(body[1:5], "big")
    return -1


# Values a flat frame map may hold without a closer look (arrays and maps go the careful way).
_SCALARS = frozenset({str, int, bool, float, type(None)})
_STR = frozenset({str})


def unpack(body: bytes, max_array_len: int = limits.MAX_MEMBERS_IN_FRAME) -> dict[str, Any]:
    """The map in one frame body, checked for shape only (the body rules of PROTOCOL.md section 1).

    Raises:
        MalformedFrame: anything but one map of str keys, each once, at most MAX_MAP_KEYS, nested at
            most _MAX_DEPTH levels, with no bin or ext value and no trailing bytes.
    """
    # Fast path for the frames nearly every request is: one flat map of str keys and scalar values.
    # It is decoded without per-map Python hooks (they cost 4x the decoding itself); a duplicate key,
    # which a plain dict would hide, shows as fewer keys than the header announced. Anything else, an
    # error included, is decoded again the careful way below, which says exactly what is wrong.
    try:
        value = msgpack.unpackb(
            body, raw=False, strict_map_key=True, max_bin_len=0, max_ext_len=0, max_map_len=MAX_MAP_KEYS,
            max_array_len=0,
        )  # fmt: skip
    except Exception:  # the careful path below raises the right error
        pass
    else:
        if (
            type(value) is dict
            and _STR.issuperset(map(type, value))  # set checks over map(): no Python-level loop
            and _SCALARS.issuperset(map(type, value.values()))
            and len(value) == _map_length(body)
        ):
            return value
    return _unpack_checked(body, max_array_len)


def _unpack_checked(body: bytes, max_array_len: int) -> dict[str, Any]:
    try:
        # One unpackb per frame: every inner length is bounded by the body, trailing bytes raise.
        value = msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            use_list=True,
            object_pairs_hook=_checked_map,
            list_hook=_checked_array,
            ext_hook=_refuse_ext,
            max_bin_len=0,
            max_ext_len=0,
            max_map_len=MAX_MAP_KEYS,
            max_array_len=max_array_len,
        )
    except MalformedFrame:
        raise
    except Exception as exc:  # msgpack raises many types (ValueError, ExtraData, StackError, ...)
        raise MalformedFrame(f"frame is not valid msgpack or breaks a body rule: {exc}"[:200]) from None
    if not isinstance(value, dict):
        raise MalformedFrame("frame body must be a msgpack map")
    if _too_deep(value, _MAX_DEPTH - 2):  # the frame map and the scalars at the bottom take two levels
        raise MalformedFrame("frame is nested too deeply")
    return value


def frame_class(wire: dict[str, Any]) -> type[events.Event]:
    """The event class a decoded map names in its ``type``.

    Raises:
        MalformedFrame: no ``type`` or an unknown one.
    """
    type_ = wire.get("type")
    cls = _BY_TYPE.get(type_) if isinstance(type_, str) else None
    if cls is None:
        raise MalformedFrame(f"unknown frame type {str(type_)[:40]!r}")
    return cls


def build(cls: type[events.Event], wire: dict[str, Any]) -> events.Event:
    """The ``cls`` event for a decoded map whose ``type`` names ``cls``.

    Checks, in this order: every required field is present (in the order listed), no unknown key,
    each field's rule (in the order listed), then the rules across fields.

    Raises:
        InvalidField: a field is missing, unknown, of the wrong type or out of range.
    """
    values: list[Any] = []
    present = 1  # "type"
    for key, absent in _PLAN[cls.TYPE]:
        value = wire.get(key, _REQUIRED)
        if value is _REQUIRED:
            if absent is _REQUIRED:
                raise InvalidField(f"{cls.TYPE}: missing field {key!r}")
            value = absent
        else:
            present += 1
            if isinstance(value, list):
                value = tuple(value)
        values.append(value)
    if len(wire) != present:  # some key is neither "type" nor a field
        known = _KEYS[cls.TYPE]
        unknown = next(key for key in wire if key not in known)
        raise InvalidField(f"{cls.TYPE}: unknown field {unknown[:40]!r}")
    try:
        return cls(*values)
    except ProtocolError as exc:
        raise InvalidField(f"{cls.TYPE}: {exc.message}") from None


def from_wire(wire: dict[str, Any]) -> events.Event:
    """The event for a decoded map (:func:`frame_class`, then :func:`build`)."""
    return build(frame_class(wire), wire)


def decode(body: bytes, max_array_len: int = limits.MAX_MEMBERS_IN_FRAME) -> events.Event:
    """The event in one frame body; ``max_array_len`` bounds every array in it (0: no arrays at all)."""
    return from_wire(unpack(body, max_array_len))
