"""A chat session that survives reconnects: groups, unacknowledged messages and the order of delivery.

:class:`ChatSession` owns one :class:`~chat_tui.net.ServerLink` at a time. When it drops (loss, or
``server_closing`` before a restart) the session reconnects with capped exponential backoff and
jitter, rejoins each group with ``since_seq`` (PROTOCOL.md §6), resends every unacknowledged message
with its original ``client_msg_id`` (§7) and only then reads what the server replayed, so a message
of ours that was stored before its acknowledgement was lost shows once, as acknowledged.

Delivery order: the link resolves a reply's future and queues notifications in wire order, so when
an acknowledgement comes back every frame before it is already on the link's queue. The session
absorbs that queue synchronously (:meth:`ChatSession._drain`) before placing the acknowledgement,
so each group's messages and our acknowledgements reach the consumer once each, in ``seq`` order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from ssl import SSLContext

from chat_tui.ledger import Ledger, Membership
from chat_tui.net import ConnectionLost, LinkError, Notification, RequestRefused, ServerLink
from chat_tui.session_events import (
    Connected,
    Disconnected,
    EventStream,
    GaveUp,
    NotConnected,
    OutgoingMessage,
    Reconnected,
    Reconnecting,
    Rejoined,
    RejoinRefused,
    SessionClosed,
    SessionEvent,
)
from shared import (
    CreateGroup,
    Error,
    FetchHistory,
    GroupCreated,
    GroupJoined,
    HistoryPage,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessageAccepted,
    MessagePosted,
    SendMessage,
    ServerClosing,
    fields,
    limits,
)

log = logging.getLogger("chat_tui.session")

RECONNECT_FIRST_DELAY = 0.5
"""Seconds before the first attempt: a server restart is hardly noticed, a refused port costs little."""
RECONNECT_MAX_DELAY = 30.0
"""Cap of the doubling: a long outage costs one attempt per half minute per client, not a storm."""
RECONNECT_JITTER = 0.2
"""±20 % on each delay, so the clients a restart dropped together do not all come back in lockstep."""
MAX_REJOIN_REFUSALS = 3
"""Refused rejoins of one group (e.g. ``name_taken`` while the server still sees our old connection)
tried on successive backoff steps before the group is given up."""
MAX_UNACKNOWLEDGED = 100
"""Messages typed ahead of the server's acknowledgements, also during an outage: memory stays
bounded and a pasted file waits for the server instead of piling up."""
EVENT_BACKLOG = 1000
"""Events the consumer has not taken before the session stops reading the server."""


class SessionState(Enum):
    IDLE = "idle"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: ``first`` doubling up to ``cap``, each scaled by a random 1 ± ``jitter``."""

    first: float = RECONNECT_FIRST_DELAY
    cap: float = RECONNECT_MAX_DELAY
    jitter: float = RECONNECT_JITTER
    rng: random.Random = field(default_factory=random.Random)

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay * self.rng.uniform(1 - self.jitter, 1 + self.jitter)
            delay = min(delay * 2, self.cap)


