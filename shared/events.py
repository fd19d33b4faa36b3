"""One frozen dataclass per frame type. Each checks (and normalises) its own fields on construction.

Client requests are imperatives and carry ``request_id`` (``id`` on the wire), chosen by the client;
the server's answer to a request carries the same id. Server notifications are past-tense facts.
Every class lists its fields and, in ``CHECKS``, the rule for each: the rules live in ``fields.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from shared import fields, limits
from shared.errors import InvalidField

Check = Callable[[Any], Any]  # returns the (normalised) value or raises InvalidField


def _uint(field: str, maximum: int) -> Check:
    return lambda value: fields.uint(value, field, maximum)


def _string(field: str, maximum: int, minimum: int = 0) -> Check:
    return lambda value: fields.string(value, field, maximum, min_length=minimum)


_REQUEST_ID = _uint("id", limits.MAX_REQUEST_ID)
_GROUP_ID = _uint("group_id", limits.MAX_GROUP_ID)
_SEQ = _uint("seq", limits.MAX_GROUP_ID)
_TS = _uint("ts", limits.MAX_GROUP_ID)
_NONCE = _uint("nonce", limits.MAX_REQUEST_ID)
_VERSION = _uint("version", 2**16)
# Names and text someone chooses now (client requests) meet today's rules; what a server relays
# (names and text it may have stored under earlier, looser rules) meets the rules all data has met.
_NAME: Check = fields.display_name
_GROUP_NAME: Check = fields.group_name
_TEXT: Check = fields.message_text
_RELAYED_NAME: Check = fields.relayed_name
_SENDER: Check = lambda value: fields.relayed_name(value, "sender")  # noqa: E731 - a table of rules
_RELAYED_GROUP_NAME: Check = fields.relayed_group_name
_RELAYED_TEXT: Check = fields.relayed_text
_PASSWORD: Check = fields.password
_SEARCH_TEXT: Check = fields.search_text


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


_REQUEST_TOKEN: Check = lambda value: fields.resume_token(value, min_length=1)  # noqa: E731 - a table of rules
_ISSUED_TOKEN: Check = lambda value: fields.resume_token(value, min_length=0)  # noqa: E731 - "" = none issued


def _page_limit(value: object) -> int:
    limit = fields.uint(value, "limit", limits.MAX_HISTORY_PAGE)
    if limit == 0:
        raise InvalidField(f"limit must be between 1 and {limits.MAX_HISTORY_PAGE}")
    return limit


def _boolean(field: str) -> Check:
    def check(value: object) -> bool:
        if type(value) is not bool:
            raise InvalidField(f"{field} must be a boolean")
        return value

    return check


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every frame. ``TYPE`` is the wire ``type`` string; ``CHECKS`` maps each field to its rule."""

    TYPE: ClassVar[str] = ""
    CHECKS: ClassVar[Mapping[str, Check]] = {}
    # Fields a sender may leave out of the wire map (meaning nil) although the dataclass, to keep
    # its positional order, gives them no default. Fields with a default are optional anyway.
    NIL_WHEN_ABSENT: ClassVar[frozenset[str]] = frozenset()
    # Fields left out of the wire map while they hold their default: fields added after version 1, which
    # a peer that did not ask for them (an older one, which refuses unknown keys) must never see.
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        for name, check in self.CHECKS.items():  # in the order listed: the first broken rule is reported
            value = getattr(self, name)
            checked = check(value)
            if checked is not value:
                getattr(type(self), name).__set__(self, checked)
        self._check_together()

    def _check_together(self) -> None:
        """Rules about several fields at once, checked after every field passed its own rule."""


@dataclass(frozen=True, slots=True)
class Request(Event):
    """A client request; the server answers with a reply carrying the same ``request_id`` or an Error."""

    request_id: int


