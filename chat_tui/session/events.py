"""What a :class:`chat_tui.session.ChatSession` tells its user interface, one frozen dataclass per fact.

The session puts these on one ordered stream (``ChatSession.next_event``). Messages of other members
arrive as the protocol's own :class:`shared.MessagePosted`, member changes as ``MemberJoined`` and
``MemberLeft``; everything else is below. No Textual import: the plain client and the Textual app both
consume these.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from chat_tui.session.link import LinkError
from shared import GroupJoined, MemberJoined, MemberLeft, MessagePosted


class NotConnected(LinkError):
    """The session is reconnecting: create, join and history requests must wait until it is back."""


class SessionClosed(LinkError):
    """The session was closed or gave up reconnecting; nothing more can be sent."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message this session sends; ``client_msg_id`` makes its resend after a reconnect idempotent."""

    group_id: int
    client_msg_id: str
    sender: str
    text: str


# --- the link -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    """The first connection is up (``connect`` returned)."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The link dropped (loss, server shutdown); reconnecting starts now. ``reason`` is for people."""

    reason: str


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """Attempt number ``attempt`` to reconnect starts in ``delay`` seconds."""

    attempt: int
    delay: float


@dataclass(frozen=True, slots=True)
class Reconnected:
    """Back online: every group is rejoined, what was missed follows, unacknowledged messages were resent."""


@dataclass(frozen=True, slots=True)
class GaveUp:
    """Reconnecting failed for good; the session is closed. ``unsent`` messages were never acknowledged."""

    reason: str
    unsent: int


# --- groups and messages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejoined:
    """A group was joined again after a reconnect; ``joined.members`` is the fresh member list."""

    joined: GroupJoined


@dataclass(frozen=True, slots=True)
class RejoinRefused:
    """The server refused to rejoin a group. ``final``: no more tries, the session forgot the group."""

    group_id: int
    code: str
    message: str
    final: bool


@dataclass(frozen=True, slots=True)
class MessagePending:
    """A message was queued for sending; show it as pending until its acknowledgement."""

    message: OutgoingMessage


@dataclass(frozen=True, slots=True)
class MembersListed:
    """The complete member list of a group whose ``group_joined`` said ``more_members``: the first page
    came in the join reply (or :class:`Rejoined`), the rest in ``member_list`` frames, the last just now."""

    group_id: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MessageDelayed:
    """The server said we send too fast (``rate_limited``) or failed to store the message (``internal``):
    ``message`` is still pending, in its place in the queue, and is sent again (same text, same
    ``client_msg_id``) in ``retry_in`` seconds. Not a refusal: nothing is lost."""

    message: OutgoingMessage
    retry_in: float
    code: str = "rate_limited"


@dataclass(frozen=True, slots=True)
class HistoryGap:
    """Messages ``after_seq < seq < before_seq`` of a group were not replayed (a long absence: the server
    replays only the newest after a rejoin). Page into the hole with ``ChatSession.fetch_before``."""

    group_id: int
    after_seq: int
    before_seq: int


@dataclass(frozen=True, slots=True)
class MessageAcknowledged:
    """The server stored ``message`` as ``seq`` at ``ts``: it is in its place in the group's order."""

    message: OutgoingMessage
    seq: int
    ts: int


@dataclass(frozen=True, slots=True)
class MessageRefused:
    """The server (or a lost group) refused ``message``; it will not be resent."""

    message: OutgoingMessage
    code: str
    reason: str


SessionEvent = (
    Connected
    | Disconnected
    | Reconnecting
    | Reconnected
    | GaveUp
    | Rejoined
    | RejoinRefused
    | MessagePending
    | MessageDelayed
    | HistoryGap
    | MembersListed
    | MessageAcknowledged
    | MessageRefused
    | MessagePosted
    | MemberJoined
    | MemberLeft
)


class EventStream:
    """The session's events in order.

    ``put`` never blocks, because the session adds events inside synchronous steps that must not be
    interleaved; instead the part that reads the server waits in :meth:`room` while ``backlog`` events
    are untaken, so a stalled UI makes the server's frames wait in the socket rather than in memory.
    """

    def __init__(self, backlog: int) -> None:
        self._items: deque[SessionEvent] = deque()
        self._backlog = backlog
        self._readable = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def put(self, event: SessionEvent) -> None:
        self._items.append(event)
        self._readable.set()
        if len(self._items) >= self._backlog:
            self._room.clear()

    async def get(self) -> SessionEvent:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        event = self._items.popleft()
        if len(self._items) < self._backlog:
            self._room.set()
        return event

    async def room(self) -> None:
        await self._room.wait()
