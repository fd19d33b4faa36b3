"""One frozen dataclass per frame type. Each checks its own fields on construction.

Client requests are imperatives and carry ``request_id`` (``id`` on the wire), chosen by the client;
the server's answer to a request carries the same id. Server notifications are past-tense facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared import fields, limits


def _normalise(event: object, name: str, value: object) -> None:
    object.__setattr__(event, name, value)


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every frame. ``TYPE`` is the wire ``type`` string."""

    TYPE: ClassVar[str] = ""


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

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.password(self.password)
        _normalise(self, "name", fields.display_name(self.name))

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

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        _normalise(self, "text", fields.message_text(self.text))


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

    def __post_init__(self) -> None:
        fields.uint(self.request_id, "id", limits.MAX_REQUEST_ID)
        fields.uint(self.group_id, "group_id", limits.MAX_GROUP_ID)
        fields.group_name(self.group_name)
        fields.display_name(self.name)
        _normalise(self, "members", fields.name_list(self.members))


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


CLIENT_EVENTS: tuple[type[Event], ...] = (Hello, CreateGroup, JoinGroup, LeaveGroup, SendMessage, Ping, Pong)
SERVER_EVENTS: tuple[type[Event], ...] = (
    Welcome,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    MessageAccepted,
    MessagePosted,
    MemberJoined,
    MemberLeft,
    ServerClosing,
    Error,
    Ping,
    Pong,
)