class ChatSession:
    """Groups, messages and reconnects over a replaceable :class:`ServerLink`.

    Args:
        host, port: the server.
        ssl: a TLS context (e.g. ``ssl.create_default_context(cafile=...)``) used for every (re)connect;
            None speaks plain TCP.
        backoff: reconnect delays.
        give_up_after: seconds of failed reconnecting before :class:`GaveUp`; None tries forever.
        wait: how a delay is waited (``asyncio.sleep``); tests pass a gate they open themselves.
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
    ) -> None:
        self.host, self.port = host, port
        self._ssl = ssl
        self._backoff = backoff or Backoff()
        self._give_up_after = give_up_after
        self._wait = wait
        self._events = EventStream(EVENT_BACKLOG)
        self._ledger = Ledger(self._events, self._wake)
        self._link: ServerLink | None = None
        self._dropped: asyncio.Future[str] | None = None
        self._closing_reason: str | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._fetching = asyncio.Lock()
        self.state = SessionState.IDLE

    # --- the consumer's side --------------------------------------------------------------------

    async def next_event(self) -> SessionEvent:
        """The next event, in order; waits for one."""
        return await self._events.get()

    async def connect(self) -> None:
        """Connect the first time (no retry: an unreachable server at start is the user's to fix).

        Raises:
            LinkError: the server is unreachable or refused the handshake.
        """
        link = await ServerLink.open(self.host, self.port, ssl=self._ssl)
        self._attach(link)
        self._set_state(SessionState.CONNECTED)
        self._events.put(Connected(self.host, self.port))
        self._supervisor = asyncio.create_task(self._supervise(link), name="groupchat-session")

    async def close(self) -> None:
        """Stop for good; unacknowledged messages are dropped. Idempotent."""
        self._set_state(SessionState.CLOSED)
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._link is not None:
            await _close(self._link)

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
        self._ledger.groups[reply.group_id] = Membership(reply.group_id, password, reply.name)
        return reply

    async def join_group(self, group_id: int, password: str, name: str) -> GroupJoined:
        """Join a group; its replayed history follows as MessagePosted events.

        Raises:
            RequestRefused: e.g. ``bad_credentials``, ``name_taken``, ``already_member``.
            LinkError: as for :meth:`create_group`.
        """
        link = self._connected_link()
        groups = self._ledger.groups
        known = group_id in groups  # then the server answers already_member
        if not known:  # known before the reply, so the replay right behind it is not dropped as a stranger's
            groups[group_id] = Membership(group_id, password, name)
        try:
            reply = await link.request(partial(JoinGroup, group_id=group_id, password=password, name=name))
        except (RequestRefused, LinkError):
            if not known:
                del groups[group_id]
            raise
        assert isinstance(reply, GroupJoined)
        group = groups[group_id]
        group.name, group.joined_at = reply.name, reply.last_seq
        return reply

    async def leave_group(self, group_id: int) -> None:
        """Wait until this group's messages are acknowledged (or refused), then leave and forget it."""
        await self._until(lambda: not self._ledger.unsettled(group_id) or self._closed)
        self._ledger.forget(group_id, "you left this chat")
        if self.state is SessionState.CONNECTED and self._link is not None:
            with contextlib.suppress(RequestRefused, LinkError):  # gone either way
                await self._link.request(partial(LeaveGroup, group_id=group_id))

    async def send(self, group_id: int, text: str) -> OutgoingMessage:
        """Queue ``text`` for ``group_id``; it is sent (or resent after a reconnect) until acknowledged.

        Waits while :data:`MAX_UNACKNOWLEDGED` messages are unacknowledged.

        Raises:
            InvalidField: ``text`` is not valid chat text.
            KeyError: this session is not in that group.
            SessionClosed: the session is closed or gave up.
        """
        text = fields.message_text(text)
        await self._until(lambda: self._ledger.unacknowledged() < MAX_UNACKNOWLEDGED or self._closed)
        if self._closed:
            raise SessionClosed("the session is closed")
        return self._ledger.queue(group_id, text)

    async def fetch_older(self, group_id: int, limit: int = limits.MAX_HISTORY_PAGE) -> HistoryPage:
        """The page of messages just older than the oldest delivered one (none twice, none delivered).

        Raises:
            RequestRefused, LinkError: as for :meth:`create_group`; KeyError: not in that group.
        """
        async with self._fetching:
            group = self._ledger.groups[group_id]
            before = group.oldest_seq if group.oldest_seq is not None else group.joined_at + 1
            if before <= 1:
                return HistoryPage(0, group_id, (), False)
            link = self._connected_link()
            page = await link.request(partial(FetchHistory, group_id=group_id, before_seq=before, limit=limit))
            assert isinstance(page, HistoryPage)
            self._drain(link)  # a replay ahead of the page may lower oldest_seq: keep only older entries
            oldest = group.oldest_seq if group.oldest_seq is not None else before
            entries = tuple(entry for entry in page.messages if entry.seq < oldest)
            if entries:
                group.oldest_seq = entries[0].seq
            return HistoryPage(page.request_id, group_id, entries, page.has_more)

    def unacknowledged(self, group_id: int | None = None) -> int:
        """How many messages (of one group, or all) still wait for their acknowledgement."""
        return self._ledger.unacknowledged(group_id)

    # --- link lifetime --------------------------------------------------------------------------

    async def _supervise(self, link: ServerLink) -> None:
        try:
            while True:
                reason = await self._serve(link)
                self._set_state(SessionState.RECONNECTING)
                self._events.put(Disconnected(reason))
                new_link = await self._reconnect()
                if new_link is None:
                    return
                link = new_link
                self._set_state(SessionState.CONNECTED)
        except Exception as exc:  # a bug must not leave the UI waiting on a dead session forever
            log.exception("session failed")
            self._give_up(f"internal error: {exc}")

    async def _serve(self, link: ServerLink) -> str:
        """Read and send over ``link`` until it drops; return why it dropped."""
        assert self._dropped is not None
        tasks = [asyncio.create_task(self._read(link)), asyncio.create_task(self._send_outbox(link))]
        try:
            return await self._dropped
        finally:
            for task in tasks:
                task.cancel()
            await _close(link)

    async def _reconnect(self) -> ServerLink | None:
        """Try until a link is up and restored (returned) or the time is up (None, after GaveUp)."""
        loop = asyncio.get_running_loop()
        deadline = None if self._give_up_after is None else loop.time() + self._give_up_after
        problem = "no attempt was made"
        for attempt, step in enumerate(self._backoff.delays(), 1):
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            delay = step if remaining is None else min(step, remaining)
            self._events.put(Reconnecting(attempt, delay))
            await self._wait(delay)
            outcome = await self._attempt()
            if isinstance(outcome, ServerLink):
                return outcome
            problem = outcome
        self._give_up(problem)
        return None

    async def _attempt(self) -> ServerLink | str:
        """One reconnect: the restored link, or why it failed."""
        try:
            link = await ServerLink.open(self.host, self.port, ssl=self._ssl)
        except LinkError as exc:
            return str(exc)
        try:
            if await self._restore(link):
                return link
            problem = "the server refused to let us rejoin"
        except LinkError as exc:
            problem = str(exc)
        await _close(link)
        return problem

    async def _restore(self, link: ServerLink) -> bool:
        """Rejoin every group, resend the outbox, then absorb the replay; False to retry later."""
        self._attach(link)
        rejoined: list[GroupJoined] = []
        refused: list[tuple[Membership, Error]] = []
        for group in list(self._ledger.groups.values()):
            join = partial(JoinGroup, group_id=group.group_id, password=group.password, name=group.name)
            try:
                reply = await link.request(partial(join, since_seq=group.resume_seq))
            except RequestRefused as exc:
                refused.append((group, exc.error))
                continue
            assert isinstance(reply, GroupJoined)
            rejoined.append(reply)
        if self._retry_refused(refused):
            return False
        for joined in rejoined:
            if membership := self._ledger.groups.get(joined.group_id):
                membership.refusals = 0
        while self._ledger.outbox:  # before the replay is read: a replayed message of ours is then known by seq
            await self._send_head(link)
        self._events.put(Reconnected())  # first, so a UI shows "back" before what it missed
        for joined in rejoined:
            self._events.put(Rejoined(joined))
        self._drain(link)
        return True

    def _retry_refused(self, refused: list[tuple[Membership, Error]]) -> bool:
        retry = False
        for group, error in refused:
            group.refusals += 1
            final = group.refusals >= MAX_REJOIN_REFUSALS
            self._events.put(RejoinRefused(group.group_id, error.code, error.message, final))
            if final:
                self._ledger.forget(group.group_id, error.message)
            retry = retry or not final
        return retry

    def _give_up(self, reason: str) -> None:
        unsent = self._ledger.drop_outbox()
        self._set_state(SessionState.CLOSED)
        self._events.put(GaveUp(reason, unsent))

    # --- reading and sending on one link ----------------------------------------------------------

    def _attach(self, link: ServerLink) -> None:
        self._link = link
        self._dropped = asyncio.get_running_loop().create_future()
        self._closing_reason = None
        self._ledger.requeue_unplaced()

    async def _read(self, link: ServerLink) -> None:
        while True:
            await self._events.room()
            item = await link.notifications.get()
            self._absorb(item)
            if isinstance(item, ConnectionLost):
                return

    async def _send_outbox(self, link: ServerLink) -> None:
        while True:
            await self._until(lambda: bool(self._ledger.outbox))
            try:
                await self._send_head(link)
            except LinkError:
                await _close(link)  # e.g. no answer in time: the link is useless; its end reconnects
                return
            self._drain(link)

    async def _send_head(self, link: ServerLink) -> None:
        """Send the oldest unacknowledged message and wait for its answer.

        Raises:
            LinkError: the link dropped; the message stays first in the outbox.
        """
        message = self._ledger.outbox[0]
        send = partial(SendMessage, group_id=message.group_id, text=message.text, client_msg_id=message.client_msg_id)
        try:
            reply = await link.request(send)
        except RequestRefused as exc:
            self._ledger.refused(message, exc.code, exc.error.message)
            return
        assert isinstance(reply, MessageAccepted)
        self._ledger.accepted(message, reply)

    def _drain(self, link: ServerLink) -> None:
        """Absorb every notification that arrived so far, then place the acknowledgements after them."""
        while not link.notifications.empty():
            self._absorb(link.notifications.get_nowait())
        self._ledger.place_acks()

    def _absorb(self, item: Notification) -> None:
        if isinstance(item, MessagePosted):
            self._ledger.posted(item)
        elif isinstance(item, MemberJoined | MemberLeft):
            self._ledger.member_changed(item)
        elif isinstance(item, ServerClosing):
            self._closing_reason = item.reason
        elif isinstance(item, ConnectionLost) and self._dropped is not None and not self._dropped.done():
            self._dropped.set_result(_drop_reason(item.reason, self._closing_reason))
        # Anything else (a pong, a reply that came after its timeout) changes nothing.

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
        self._wake()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


async def _close(link: ServerLink) -> None:
    # Shielded: ServerLink.close awaits the stream's one close waiter, and cancelling one of two tasks
    # closing the same link (the sender and the supervisor) would cancel that shared future for both.
    await asyncio.shield(link.close())


def _drop_reason(lost: str, closing: str | None) -> str:
    if closing is None:
        return lost
    usual = "the server is shutting down"
    return usual if closing in ("", usual) else f"{usual}: {closing}"