# --- client -> server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello(Request):
    """First frame of every connection: the protocol version the client speaks, and the optional
    features (:data:`FEATURES`) it understands; the server sends a feature's frames only to those who asked."""

    TYPE: ClassVar[str] = "hello"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID,
        "version": _VERSION,
        "client": _string("client", limits.MAX_CLIENT_LABEL_LENGTH),
        "features": fields.feature_list,
    }
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"features"})
    version: int
    client: str = ""
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateGroup(Request):
    """Create a group; the creator joins it as ``name``."""

    TYPE: ClassVar[str] = "create_group"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_name": _GROUP_NAME, "password": _PASSWORD, "name": _NAME,
    }  # fmt: skip
    group_name: str
    password: str = dataclasses.field(repr=False)  # never let a password reach a log line through repr()
    name: str


@dataclass(frozen=True, slots=True)
class JoinGroup(Request):
    """Join group ``group_id`` as ``name``, proving knowledge of its password or holding a resume token.

    Exactly one of ``password`` and ``resume_token`` is given: a token rejoin costs no password hash.
    """

    TYPE: ClassVar[str] = "join_group"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "password": _optional(_PASSWORD), "name": _NAME,
        "since_seq": _optional(_uint("since_seq", limits.MAX_GROUP_ID)), "resume_token": _optional(_REQUEST_TOKEN),
    }  # fmt: skip
    NIL_WHEN_ABSENT: ClassVar[frozenset[str]] = frozenset({"password"})
    group_id: int
    password: str | None = dataclasses.field(repr=False)  # never in a log line
    name: str
    since_seq: int | None = None  # "I have seen up to here": send what came after, not the last N
    resume_token: str | None = dataclasses.field(default=None, repr=False)  # a credential too

    def _check_together(self) -> None:
        if (self.password is None) == (self.resume_token is None):
            raise InvalidField("give exactly one of password and resume_token")


@dataclass(frozen=True, slots=True)
class LeaveGroup(Request):
    """Leave a group this connection is a member of."""

    TYPE: ClassVar[str] = "leave_group"
    CHECKS: ClassVar[Mapping[str, Check]] = {"request_id": _REQUEST_ID, "group_id": _GROUP_ID}
    group_id: int


@dataclass(frozen=True, slots=True)
class SendMessage(Request):
    """Post ``text`` to a group this connection is a member of."""

    TYPE: ClassVar[str] = "send_message"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "text": _TEXT,
        "client_msg_id": _optional(lambda value: fields.token(value, "client_msg_id")), "action": _boolean("action"),
    }  # fmt: skip
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"action"})
    group_id: int
    text: str
    client_msg_id: str | None = None  # makes a resend after a reconnect idempotent
    action: bool = False  # feature "action": a /me line ("* Alice waves")


@dataclass(frozen=True, slots=True)
class FetchHistory(Request):
    """Ask for up to ``limit`` messages of a group you are in with seq below ``before_seq``, newest last."""

    TYPE: ClassVar[str] = "fetch_history"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID,
        "before_seq": _uint("before_seq", limits.MAX_GROUP_ID), "limit": _page_limit,
    }  # fmt: skip
    group_id: int
    before_seq: int
    limit: int = limits.MAX_HISTORY_PAGE


@dataclass(frozen=True, slots=True)
class Typing(Event):
    """Feature "typing": the sender is typing in ``group_id``. No reply; sent at most once per
    ``limits.TYPING_INTERVAL`` per group, and a server drops what goes over its own rate."""

    TYPE: ClassVar[str] = "typing"
    CHECKS: ClassVar[Mapping[str, Check]] = {"group_id": _GROUP_ID}
    group_id: int


@dataclass(frozen=True, slots=True)
class SetPresence(Request):
    """Feature "presence": mark this connection away (with a ``reason``) or back, in every group it is in."""

    TYPE: ClassVar[str] = "set_presence"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "away": _boolean("away"), "reason": fields.away_reason,
    }  # fmt: skip
    away: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Rename(Request):
    """Feature "rename": take the name ``name`` in ``group_id`` (the rules and uniqueness of a join)."""

    TYPE: ClassVar[str] = "rename"
    CHECKS: ClassVar[Mapping[str, Check]] = {"request_id": _REQUEST_ID, "group_id": _GROUP_ID, "name": _NAME}
    group_id: int
    name: str


