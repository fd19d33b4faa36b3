"""One frozen dataclass per frame type. Each checks its own fields on construction.

Client requests are imperatives and carry ``request_id`` (``id`` on the wire), chosen by the client;
the server's answer to a request carries the same id. Server notifications are past-tense facts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

from shared import fields, limits
from shared.errors import InvalidField

_SLOTS: dict[type, tuple[Any, ...]] = {}


def _slots(cls: type) -> tuple[Any, ...]:
    """The slot descriptors of a dataclass's fields, in field order (setting through them skips the
    frozen-dataclass __setattr__ guard, which is the point of ``trusted``)."""
    slots = _SLOTS.get(cls)
    if slots is None:
        slots = _SLOTS[cls] = tuple(getattr(cls, f.name) for f in dataclasses.fields(cls))
    return slots


def _normalise(event: object, name: str, value: object) -> None:
    object.__setattr__(event, name, value)


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every frame. ``TYPE`` is the wire ``type`` string."""

    TYPE: ClassVar[str] = ""

    @classmethod
    def trusted(cls, *values: object) -> Self:
        """Build from values already checked (a server relaying stored fields): skips the re-check,
        which costs more than the rest of the hot path. Never use it on anything read off the wire."""
        event = object.__new__(cls)
        for slot, value in zip(_slots(cls), values, strict=True):
            slot.__set__(event, value)
        return event


@dataclass(frozen=True, slots=True)
class Request(Event):
    """A client request; the server answers with a reply carrying the same ``request_id`` or an Error."""

    request_id: int

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)


# --- client -> server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello(Request):
    """First frame of every connection: the protocol version the client speaks."""

    TYPE: ClassVar[str] = "hello"
    version: int
    client: str = ""

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.version, "version", 2**16)
        fields.string(self.client, "client", limits.MAX_CLIENT_LABEL_LENGTH)


@dataclass(frozen=True, slots=True)
class CreateGroup(Request):
    """Create a group; the creator joins it as ``name``."""

    TYPE: ClassVar[str] = "create_group"
    group_name: str
    password: str
    name: str

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _normalise(self, "group_name", fields.group_name(self.group_name))
        fields.password(self.password)
        _normalise(self, "name", fields.display_name(self.name))

    def __repr__(self) -> str:  # never let a password reach a log line through repr()
        return f"CreateGroup(request_id={self.request_id}, group_name={self.group_name!r}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class JoinGroup(Request):
    """Join group ``group_id`` as ``name``, proving knowledge of its password."""

    TYPE: ClassVar[str] = "join_group"
    group_id: int
    password: str
    name: str
    since_seq: int | None = None  # "I have seen up to here": send what came after, not the last N

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.password(self.password)
        _normalise(self, "name", fields.display_name(self.name))
        fields.optional_uint(self.since_seq, "since_seq", limits.MAX_GROUP_ID)

    def __repr__(self) -> str:
        return f"JoinGroup(request_id={self.request_id}, group_id={self.group_id}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class LeaveGroup(Request):
    """Leave a group this connection is a member of."""

    TYPE: ClassVar[str] = "leave_group"
    group_id: int

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)


@dataclass(frozen=True, slots=True)
class SendMessage(Request):
    """Post ``text`` to a group this connection is a member of."""

    TYPE: ClassVar[str] = "send_message"
    group_id: int
    text: str
    client_msg_id: str | None = None  # makes a resend after a reconnect idempotent

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        _normalise(self, "text", fields.message_text(self.text))
        if self.client_msg_id is not None:
            fields.token(self.client_msg_id, "client_msg_id")


@dataclass(frozen=True, slots=True)
class FetchHistory(Request):
    """Ask for up to ``limit`` messages of a group you are in with seq below ``before_seq``, newest last."""

    TYPE: ClassVar[str] = "fetch_history"
    group_id: int
    before_seq: int
    limit: int = limits.MAX_HISTORY_PAGE

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.uint(self.before_seq, "before_seq", limits.MAX_GROUP_ID)
        if not fields.uint(self.limit, "limit", limits.MAX_HISTORY_PAGE) >= 1:
            raise InvalidField(f"limit must be between 1 and {limits.MAX_HISTORY_PAGE}")


# --- either direction -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping(Event):
    """Liveness check; the peer answers with a Pong carrying the same nonce."""

    TYPE: ClassVar[str] = "ping"
    nonce: int

    def __post_init__(self) -> None:
        fields.uint(self.nonce, "nonce", limits.MAX_REQUEST_ID)


@dataclass(frozen=True, slots=True)
class Pong(Event):
    """Answer to a Ping."""

    TYPE: ClassVar[str] = "pong"
    nonce: int

    def __post_init__(self) -> None:
        fields.uint(self.nonce, "nonce", limits.MAX_REQUEST_ID)


# --- server -> client -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome(Event):
    """Answer to Hello: the handshake is complete."""

    TYPE: ClassVar[str] = "welcome"
    request_id: int
    version: int
    server: str
    max_frame_size: int

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.version, "version", 2**16)
        fields.string(self.server, "server", limits.MAX_CLIENT_LABEL_LENGTH)
        fields.uint(self.max_frame_size, "max_frame_size", 2**32 - 1)


