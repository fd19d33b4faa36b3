"""Events <-> msgpack maps. The only module that knows the wire dictionaries and their ``type`` key."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack

from shared import events
from shared.errors import InvalidField, MalformedFrame, ProtocolError
from shared.framing import frame

_WIRE_NAME = {"request_id": "id"}  # attribute -> wire key; every other field keeps its name
_BY_TYPE: dict[str, type[events.Event]] = {cls.TYPE: cls for cls in (*events.CLIENT_EVENTS, *events.SERVER_EVENTS)}
_MAX_MAP_KEYS = 8  # no frame has more fields; refusing more bounds hostile maps early
_MAX_DEPTH = 4  # frame map -> messages array -> entry array -> value; anything deeper is not ours


def _fields(cls: type[events.Event]) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


_FIELDS = {type_: _fields(cls) for type_, cls in _BY_TYPE.items()}


def to_wire(event: events.Event) -> dict[str, Any]:
    """The msgpack map for ``event``."""
    wire: dict[str, Any] = {"type": event.TYPE}
    for field in _FIELDS[event.TYPE]:
        value = getattr(event, field.name)
        wire[_WIRE_NAME.get(field.name, field.name)] = list(value) if isinstance(value, tuple) else value
    return wire


def encode(event: events.Event) -> bytes:
    """One complete frame (length prefix and body) for ``event``."""
    return frame(msgpack.packb(to_wire(event), use_bin_type=True))


def _depth(value: object, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _unpack(body: bytes) -> dict[str, Any]:
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
        )
    except Exception as exc:  # msgpack raises many types (ValueError, ExtraData, StackError, ...)
        raise MalformedFrame(f"frame is not valid msgpack: {type(exc).__name__}") from None
    if not isinstance(value, dict):
        raise MalformedFrame("frame body must be a msgpack map")
    if _depth(value) > _MAX_DEPTH:
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
    known = {"type"}
    for field in _FIELDS[cls.TYPE]:
        key = _WIRE_NAME.get(field.name, field.name)
        known.add(key)
        if key in wire:
            value = wire[key]
            kwargs[field.name] = tuple(value) if isinstance(value, list) else value
        elif field.default is dataclasses.MISSING:
            raise InvalidField(f"{cls.TYPE}: missing field {key!r}")
    unknown = set(wire) - known
    if unknown:
        raise InvalidField(f"{cls.TYPE}: unknown field {sorted(unknown)[0][:40]!r}")
    try:
        return cls(**kwargs)
    except ProtocolError as exc:
        raise InvalidField(f"{cls.TYPE}: {exc.message}") from None


def decode(body: bytes) -> events.Event:
    """The event in one frame body."""
    return from_wire(_unpack(body))
