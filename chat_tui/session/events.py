"""What a :class:`chat_tui.session.ChatSession` tells its user interface about itself, one frozen
dataclass per fact: the connection's states and the fate of rejoins.

Everything about one group's conversation (messages, our pending ones, members, gaps) goes to that
group's :class:`~chat_tui.session.timeline.GroupTimeline` instead; these are the few facts above the
groups. No Textual import: the plain client and the Textual app both consume these.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from chat_tui.session.link import LinkError
from shared import GroupJoined, HistoryEntry


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
    action: bool = False  # a /me line


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of a history search, newest first; ``next_before_seq`` goes on below it (0: nothing older).

    ``actions``: the seqs of the hits that are /me lines. A page may be short, even empty, and still go on:
    the server scans a bounded number of messages per page.
    """

    hits: list[HistoryEntry]
    next_before_seq: int
    actions: frozenset[int] = frozenset()


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


SessionEvent = Connected | Disconnected | Reconnecting | Reconnected | GaveUp | Rejoined | RejoinRefused


class EventStream:
    """The session's events in order, for one reader (:meth:`get`) and any number of watchers.

    Watchers are called at once, inside the session's step that produced the event, so they see it in
    order with the timelines' changes (the ``--plain`` printer relies on that). The queue for
    :meth:`get` holds at most ``limit`` events, dropping the oldest: these are states (a reconnect
    attempt every 30 s of a long outage), and a reader wants the latest.
    """

    def __init__(self, limit: int) -> None:
        self._items: deque[SessionEvent] = deque(maxlen=limit)
        self._readable = asyncio.Event()
        self._watchers: list[Callable[[SessionEvent], None]] = []

    def put(self, event: SessionEvent) -> None:
        for watcher in tuple(self._watchers):
            watcher(event)
        self._items.append(event)
        self._readable.set()

    async def get(self) -> SessionEvent:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        return self._items.popleft()

    def watch(self, watcher: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call ``watcher`` with each event as it happens; returns the function that stops it."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher) if watcher in self._watchers else None
