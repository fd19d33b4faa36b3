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
_MAX_MAP_KEYS = 8  # no frame has more fields; refusing more bounds hostile maps early
_MAX_DEPTH = 4  # frame map -> messages array -> entry array -> value; anything deeper is not ours


# Per frame type, (attribute, wire key) pairs: computed once, so encoding is a dict build and one packb.
_WIRE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    type_: tuple((f.name, _WIRE_NAME.get(f.name, f.name)) for f in dataclasses.fields(cls))
    for type_, cls in _BY_TYPE.items()
}
_DEFAULTS: dict[str, frozenset[str]] = {
    type_: frozenset(f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING)
    for type_, cls in _BY_TYPE.items()
}
_KEYS = {type_: frozenset(key for _, key in pairs) | {"type"} for type_, pairs in _WIRE_FIELDS.items()}


def to_wire(event: events.Event) -> dict[str, Any]:
    """The msgpack map for ``event`` (tuples are packed as msgpack arrays)."""
    wire: dict[str, Any] = {"type": event.TYPE}
    for attribute, key in _WIRE_FIELDS[event.TYPE]:
        wire[key] = getattr(event, attribute)
    return wire


def encode(event: events.Event) -> bytes:
    """One complete frame (length prefix and body) for ``event``."""
    return frame(msgpack.packb(to_wire(event), use_bin_type=True))


def encode_fields(cls: type[events.Event], *values: object) -> bytes:
    """The frame ``encode(cls(*values))`` would give, without building or re-checking the event.

    For a server relaying values it already checked (a stored message, its acknowledgement): on
    that path, building and re-validating an event per message costs more than everything else.
    Never use it for anything read off the wire.
    """
    wire: dict[str, object] = {"type": cls.TYPE}
    for (_, key), value in zip(_WIRE_FIELDS[cls.TYPE], values, strict=True):
        wire[key] = value
    return frame(msgpack.packb(wire, use_bin_type=True))


def _too_deep(container: dict[str, Any] | list[Any], levels_left: int) -> bool:
    """Whether containers nest more than ``levels_left`` further levels below ``container``."""
    for value in container.values() if isinstance(container, dict) else container:
        if isinstance(value, (list, dict)) and (levels_left == 0 or _too_deep(value, levels_left - 1)):
            return True
    return False


def _unpack(body: bytes, max_array_len: int) -> dict[str, Any]:
    try:
        # One unpackb per frame: every inner length is bounded by the body, trailing bytes raise.
        value = msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_bin_len=0,
            max_ext_len=0,
            max_map_len=_MAX_MAP_KEYS,
            max_array_len=max_array_len,
        )
    except Exception as exc:  # msgpack raises many types (ValueError, ExtraData, StackError, ...)
        raise MalformedFrame(f"frame is not valid msgpack: {type(exc).__name__}") from None
    if not isinstance(value, dict):
        raise MalformedFrame("frame body must be a msgpack map")
    if _too_deep(value, _MAX_DEPTH - 2):  # the frame map and the scalars at the bottom take two levels
        raise MalformedFrame("frame is nested too deeply")
    return value


def from_wire(wire: dict[str, Any]) -> events.Event:
    """The event for a decoded map.

    Raises:
        MalformedFrame: no ``type`` or an unknown one.
        InvalidField: a field is missing, unknown, of the wrong type or out of range.
    """
    type_ = wire.get("type")
    cls = _BY_TYPE.get(type_) if isinstance(type_, str) else None
    if cls is None:
        raise MalformedFrame(f"unknown frame type {str(type_)[:40]!r}")
    kwargs: dict[str, Any] = {}
    optional = _DEFAULTS[cls.TYPE]
    for attribute, key in _WIRE_FIELDS[cls.TYPE]:
        if key in wire:
            value = wire[key]
            kwargs[attribute] = tuple(value) if isinstance(value, list) else value
        elif attribute not in optional:
            raise InvalidField(f"{cls.TYPE}: missing field {key!r}")
    unknown = wire.keys() - _KEYS[cls.TYPE]
    if unknown:
        raise InvalidField(f"{cls.TYPE}: unknown field {sorted(unknown)[0][:40]!r}")
    try:
        return cls(**kwargs)
    except ProtocolError as exc:
        raise InvalidField(f"{cls.TYPE}: {exc.message}") from None


def decode(body: bytes, max_array_len: int = limits.MAX_MEMBERS_IN_FRAME) -> events.Event:
    """The event in one frame body; ``max_array_len`` bounds every array in it (0: no arrays at all)."""
    return from_wire(_unpack(body, max_array_len))