@dataclass(frozen=True, slots=True)
class SearchHistory(Request):
    """Feature "search": messages of a group you are in whose text holds ``text`` (case-insensitive),
    newest first, with seq below ``before_seq`` (None: from the newest)."""

    TYPE: ClassVar[str] = "search_history"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "text": _SEARCH_TEXT,
        "before_seq": _optional(_uint("before_seq", limits.MAX_GROUP_ID)), "limit": _page_limit,
    }  # fmt: skip
    group_id: int
    text: str
    before_seq: int | None = None
    limit: int = limits.SEARCH_PAGE


# --- either direction -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping(Event):
    """Liveness check; the peer answers with a Pong carrying the same nonce."""

    TYPE: ClassVar[str] = "ping"
    CHECKS: ClassVar[Mapping[str, Check]] = {"nonce": _NONCE}
    nonce: int


@dataclass(frozen=True, slots=True)
class Pong(Event):
    """Answer to a Ping."""

    TYPE: ClassVar[str] = "pong"
    CHECKS: ClassVar[Mapping[str, Check]] = {"nonce": _NONCE}
    nonce: int


# --- server -> client -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome(Event):
    """Answer to Hello: the handshake is complete."""

    TYPE: ClassVar[str] = "welcome"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "version": _VERSION, "server": _string("server", limits.MAX_CLIENT_LABEL_LENGTH),
        "max_frame_size": _uint("max_frame_size", 2**32 - 1), "features": fields.feature_list,
    }  # fmt: skip
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"features"})
    request_id: int
    version: int
    server: str
    max_frame_size: int
    features: tuple[str, ...] = ()  # what the server offers; sent only to a hello that named features


@dataclass(frozen=True, slots=True)
class GroupCreated(Event):
    """Answer to CreateGroup: the group exists and the creator is its first member.

    ``resume_token`` lets the creator rejoin without the password ("" when the server issued none).
    """

    TYPE: ClassVar[str] = "group_created"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "group_name": _RELAYED_GROUP_NAME, "name": _RELAYED_NAME,
        "resume_token": _ISSUED_TOKEN,
    }  # fmt: skip
    request_id: int
    group_id: int
    group_name: str
    name: str
    resume_token: str = dataclasses.field(default="", repr=False)  # a credential: never in a log line


@dataclass(frozen=True, slots=True)
class GroupJoined(Event):
    """Answer to JoinGroup: you are a member; ``members`` is the first page of everyone, you included.

    If ``more_members``, the rest follows at once in ``member_list`` frames: one frame must never
    exceed ``welcome.max_frame_size``, and a thousand long names would.
    """

    TYPE: ClassVar[str] = "group_joined"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "group_name": _RELAYED_GROUP_NAME, "name": _RELAYED_NAME,
        "members": fields.name_list, "last_seq": _uint("last_seq", limits.MAX_GROUP_ID),
        "resume_token": _ISSUED_TOKEN, "more_members": _boolean("more_members"),
    }  # fmt: skip
    request_id: int
    group_id: int
    group_name: str
    name: str
    members: tuple[str, ...]
    last_seq: int = 0  # the group's newest seq when you joined: replayed history ends here
    resume_token: str = dataclasses.field(default="", repr=False)  # a credential: never in a log line
    more_members: bool = False


@dataclass(frozen=True, slots=True)
class MemberList(Event):
    """A further page of a group's members, sent right after ``group_joined``; the last has ``more`` false."""

    TYPE: ClassVar[str] = "member_list"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "group_id": _GROUP_ID, "members": fields.name_list, "more": _boolean("more"),
    }  # fmt: skip
    group_id: int
    members: tuple[str, ...]
    more: bool


class HistoryEntry(NamedTuple):
    """One stored message, as it travels inside a ``history_page`` (a 4-element array on the wire)."""

    seq: int
    ts: int
    sender: str
    text: str


def _history(value: object) -> tuple[HistoryEntry, ...]:
    if not isinstance(value, (list, tuple)) or len(value) > limits.MAX_HISTORY_PAGE:
        raise InvalidField(f"messages must be an array of at most {limits.MAX_HISTORY_PAGE}")
    entries = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != len(HistoryEntry._fields):
            raise InvalidField("each history message must be an array [seq, ts, sender, text]")
        seq, ts, sender, text = item
        entries.append(HistoryEntry(_SEQ(seq), _TS(ts), _SENDER(sender), _RELAYED_TEXT(text)))
    return tuple(entries)


