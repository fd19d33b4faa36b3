"""Bringing a dropped chat session back: backoff, rejoin with ``since_seq``, resend what may be stored.

After a link drops, :class:`Reconnector` tries again with capped exponential backoff and jitter until
a new link is up and restored, or the time allowed is over. Restoring a link rejoins every group with
``since_seq`` (PROTOCOL.md §6), resends the messages the server may already hold with their original
``client_msg_id`` (§7) and only then lets the replay be read, so a message of ours that was stored
before its acknowledgement was lost shows once, as acknowledged. Messages never sent wait for the
courier's usual sending, after :class:`Reconnected`, so a long queue does not hold the UI offline.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from chat_tui.session.courier import Courier, close_link
from chat_tui.session.events import EventStream, Reconnected, Reconnecting, Rejoined, RejoinRefused
from chat_tui.session.ledger import Ledger, Membership
from chat_tui.session.link import LinkError, RequestRefused, ServerLink
from chat_tui.session.timeline import GroupTimeline
from shared import Error, GroupJoined, JoinGroup

RECONNECT_FIRST_DELAY = 0.5
"""Seconds before the first attempt: a server restart is hardly noticed, a refused port costs little."""
RECONNECT_MAX_DELAY = 30.0
"""Cap of the doubling: a long outage costs one attempt per half minute per client, not a storm."""
RECONNECT_JITTER = 0.2
"""±20 % on each delay, so the clients a restart dropped together do not all come back in lockstep."""
BAD_CREDENTIALS = "bad_credentials"
MAX_REJOIN_REFUSALS = 6
"""Refused rejoins of one group (e.g. ``name_taken`` while the server still sees our old connection)
tried on successive backoff steps before the group is given up: 0.5+1+2+4+8 s, about 15 s, outlast
the ghost of a server process that crashed (its members are dropped after --node-timeout, 10 s, plus
one heartbeat) when several processes share groups over Redis."""


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


class Reconnector:
    """Reconnects a session and restores its groups and outbox on the new link.

    Args:
        open_link: connects and handshakes (``ServerLink.open`` with the session's address and TLS).
        ledger, events, courier: the session's bookkeeping, event stream and traffic.
        settle: called with a group's timeline when members we knew have had their time to rejoin.
        backoff: the delays between attempts.
        give_up_after: seconds of failed attempts before giving up; None tries forever.
        wait: how a delay is waited (``asyncio.sleep``; tests pass a gate).
    """

    def __init__(
        self,
        open_link: Callable[[], Awaitable[ServerLink]],
        ledger: Ledger,
        events: EventStream,
        courier: Courier,
        *,
        backoff: Backoff,
        give_up_after: float | None,
        wait: Callable[[float], Awaitable[None]],
        settle: Callable[[GroupTimeline], None],
    ) -> None:
        self._open_link = open_link
        self._ledger = ledger
        self._events = events
        self._courier = courier
        self._backoff = backoff
        self._give_up_after = give_up_after
        self._wait = wait
        self._settle = settle

    async def reconnect(self) -> ServerLink | str:
        """Try until a link is up and restored (returned) or the time is up (why the last try failed)."""
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
        return problem

    async def _attempt(self) -> ServerLink | str:
        """One reconnect: the restored link, or why it failed."""
        try:
            link = await self._open_link()
        except LinkError as exc:
            return str(exc)
        try:
            if await self._restore(link):
                return link
            problem = "the server refused to let us rejoin"
        except LinkError as exc:
            problem = str(exc)
        await close_link(link)
        return problem

    async def _restore(self, link: ServerLink) -> bool:
        """Rejoin every group, resend what may be stored, then absorb the replay; False to retry later."""
        self._courier.new_link()
        rejoined: list[GroupJoined] = []
        refused: list[tuple[Membership, Error]] = []
        for group in list(self._ledger.groups.values()):
            since = group.resume_seq
            try:
                reply = await self._rejoin(link, group, since)
            except RequestRefused as exc:
                refused.append((group, exc.error))
                continue
            self._ledger.expect_replay(group.group_id, since, reply.last_seq)
            rejoined.append(reply)
        if self._retry_refused(refused):
            return False
        for joined in rejoined:
            if membership := self._ledger.groups.get(joined.group_id):
                membership.refusals = 0
        while self._ledger.head_may_be_stored():  # before the replay is read: a copy there is known by seq
            await self._courier.send_head(link)
        self._events.put(Reconnected())  # first, so a UI shows "back" before what it missed
        for joined in rejoined:
            if timeline := self._ledger.timeline(joined.group_id):
                timeline.rejoined(joined.members, complete=not joined.more_members)
                self._settle(timeline)
            self._events.put(Rejoined(joined))
        self._courier.drain(link)
        return True

    async def _rejoin(self, link: ServerLink, group: Membership, since: int) -> GroupJoined:
        """Rejoin with the resume token (no password hash on the server); with the password if the
        token is refused as ``bad_credentials`` (expired, or the server lost its secret) or none was issued.

        Raises:
            RequestRefused, LinkError: as ``ServerLink.request``.
        """
        join = partial(JoinGroup, group_id=group.group_id, name=group.name, since_seq=since)
        attempts = []
        if group.resume_token:
            attempts.append(partial(join, password=None, resume_token=group.resume_token))
        if group.password is not None:
            attempts.append(partial(join, password=group.password))
        for number, attempt in enumerate(attempts, 1):
            try:
                reply = await link.request(attempt)
            except RequestRefused as exc:
                if exc.code != BAD_CREDENTIALS or number == len(attempts):
                    raise
                continue
            assert isinstance(reply, GroupJoined)
            group.resume_token = reply.resume_token or group.resume_token
            self._ledger.expect_members(group.group_id, reply.members, reply.more_members)
            return reply
        raise AssertionError("a membership holds a password or a resume token")

    def _retry_refused(self, refused: list[tuple[Membership, Error]]) -> bool:
        retry = False
        for group, error in refused:
            group.refusals += 1
            final = group.refusals >= MAX_REJOIN_REFUSALS
            if group.timeline is not None:
                group.timeline.rejoin_refused(error.code, error.message, final=final)
            self._events.put(RejoinRefused(group.group_id, error.code, error.message, final))
            if final:
                self._ledger.forget(group.group_id, error.message)
            retry = retry or not final
        return retry
