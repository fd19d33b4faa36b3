"""What server processes tell each other on the bus (the Redis pub/sub channel ``groupchat:bus``).

Each event is a msgpack array ``[tag, field1, field2, ...]``: compact, and easy to build inside a Lua
script with ``cmsgpack.pack`` (the commit and roster scripts publish from within Redis, so a change
and its news are one atomic step). Anyone who can reach Redis can publish on the channel, so
:func:`decode_event` treats every payload as hostile: anything that is not exactly one known event
gives None, never an exception, and a listener that gets None drops the payload and goes on.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields
from typing import Any, ClassVar

import msgpack

__all__ = [
    "Event",
    "GroupAdded",
    "Joined",
    "Left",
    "MemberRenamed",
    "Posted",
    "Presence",
    "Resync",
    "TypingNews",
    "WireEvent",
    "decode_event",
]

# The biggest payload worth decoding: a message's text is capped far below this by the protocol
# (shared.limits), so anything bigger is not ours and is dropped before msgpack sees it.
MAX_EVENT_BYTES = 1024 * 1024


class _Wire:
    """Mixin for events that travel: ``encode`` packs the tag and then the fields in declared order."""

    __slots__ = ()
    TAG: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # what makes fields() accept self

    def encode(self) -> bytes:
        return msgpack.packb([self.TAG, *(getattr(self, f.name) for f in fields(self))])


@dataclass(frozen=True, slots=True)
class Posted(_Wire):
    """A message stored by process ``origin`` (published by the commit script, in seq order per group)."""

    TAG: ClassVar[str] = "p"
    origin: str
    group_id: int
    seq: int
    ts: int
    sender: str
    text: str
    action: bool


@dataclass(frozen=True, slots=True)
class Joined(_Wire):
    """A member of process ``node`` joined a group (or was registered again after an outage)."""

    TAG: ClassVar[str] = "j"
    node: str
    group_id: int
    client_id: int
    name: str
    away: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Left(_Wire):
    """A member left, disconnected, or vanished with its process (published by the sweep)."""

    TAG: ClassVar[str] = "l"
    node: str
    group_id: int
    client_id: int
    name: str


@dataclass(frozen=True, slots=True)
class MemberRenamed(_Wire):
    TAG: ClassVar[str] = "r"
    node: str
    group_id: int
    client_id: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Presence(_Wire):
    """A member's away flag or reason changed."""

    TAG: ClassVar[str] = "a"
    node: str
    group_id: int
    client_id: int
    name: str
    away: bool
    reason: str


@dataclass(frozen=True, slots=True)
class TypingNews(_Wire):
    TAG: ClassVar[str] = "t"
    node: str
    group_id: int
    name: str


@dataclass(frozen=True, slots=True)
class GroupAdded(_Wire):
    """A group was created (by any process): load it from the store."""

    TAG: ClassVar[str] = "g"
    group_id: int


@dataclass(frozen=True, slots=True)
class Resync:
    """Never on the wire: the listener (re)subscribed, and anything may have been missed before it.

    The receiver reloads groups and members and refills every group's log from the store.
    """


WireEvent = Posted | Joined | Left | MemberRenamed | Presence | TypingNews | GroupAdded
Event = WireEvent | Resync

# Per tag, the class and the exact type of each field. ``type(v) is int`` rather than isinstance,
# because msgpack's true/false arrive as bool, which isinstance would let pass as an int.
_KINDS: dict[str, type] = {"str": str, "int": int, "bool": bool}
_SCHEMAS: dict[str, tuple[type[WireEvent], tuple[type, ...]]] = {
    cls.TAG: (cls, tuple(_KINDS[str(f.type)] for f in fields(cls)))
    for cls in (Posted, Joined, Left, MemberRenamed, Presence, TypingNews, GroupAdded)
}


def decode_event(data: bytes) -> WireEvent | None:
    """The event in one bus payload, or None for anything malformed or foreign. Never raises."""
    if type(data) is not bytes or len(data) > MAX_EVENT_BYTES:
        return None
    try:
        value: Any = msgpack.unpackb(data, raw=False, use_list=True, max_bin_len=0, max_ext_len=0, max_map_len=0)
    except Exception:  # msgpack raises many types (ValueError, ExtraData, StackError, UnicodeDecodeError...)
        return None
    if type(value) is not list or not value or type(value[0]) is not str:
        return None
    schema = _SCHEMAS.get(value[0])
    if schema is None:
        return None
    cls, types = schema
    args = value[1:]
    if len(args) != len(types) or any(type(arg) is not kind for arg, kind in zip(args, types, strict=True)):
        return None
    if any(kind is int and arg < 0 for arg, kind in zip(args, types, strict=True)):
        return None  # ids, seqs and times are never negative
    return cls(*args)
