"""A chat session that survives reconnects: groups, unacknowledged messages and the order of delivery.

:class:`ChatSession` owns one :class:`~chat_tui.session.link.ServerLink` at a time and is what a UI talks to:
create, join, leave, send, one :class:`~chat_tui.session.timeline.GroupTimeline` per group (its
messages, members and history paging: what a view renders), and a short stream of the session's own
events (connection states). Its parts:

- :mod:`chat_tui.session.timeline`: one group's conversation, the one place that dedupes and orders;
- :mod:`chat_tui.session.ledger`: memberships, the outbox and the delivery order (no I/O);
- :mod:`chat_tui.session.courier`: the traffic over the current link (notifications in, the outbox out);
- :mod:`chat_tui.session.reconnect`: when the link drops (loss, or ``server_closing`` before a restart), backoff,
  rejoin with ``since_seq`` and resend, until it is back or the session gives up.

Rejoins present the ``resume_token`` the server issued with ``group_created``/``group_joined`` (no
password hash on the server), falling back to the password only if the token is refused. Both stay in
memory only (:class:`~chat_tui.session.ledger.Membership`), never on disk or in a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import partial
from ssl import SSLContext

from chat_tui.session.courier import Courier, close_link
from chat_tui.session.events import (
    Connected,
    Disconnected,
    EventStream,
    GaveUp,
    NotConnected,
    OutgoingMessage,
    SearchResults,
    SessionClosed,
    SessionEvent,
)
from chat_tui.session.ledger import Changes, Ledger, Membership
from chat_tui.session.link import LinkError, RequestRefused, ServerLink, describe_refusal
from chat_tui.session.reconnect import Backoff, Reconnector
from chat_tui.session.roster import REJOIN_GRACE
from chat_tui.session.timeline import SCROLLBACK, Fetch, GroupTimeline, HistoryUnavailable
from shared import (
    CreateGroup,
    Event,
    FetchHistory,
    GroupCreated,
    GroupJoined,
    HistoryPage,
    JoinGroup,
    LeaveGroup,
    Rename,
    Renamed,
    SearchHistory,
    SetPresence,
    Typing,
    fields,
    limits,
)
from shared import SearchResults as SearchReply

__all__ = ["Backoff", "ChatSession", "SessionState"]

log = logging.getLogger("chat_tui.session")

MAX_UNACKNOWLEDGED = 100
"""Messages typed ahead of the server's acknowledgements, also during an outage: memory stays
bounded and a pasted file waits for the server instead of piling up."""
EVENT_LIMIT = 100
"""Session events (connection states) kept for a reader that is behind; the oldest go first."""


class SessionState(Enum):
    IDLE = "idle"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class ChatSession:
    """Groups, messages and reconnects over a replaceable :class:`ServerLink`.

    Args:
        host, port: the server.
        ssl: a TLS context (e.g. ``ssl.create_default_context(cafile=...)``) used for every (re)connect;
            None speaks plain TCP.
        backoff: reconnect delays.
        give_up_after: seconds of failed reconnecting before :class:`GaveUp`; None tries forever.
        wait: how a delay is waited (``asyncio.sleep``); tests pass a gate they open themselves.
        pause: how the delay before resending a refused message (``rate_limited``, ``internal``) is
            waited (``asyncio.sleep``).
        scrollback: messages each group's timeline keeps in memory.
        rejoin_grace: seconds after our rejoin within which members we knew rejoin without a "joined"
            line; those still missing then get a "left" line.
        clock, time_format: now in seconds, and how timelines show a time (None: local ``HH:MM``).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl: SSLContext | None = None,
        backoff: Backoff | None = None,
        give_up_after: float | None = None,
        wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
        scrollback: int = SCROLLBACK,
        clock: Callable[[], float] = time.time,
        time_format: Callable[[float], str] | None = None,
        rejoin_grace: float = REJOIN_GRACE,
    ) -> None:
        self.host, self.port = host, port
        self._rejoin_grace = rejoin_grace
        self._ssl = ssl
        self._scrollback, self._clock, self._time_format = scrollback, clock, time_format
        self._events = EventStream(EVENT_LIMIT)
        self._changes = Changes()
        self._ledger = Ledger(self._changes.notify)
        self._courier = Courier(self._ledger, self._changes, pause)
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # held so they are not collected mid-flight
        self._reconnector = Reconnector(
            self._open_link,
            self._ledger,
            self._events,
            self._courier,
            backoff=backoff or Backoff(),
            give_up_after=give_up_after,
            wait=wait,
            settle=self._settle_later,
        )
        self._link: ServerLink | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._fetching = asyncio.Lock()
        self._typed_at: dict[int, float] = {}  # group -> when we last sent it a typing frame (monotonic)
        self._away: str | None = None  # our away reason while away: set again after a reconnect
        self.state = SessionState.IDLE

    # --- the consumer's side --------------------------------------------------------------------

    async def next_event(self) -> SessionEvent:
        """The next event, in order; waits for one."""
        return await self._events.get()

    def watch(self, watcher: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call ``watcher`` with each session event the moment it happens (in order with the timelines'
        changes); returns the function that stops it."""
        return self._events.watch(watcher)

    def timeline(self, group_id: int) -> GroupTimeline:
        """The conversation of a group we are in (from its join's reply on).

        Raises:
            KeyError: not in that group.
        """
        timeline = self._ledger.timeline(group_id)
        if timeline is None:
            raise KeyError(group_id)
        return timeline

    def timelines(self) -> list[GroupTimeline]:
        """The timelines of every group we are in."""
        return [g.timeline for g in self._ledger.groups.values() if g.timeline is not None]

    async def connect(self) -> None:
        """Connect the first time (no retry: an unreachable server at start is the user's to fix).

        Raises:
            LinkError: the server is unreachable or refused the handshake.
        """
        link = await self._open_link()
        self._courier.new_link()
        self._set_state(SessionState.CONNECTED)
        self._events.put(Connected(self.host, self.port))
        self._supervisor = asyncio.create_task(self._supervise(link), name="groupchat-session")

    async def close(self) -> None:
        """Stop for good; unacknowledged messages are dropped. Idempotent."""
        self._set_state(SessionState.CLOSED)
        for timer in self._timers:
            timer.cancel()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._link is not None:
            await close_link(self._link)

    async def create_group(self, group_name: str, password: str, name: str) -> GroupCreated:
        """Create a group and remember it for rejoining.

        Raises:
            RequestRefused: e.g. ``group_name_taken``.
            LinkError: not connected (:class:`NotConnected`, :class:`SessionClosed`) or the link dropped.
        """
        reply = await self._connected_link().request(
            partial(CreateGroup, group_name=group_name, password=password, name=name)
        )
        assert isinstance(reply, GroupCreated)
        membership = Membership(reply.group_id, password, reply.name, resume_token=reply.resume_token)
        membership.timeline = self._new_timeline(reply)
        self._ledger.groups[reply.group_id] = membership
        return reply

    async def join_group(self, group_id: int, password: str, name: str) -> GroupJoined:
        """Join a group; its replayed history follows as MessagePosted events.

        If the reply says ``more_members``, its ``members`` is only the first page: the complete list
        follows as a :class:`~chat_tui.session.events.MembersListed` event.

        Raises:
            RequestRefused: e.g. ``bad_credentials``, ``name_taken``, ``already_member``.
            LinkError: as for :meth:`create_group`.
        """
        link = self._connected_link()
        groups = self._ledger.groups
        known = group_id in groups  # then the server answers already_member
        if not known:  # known before the reply, so the replay right behind it is not dropped as a stranger's
            groups[group_id] = Membership(group_id, password, name)
        join = partial(JoinGroup, group_id=group_id, password=password, name=name)
        try:
            reply = await link.request(join, on_reply=self._joined)
        except (RequestRefused, LinkError):
            if not known:
                del groups[group_id]
            raise
        assert isinstance(reply, GroupJoined)
        group = groups[group_id]
        group.name = reply.name
        return reply

    def _joined(self, reply: Event) -> None:
        # In wire order (ServerLink.request's on_reply): the member_list pages right behind the reply
        # must find their list started, and this coroutine resumes only after they may have been read.
        if isinstance(reply, GroupJoined) and (group := self._ledger.groups.get(reply.group_id)):
            group.resume_token = reply.resume_token or group.resume_token
            group.timeline = self._new_timeline(reply)
            self._ledger.expect_members(reply.group_id, reply.members, reply.more_members)

    def _new_timeline(self, reply: GroupJoined | GroupCreated) -> GroupTimeline:
        joined = reply if isinstance(reply, GroupJoined) else None
        return GroupTimeline(
            reply.group_id,
            reply.group_name,
            reply.name,
            joined_at=joined.last_seq if joined else None,
            members=joined.members if joined else (reply.name,),
            members_complete=not joined.more_members if joined else True,
            fetch=self._history_of(reply.group_id),
            scrollback=self._scrollback,
            clock=self._clock,
            time_format=self._time_format,
            rejoin_grace=self._rejoin_grace,
        )

    def _settle_later(self, timeline: GroupTimeline) -> None:
        """After the grace of a rejoin, members who did not come back are shown as gone."""

        def settle() -> None:
            self._timers.discard(timer)
            timeline.tick()

        # A little after the timeline's deadline: the loop's clock and the timeline's may differ by a hair.
        timer = asyncio.get_running_loop().call_later(self._rejoin_grace + 0.05, settle)
        self._timers.add(timer)  # one per group per reconnect, each gone when it fires or on close

    async def leave_group(self, group_id: int) -> None:
        """Wait until this group's messages are acknowledged (or refused), then leave and forget it."""
        await self._changes.until(lambda: not self._ledger.unsettled(group_id) or self._closed)
        self._ledger.forget(group_id, "you left this chat")
        if self.state is SessionState.CONNECTED and self._link is not None:
            with contextlib.suppress(RequestRefused, LinkError):  # gone either way
                await self._link.request(partial(LeaveGroup, group_id=group_id))

    async def send(self, group_id: int, text: str, action: bool = False) -> OutgoingMessage:
        """Queue ``text`` (a /me line if ``action``: "waves") for ``group_id``; it is sent (or resent after
        a reconnect) until acknowledged. A server without the "action" feature gets it as "* Name waves".

        Waits while :data:`MAX_UNACKNOWLEDGED` messages are unacknowledged.

        Raises:
            InvalidField: ``text`` is not valid chat text.
            KeyError: this session is not in that group.
            SessionClosed: the session is closed or gave up.
        """
        text = fields.message_text(text)
        await self._changes.until(lambda: self._ledger.unacknowledged() < MAX_UNACKNOWLEDGED or self._closed)
        if self._closed:
            raise SessionClosed("the session is closed")
        return self._ledger.queue(group_id, text, action=action)

    async def fetch_history(self, group_id: int, before_seq: int, limit: int = limits.MAX_HISTORY_PAGE) -> HistoryPage:
        """The server's newest ``limit`` messages of a group with ``seq < before_seq``, as stored.

        This is what a timeline pages with (:meth:`GroupTimeline.load_older`, :meth:`GroupTimeline.fill_gap`);
        the timeline decides what of it is new. Notifications read before the page are absorbed first,
        so a replay ahead of it is in the timeline when the page is added.

        Raises:
            RequestRefused, LinkError: as for :meth:`create_group`; KeyError: not in that group.
        """
        async with self._fetching:
            self._ledger.groups[group_id]
            if before_seq <= 1:
                return HistoryPage(0, group_id, (), False)
            link = self._connected_link()
            page = await link.request(partial(FetchHistory, group_id=group_id, before_seq=before_seq, limit=limit))
            assert isinstance(page, HistoryPage)
            self._courier.drain(link)
            return page

    def _history_of(self, group_id: int) -> Fetch:
        async def fetch(before_seq: int, limit: int) -> HistoryPage:
            try:
                return await self.fetch_history(group_id, before_seq, limit)
            except RequestRefused as exc:
                raise HistoryUnavailable(describe_refusal(exc.error)) from None
            except (LinkError, KeyError) as exc:
                raise HistoryUnavailable(str(exc) if isinstance(exc, LinkError) else "you left this group") from None

        return fetch

    # --- typing, presence and renames (PROTOCOL.md §9) -------------------------------------------------

    @property
    def features(self) -> frozenset[str]:
        """The optional features this client and the server both speak (from ``welcome``; empty offline)."""
        return self._link.features if self._link is not None else frozenset()

    def typing(self, group_id: int) -> None:
        """Tell the group we are typing: at most once per ``limits.TYPING_INTERVAL`` s per group; a no-op
        without the feature, offline, or for a group we are not in. Fire and forget."""
        now = time.monotonic()
        link = self._link
        if link is None or self.state is not SessionState.CONNECTED or "typing" not in link.features:
            return
        last = self._typed_at.get(group_id, -math.inf)
        if group_id not in self._ledger.groups or now - last < limits.TYPING_INTERVAL:
            return
        self._typed_at[group_id] = now
        link.tell(Typing(group_id))

    async def set_away(self, reason: str | None) -> None:
        """Mark us away with ``reason`` in every group (None: back); kept and set again after a reconnect.

        Raises:
            InvalidField: ``reason`` is too long or holds control characters.
            RequestRefused: e.g. ``rate_limited``; LinkError: not connected, or no ``presence`` feature.
        """
        if reason is not None:
            reason = fields.away_reason(reason)
        link = self._connected_link()
        if "presence" not in link.features:
            raise LinkError("this server does not support away")
        await link.request(partial(SetPresence, away=reason is not None, reason=reason or ""))
        self._away = reason

    async def rename(self, group_id: int, name: str) -> None:
        """Take the name ``name`` in one group; the timeline announces it and later rejoins use it.

        Raises:
            InvalidField: not a valid name. RequestRefused: e.g. ``name_taken``, ``rate_limited``.
            LinkError: not connected, or no ``rename`` feature. KeyError: not in that group.
        """
        name = fields.display_name(name)
        self._ledger.groups[group_id]  # KeyError if we are not in it
        link = self._connected_link()
        if "rename" not in link.features:
            raise LinkError("this server does not support changing your name")
        reply = await link.request(partial(Rename, group_id=group_id, name=name), on_reply=self._renamed)
        assert isinstance(reply, Renamed)

    def _renamed(self, reply: Event) -> None:
        # In wire order, like _joined: messages read after the reply are already ours under the new name.
        if isinstance(reply, Renamed) and (group := self._ledger.groups.get(reply.group_id)):
            old, group.name = group.name, reply.name
            group.resume_token = reply.resume_token or group.resume_token
            if group.timeline is not None:
                group.timeline.member_renamed(old, reply.name)

    async def search(
        self, group_id: int, text: str, before_seq: int | None = None, limit: int = limits.SEARCH_PAGE
    ) -> SearchResults:
        """One page of the server's search of a group's history for ``text`` (case-insensitive), newest
        first, below ``before_seq`` (None: from the newest). Go on with ``next_before_seq`` while it is not 0.

        Raises:
            InvalidField: ``text`` is blank or too long. RequestRefused: e.g. ``rate_limited``.
            LinkError: not connected, or no ``search`` feature. KeyError: not in that group.
        """
        text = fields.search_text(text)
        self._ledger.groups[group_id]  # KeyError if we are not in it
        link = self._connected_link()
        if "search" not in link.features:
            raise LinkError("this server does not support search")
        search = partial(SearchHistory, group_id=group_id, text=text, before_seq=before_seq, limit=limit)
        reply = await link.request(search)
        assert isinstance(reply, SearchReply)
        return SearchResults(list(reply.hits), reply.next_before_seq, frozenset(reply.actions))

    async def _restore_presence(self) -> None:
        """After a reconnect: the server forgot our away state with the old connection."""
        if self._away is None or self._link is None or "presence" not in self._link.features:
            return
        with contextlib.suppress(RequestRefused, LinkError):
            await self._link.request(partial(SetPresence, away=True, reason=self._away))

    def unacknowledged(self, group_id: int | None = None) -> int:
        """How many messages (of one group, or all) still wait for their acknowledgement."""
        return self._ledger.unacknowledged(group_id)

    # --- link lifetime --------------------------------------------------------------------------

    async def _open_link(self) -> ServerLink:
        # Kept at once, also while a reconnect restores it, so close() can close it at any point.
        self._link = await ServerLink.open(self.host, self.port, ssl=self._ssl)
        return self._link

    async def _supervise(self, link: ServerLink) -> None:
        """Serve the link until it drops, reconnect, serve the new one, until the session ends."""
        try:
            while True:
                reason = await self._courier.serve(link)
                self._set_state(SessionState.RECONNECTING)
                self._events.put(Disconnected(reason))
                outcome = await self._reconnector.reconnect()
                if isinstance(outcome, str):
                    self._give_up(outcome)
                    return
                link = outcome
                self._set_state(SessionState.CONNECTED)
                self._typed_at.clear()
                if self._away is not None:
                    restoring = asyncio.create_task(self._restore_presence())
                    self._tasks.add(restoring)
                    restoring.add_done_callback(self._tasks.discard)
        except Exception as exc:  # a bug must not leave the UI waiting on a dead session forever
            log.exception("session failed")
            self._give_up(f"internal error: {exc}")

    def _give_up(self, reason: str) -> None:
        unsent = self._ledger.drop_outbox()
        self._set_state(SessionState.CLOSED)
        self._events.put(GaveUp(reason, unsent))

    # --- small helpers --------------------------------------------------------------------------

    @property
    def _closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def _connected_link(self) -> ServerLink:
        if self._closed:
            raise SessionClosed("the session is closed")
        if self.state is not SessionState.CONNECTED or self._link is None:
            raise NotConnected("not connected to the server right now; reconnecting")
        return self._link

    def _set_state(self, state: SessionState) -> None:
        if self.state is not SessionState.CLOSED:
            self.state = state
        self._changes.notify()
