"""groupchat wire protocol, sans-IO: no sockets, selectors or asyncio here (see PROTOCOL.md)."""

from __future__ import annotations

from shared import fields, limits
from shared.codec import decode, encode
from shared.connection import Connection
from shared.errors import (
    FrameTooLarge,
    InvalidField,
    LocalProtocolError,
    MalformedFrame,
    ProtocolError,
    UnexpectedEvent,
    VersionMismatch,
)
from shared.events import (
    CreateGroup,
    Error,
    Event,
    FetchHistory,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    Hello,
    HistoryEntry,
    HistoryPage,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MemberList,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    Request,
    SendMessage,
    ServerClosing,
    Welcome,
)
from shared.fields import name_key, name_skeleton
from shared.limits import PROTOCOL_VERSION
from shared.state import Role, State

__all__ = [
    "PROTOCOL_VERSION",
    "Connection",
    "CreateGroup",
    "Error",
    "Event",
    "FetchHistory",
    "FrameTooLarge",
    "GroupCreated",
    "GroupJoined",
    "GroupLeft",
    "Hello",
    "HistoryEntry",
    "HistoryPage",
    "InvalidField",
    "JoinGroup",
    "LeaveGroup",
    "LocalProtocolError",
    "MalformedFrame",
    "MemberJoined",
    "MemberLeft",
    "MemberList",
    "MessageAccepted",
    "MessagePosted",
    "Ping",
    "Pong",
    "ProtocolError",
    "Request",
    "Role",
    "SendMessage",
    "ServerClosing",
    "State",
    "UnexpectedEvent",
    "VersionMismatch",
    "Welcome",
    "decode",
    "encode",
    "fields",
    "limits",
    "name_key",
    "name_skeleton",
]