def _seq_list(value: object) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or len(value) > limits.MAX_HISTORY_PAGE:
        raise InvalidField(f"actions must be an array of at most {limits.MAX_HISTORY_PAGE} seqs")
    return tuple(_SEQ(seq) for seq in value)


@dataclass(frozen=True, slots=True)
class HistoryPage(Event):
    """Answer to FetchHistory: messages in increasing seq; ``has_more`` if older ones exist."""

    TYPE: ClassVar[str] = "history_page"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "messages": _history, "has_more": _boolean("has_more"),
        "actions": _seq_list,
    }  # fmt: skip
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"actions"})
    request_id: int
    group_id: int
    messages: tuple[HistoryEntry, ...]
    has_more: bool
    actions: tuple[int, ...] = ()  # feature "action": the seqs among ``messages`` that are /me lines


@dataclass(frozen=True, slots=True)
class SearchResults(Event):
    """Answer to SearchHistory: ``hits`` newest first; ``next_before_seq`` continues the search below
    them (0: nothing older is left). A page may hold fewer hits than asked, even none, and still go on:
    each page scans a bounded number of messages."""

    TYPE: ClassVar[str] = "search_results"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "text": _SEARCH_TEXT, "hits": _history,
        "next_before_seq": _uint("next_before_seq", limits.MAX_GROUP_ID), "actions": _seq_list,
    }  # fmt: skip
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"actions"})
    request_id: int
    group_id: int
    text: str
    hits: tuple[HistoryEntry, ...]
    next_before_seq: int
    actions: tuple[int, ...] = ()  # feature "action": the seqs among ``hits`` that are /me lines


@dataclass(frozen=True, slots=True)
class GroupLeft(Event):
    """Answer to LeaveGroup."""

    TYPE: ClassVar[str] = "group_left"
    CHECKS: ClassVar[Mapping[str, Check]] = {"request_id": _REQUEST_ID, "group_id": _GROUP_ID}
    request_id: int
    group_id: int


@dataclass(frozen=True, slots=True)
class MessageAccepted(Event):
    """Answer to SendMessage: the server stored the message as ``seq`` at time ``ts``."""

    TYPE: ClassVar[str] = "message_accepted"
    CHECKS: ClassVar[Mapping[str, Check]] = {"request_id": _REQUEST_ID, "group_id": _GROUP_ID, "seq": _SEQ, "ts": _TS}
    request_id: int
    group_id: int
    seq: int
    ts: int


@dataclass(frozen=True, slots=True)
class MessagePosted(Event):
    """Someone posted ``text`` to a group you are in (live, or replayed from history)."""

    TYPE: ClassVar[str] = "message_posted"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "group_id": _GROUP_ID, "seq": _SEQ, "ts": _TS, "sender": _SENDER, "text": _RELAYED_TEXT,
        "action": _boolean("action"),
    }  # fmt: skip
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"action"})
    group_id: int
    seq: int
    ts: int
    sender: str
    text: str
    action: bool = False  # feature "action": sent (true) only to connections that asked for it


@dataclass(frozen=True, slots=True)
class MemberJoined(Event):
    """``name`` joined a group you are in."""

    TYPE: ClassVar[str] = "member_joined"
    CHECKS: ClassVar[Mapping[str, Check]] = {"group_id": _GROUP_ID, "name": _RELAYED_NAME}
    group_id: int
    name: str


@dataclass(frozen=True, slots=True)
class MemberLeft(Event):
    """``name`` left a group you are in (by request or by disconnecting)."""

    TYPE: ClassVar[str] = "member_left"
    CHECKS: ClassVar[Mapping[str, Check]] = {"group_id": _GROUP_ID, "name": _RELAYED_NAME}
    group_id: int
    name: str