@dataclass(frozen=True, slots=True)
class GroupCreated(Event):
    """Answer to CreateGroup: the group exists and the creator is its first member."""

    TYPE: ClassVar[str] = "group_created"
    request_id: int
    group_id: int
    group_name: str
    name: str

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.group_name(self.group_name)
        fields.display_name(self.name)


@dataclass(frozen=True, slots=True)
class GroupJoined(Event):
    """Answer to JoinGroup: you are a member; ``members`` lists everyone, you included."""

    TYPE: ClassVar[str] = "group_joined"
    request_id: int
    group_id: int
    group_name: str
    name: str
    members: tuple[str, ...]
    last_seq: int = 0  # the group's newest seq when you joined: replayed history ends here

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.group_name(self.group_name)
        fields.display_name(self.name)
        _normalise(self, "members", fields.name_list(self.members))
        fields.uint(self.last_seq, "last_seq", limits.MAX_GROUP_ID)


class HistoryEntry(NamedTuple):
    """One stored message, as it travels inside a ``history_page`` (a 4-element array on the wire)."""

    seq: int
    ts: int
    sender: str
    text: str


def _history_entry(value: object) -> HistoryEntry:
    if not isinstance(value, (list, tuple)) or len(value) != len(HistoryEntry._fields):
        raise InvalidField("each history message must be an array [seq, ts, sender, text]")
    seq, ts, sender, text = value
    return HistoryEntry(
        fields.uint(seq, "seq", limits.MAX_GROUP_ID),
        fields.uint(ts, "ts", limits.MAX_GROUP_ID),
        fields.display_name(sender, "sender"),
        fields.message_text(text),
    )


@dataclass(frozen=True, slots=True)
class HistoryPage(Event):
    """Answer to FetchHistory: messages in increasing seq; ``has_more`` if older ones exist."""

    TYPE: ClassVar[str] = "history_page"
    request_id: int
    group_id: int
    messages: tuple[HistoryEntry, ...]
    has_more: bool

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        if not isinstance(self.messages, (list, tuple)) or len(self.messages) > limits.MAX_HISTORY_PAGE:
            raise InvalidField(f"messages must be an array of at most {limits.MAX_HISTORY_PAGE}")
        _normalise(self, "messages", tuple(_history_entry(m) for m in self.messages))
        if type(self.has_more) is not bool:
            raise InvalidField("has_more must be a boolean")


@dataclass(frozen=True, slots=True)
class GroupLeft(Event):
    """Answer to LeaveGroup."""

    TYPE: ClassVar[str] = "group_left"
    request_id: int
    group_id: int

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)


@dataclass(frozen=True, slots=True)
class MessageAccepted(Event):
    """Answer to SendMessage: the server took the message as ``seq`` at time ``ts``."""

    TYPE: ClassVar[str] = "message_accepted"
    request_id: int
    group_id: int
    seq: int
    ts: int

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.uint(self.seq, "seq", limits.MAX_GROUP_ID)
        fields.uint(self.ts, "ts", limits.MAX_GROUP_ID)


@dataclass(frozen=True, slots=True)
class MessagePosted(Event):
    """Someone else posted ``text`` to a group you are in."""

    TYPE: ClassVar[str] = "message_posted"
    group_id: int
    seq: int
    ts: int
    sender: str
    text: str

    def __post_init__(self) -> None:
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.uint(self.seq, "seq", limits.MAX_GROUP_ID)
        fields.uint(self.ts, "ts", limits.MAX_GROUP_ID)
        fields.display_name(self.sender, "sender")
        fields.message_text(self.text)


@dataclass(frozen=True, slots=True)
class MemberJoined(Event):
    """``name`` joined a group you are in."""

    TYPE: ClassVar[str] = "member_joined"
    group_id: int
    name: str

    def __post_init__(self) -> None:
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.display_name(self.name)


@dataclass(frozen=True, slots=True)
class MemberLeft(Event):
    """``name`` left a group you are in (by request or by disconnecting)."""

    TYPE: ClassVar[str] = "member_left"
    group_id: int
    name: str

    def __post_init__(self) -> None:
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.display_name(self.name)


@dataclass(frozen=True, slots=True)
class ServerClosing(Event):
    """The server is shutting down; it closes the connection after this frame."""

    TYPE: ClassVar[str] = "server_closing"
    reason: str

    def __post_init__(self) -> None:
        fields.string(self.reason, "reason", limits.MAX_ERROR_MESSAGE_LENGTH)


@dataclass(frozen=True, slots=True)
class Error(Event):
    """A refused request (``request_id`` set) or a connection-level error (``request_id`` None).

    ``code`` is stable and machine-readable (see PROTOCOL.md); ``message`` is for people.
    """

    TYPE: ClassVar[str] = "error"
    request_id: int | None
    code: str
    message: str

    def __post_init__(self) -> None:
        fields.optional_uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.string(self.code, "code", 32, min_length=1)
        fields.string(self.message, "message", limits.MAX_ERROR_MESSAGE_LENGTH)


CLIENT_EVENTS: tuple[type[Event], ...] = (
    Hello,
    CreateGroup,
    JoinGroup,
    LeaveGroup,
    SendMessage,
    FetchHistory,
    Ping,
    Pong,
)
SERVER_EVENTS: tuple[type[Event], ...] = (
    Welcome,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    MessageAccepted,
    MessagePosted,
    HistoryPage,
    MemberJoined,
    MemberLeft,
    ServerClosing,
    Error,
    Ping,
    Pong,
)