@dataclass(frozen=True, slots=True)
class MemberTyping(Event):
    """Feature "typing": ``name`` is typing in a group you are in (show it for ``limits.TYPING_SHOWN_FOR`` s)."""

    TYPE: ClassVar[str] = "member_typing"
    CHECKS: ClassVar[Mapping[str, Check]] = {"group_id": _GROUP_ID, "name": _RELAYED_NAME}
    group_id: int
    name: str


@dataclass(frozen=True, slots=True)
class PresenceSet(Event):
    """Answer to SetPresence: every group you are in was told."""

    TYPE: ClassVar[str] = "presence_set"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "away": _boolean("away"), "reason": fields.away_reason,
    }  # fmt: skip
    request_id: int
    away: bool
    reason: str


@dataclass(frozen=True, slots=True)
class MemberPresence(Event):
    """Feature "presence": ``name`` in a group you are in is away (with ``reason``) or back."""

    TYPE: ClassVar[str] = "member_presence"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "group_id": _GROUP_ID, "name": _RELAYED_NAME, "away": _boolean("away"), "reason": fields.away_reason,
    }  # fmt: skip
    group_id: int
    name: str
    away: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Renamed(Event):
    """Answer to Rename: you are ``name`` in the group now; ``resume_token`` is for the new name."""

    TYPE: ClassVar[str] = "renamed"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _REQUEST_ID, "group_id": _GROUP_ID, "name": _RELAYED_NAME, "resume_token": _ISSUED_TOKEN,
    }  # fmt: skip
    request_id: int
    group_id: int
    name: str
    resume_token: str = dataclasses.field(default="", repr=False)  # a credential: never in a log line


@dataclass(frozen=True, slots=True)
class MemberRenamed(Event):
    """Feature "rename": the member ``old`` of a group you are in is called ``new`` from now on."""

    TYPE: ClassVar[str] = "member_renamed"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "group_id": _GROUP_ID,
        "old": lambda value: fields.relayed_name(value, "old"),
        "new": lambda value: fields.relayed_name(value, "new"),
    }
    group_id: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ServerClosing(Event):
    """The server is shutting down; it closes the connection after this frame."""

    TYPE: ClassVar[str] = "server_closing"
    CHECKS: ClassVar[Mapping[str, Check]] = {"reason": _string("reason", limits.MAX_ERROR_MESSAGE_LENGTH)}
    reason: str


@dataclass(frozen=True, slots=True)
class Error(Event):
    """A refused request (``request_id`` set) or a connection-level error (``request_id`` None).

    ``code`` is stable and machine-readable (see PROTOCOL.md); ``message`` is for people.
    ``retry_after_ms`` is set on throttling refusals: trying again before then is refused again.
    """

    TYPE: ClassVar[str] = "error"
    CHECKS: ClassVar[Mapping[str, Check]] = {
        "request_id": _optional(_REQUEST_ID), "code": _string("code", 32, 1),
        "message": _string("message", limits.MAX_ERROR_MESSAGE_LENGTH),
        "retry_after_ms": _optional(_uint("retry_after_ms", limits.MAX_RETRY_AFTER_MS)),
    }  # fmt: skip
    request_id: int | None
    code: str
    message: str
    retry_after_ms: int | None = None


CLIENT_EVENTS: tuple[type[Event], ...] = (
    Hello,
    CreateGroup,
    JoinGroup,
    LeaveGroup,
    SendMessage,
    FetchHistory,
    Typing,
    SetPresence,
    Rename,
    SearchHistory,
    Ping,
    Pong,
)
SERVER_EVENTS: tuple[type[Event], ...] = (
    Welcome,
    GroupCreated,
    GroupJoined,
    MemberList,
    GroupLeft,
    MessageAccepted,
    MessagePosted,
    HistoryPage,
    MemberJoined,
    MemberLeft,
    MemberTyping,
    PresenceSet,
    MemberPresence,
    Renamed,
    MemberRenamed,
    SearchResults,
    ServerClosing,
    Error,
    Ping,
    Pong,
)

FEATURES: tuple[str, ...] = ("action", "typing", "presence", "rename", "search")
"""The optional features this implementation speaks (``hello.features`` / ``welcome.features``)."""
