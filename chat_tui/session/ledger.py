"""A chat session's bookkeeping, without I/O: the groups it is in and what it owes the server.

:class:`Ledger` holds the memberships (credentials, and each group's
:class:`~chat_tui.session.timeline.GroupTimeline`, which knows every seq delivered), the outbox of
messages not yet acknowledged, and acknowledgements waiting for their place in the wire order of a
group's ``seq``. Everything here is synchronous so the session can absorb a batch of frames without
another task interleaving.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from chat_tui.session.events import OutgoingMessage
from chat_tui.session.timeline import GroupTimeline
from shared import (
    MemberJoined,
    MemberLeft,
    MemberPresence,
    MemberRenamed,
    MemberTyping,
    MessageAccepted,
    MessagePosted,
)
from shared.events import MemberList

_Ack = tuple[OutgoingMessage, MessageAccepted]


@dataclass
class Membership:
    """What the session needs to rejoin a group, and the group's timeline (which delivers its messages).

    Credentials live here, in memory only (never on disk, never in a log line: ``repr=False``). A
    rejoin presents the ``resume_token`` of the last join (no password hash on the server); if the
    server refuses it (``bad_credentials``: expired, or a server secret that changed) it falls back to
    the password. The password is kept for that fallback, for the session's lifetime, as before
    tokens: dropping it would lock a user out of their groups after a day offline.
    """

    group_id: int
    password: str | None = field(repr=False)
    name: str
    resume_token: str = field(default="", repr=False)  # "" = none issued: rejoin with the password
    members: list[str] | None = None  # pages of a member list still arriving (``more_members``)
    refusals: int = 0  # rejoins refused in a row
    timeline: GroupTimeline | None = field(default=None, repr=False)  # from the join's reply on

    @property
    def resume_seq(self) -> int:
        """The ``since_seq`` of a rejoin (the timeline knows every seq delivered, and where we joined)."""
        return self.timeline.resume_seq if self.timeline is not None else 0


class Ledger:
    """Memberships, the outbox and the delivery order; deliveries go to each group's timeline.

    Args:
        changed: called after anything a waiter may care about changed (the outbox, an acknowledgement).
    """

    def __init__(self, changed: Callable[[], None]) -> None:
        self.groups: dict[int, Membership] = {}
        self.outbox: deque[OutgoingMessage] = deque()  # unacknowledged, in sending order
        self._unplaced: dict[int, dict[int, _Ack]] = {}  # group -> seq -> acknowledged, not yet delivered
        self._on_wire: set[str] = set()  # client_msg_ids in the outbox sent at least once: maybe stored
        self._changed = changed
        # client_msg_id = a random prefix per session + a counter: unique, and increasing within the
        # session, which keeps the server's index of ids append-only (random ids cost it ~8 µs a row).
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count(1)

    # --- the outbox -------------------------------------------------------------------------------

    def queue(self, group_id: int, text: str, *, action: bool = False) -> OutgoingMessage:
        """Add a message (a /me line if ``action``) for ``group_id`` (KeyError if we are not in it) and
        report it pending."""
        client_msg_id = f"{self._id_prefix}-{next(self._id_counter):010d}"
        message = OutgoingMessage(group_id, client_msg_id, self.groups[group_id].name, text, action)
        self.outbox.append(message)
        if timeline := self.timeline(group_id):
            timeline.pending(client_msg_id, message.sender, text, action=action)
        self._changed()
        return message

    def timeline(self, group_id: int) -> GroupTimeline | None:
        """The group's timeline (None: not a member, or the join's reply is not in yet)."""
        group = self.groups.get(group_id)
        return group.timeline if group is not None else None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold every timeline's change notices until the block ends: a burst of frames is one change."""
        with contextlib.ExitStack() as stack:
            for group in self.groups.values():
                if group.timeline is not None:
                    stack.enter_context(group.timeline.entries.batch())
            yield

    def accepted(self, message: OutgoingMessage, reply: MessageAccepted) -> None:
        """The server stored ``message``; it is delivered at its place by :meth:`place_acks`."""
        self._discard(message)
        self._unplaced.setdefault(message.group_id, {})[reply.seq] = (message, reply)

    def sending(self, message: OutgoingMessage) -> None:
        """``message`` goes on a wire: from now on the server may hold it even if no answer comes."""
        self._on_wire.add(message.client_msg_id)

    def head_may_be_stored(self) -> bool:
        """The oldest unacknowledged message was sent before; a rejoin must resend it before the replay
        is read, so that a stored copy in the replay is recognised as ours (by its seq)."""
        return bool(self.outbox) and self.outbox[0].client_msg_id in self._on_wire

    def refused(self, message: OutgoingMessage, code: str, reason: str) -> None:
        self._discard(message)
        if timeline := self.timeline(message.group_id):
            timeline.refused(message.client_msg_id, message.text, code, reason)
        self._changed()

    def delayed(self, message: OutgoingMessage, retry_in: float, code: str) -> None:
        """The server holds ``message`` back; it stays first in the outbox and is sent again."""
        if timeline := self.timeline(message.group_id):
            timeline.delayed(message.client_msg_id, retry_in, code)

    def requeue_unplaced(self) -> None:
        """Put acknowledgements that were never delivered back in the outbox: the resend answers them again.

        Used when a link is abandoned before its replay was read (a refused rejoin, a loss mid-restore).
        """
        unplaced = sorted((ack for acks in self._unplaced.values() for ack in acks.values()), key=lambda a: a[1].ts)
        self.outbox.extendleft(message for message, _ in reversed(unplaced))
        self._on_wire.update(message.client_msg_id for message, _ in unplaced)
        self._unplaced.clear()

    def drop_outbox(self) -> int:
        """Forget every unacknowledged message (the session gave up); return how many."""
        count = len(self.outbox) + sum(len(acks) for acks in self._unplaced.values())
        self.outbox.clear()
        self._unplaced.clear()
        self._on_wire.clear()
        self._changed()
        return count

    def unacknowledged(self, group_id: int | None = None) -> int:
        return sum(1 for m in self.outbox if group_id is None or m.group_id == group_id)

    def unsettled(self, group_id: int) -> bool:
        """Messages of the group still wait for an acknowledgement or for its delivery."""
        return self.unacknowledged(group_id) > 0 or bool(self._unplaced.get(group_id))

    def forget(self, group_id: int, reason: str) -> None:
        """Leave the group behind; its unacknowledged messages are refused with ``reason``."""
        self._unplaced.pop(group_id, None)
        for message in [m for m in self.outbox if m.group_id == group_id]:
            self.refused(message, "not_member", reason)
        self.groups.pop(group_id, None)
        self._changed()

    def _discard(self, message: OutgoingMessage) -> None:
        self._on_wire.discard(message.client_msg_id)
        with contextlib.suppress(ValueError):  # already forgotten with its group
            self.outbox.remove(message)

    # --- delivery ---------------------------------------------------------------------------------

    def posted(self, posted: MessagePosted) -> None:
        """Deliver a message from the server (replay or live); its timeline drops one it has."""
        timeline = self.timeline(posted.group_id)
        if timeline is None:
            return  # a group we left
        self.place_acks(posted.group_id, below=posted.seq)
        own = self._unplaced.get(posted.group_id, {}).pop(posted.seq, None)
        if own is not None:  # a replayed message of ours whose first acknowledgement was lost
            self._deliver_ack(*own)
        else:
            timeline.posted(posted.seq, posted.ts, posted.sender, posted.text, action=posted.action)

    def expect_replay(self, group_id: int, since_seq: int, last_seq: int) -> None:
        """A rejoin with ``since_seq`` was answered with ``last_seq``: a replay follows if anything is newer."""
        if timeline := self.timeline(group_id):
            timeline.expect_replay(since_seq, last_seq)

    def member_changed(self, event: MemberJoined | MemberLeft) -> None:
        if timeline := self.timeline(event.group_id):
            if isinstance(event, MemberJoined):
                timeline.member_joined(event.name)
            else:
                timeline.member_left(event.name)

    def member_news(self, event: MemberTyping | MemberPresence | MemberRenamed) -> None:
        """Typing, presence or a rename (PROTOCOL.md §9), for that group's timeline."""
        timeline = self.timeline(event.group_id)
        if timeline is None:
            return
        if isinstance(event, MemberTyping):
            timeline.member_typing(event.name)
        elif isinstance(event, MemberPresence):
            timeline.member_presence(event.name, event.away, event.reason)
        else:
            timeline.member_renamed(event.old, event.new)

    def expect_members(self, group_id: int, first_page: tuple[str, ...], more: bool) -> None:
        """A ``group_joined`` with ``first_page``; if ``more``, ``member_list`` pages follow."""
        if group := self.groups.get(group_id):
            group.members = list(first_page) if more else None
        self._changed()

    def member_page(self, page: MemberList) -> None:
        """One more page of a member list; the last completes it (:class:`MembersListed`)."""
        group = self.groups.get(page.group_id)
        if group is None or group.members is None:
            return  # a group we left, or a page nobody announced: nothing to complete
        group.members.extend(page.members)
        if not page.more:
            members, group.members = tuple(group.members), None
            if group.timeline is not None:
                group.timeline.members_listed(members)
            self._changed()

    def members_pending(self, group_id: int) -> bool:
        """Pages of this group's member list are still to come."""
        group = self.groups.get(group_id)
        return group is not None and group.members is not None

    def place_acks(self, group_id: int | None = None, below: int | None = None) -> None:
        """Deliver the acknowledgements (of one group, or all) with a seq below ``below`` (or all)."""
        if not self._unplaced:
            return  # the usual case, once per message received: nothing of ours waits for its place
        for gid in [group_id] if group_id is not None else list(self._unplaced):
            acks = self._unplaced.get(gid, {})
            for seq in sorted(s for s in acks if below is None or s < below):
                self._deliver_ack(*acks.pop(seq))
            if not acks:
                self._unplaced.pop(gid, None)
        self._changed()

    def _deliver_ack(self, message: OutgoingMessage, reply: MessageAccepted) -> None:
        if timeline := self.timeline(message.group_id):
            timeline.acknowledged(
                message.client_msg_id, message.sender, message.text, reply.seq, reply.ts, action=message.action
            )


class Changes:
    """Tasks waiting for the ledger or the session to change; :meth:`notify` wakes them to look again."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    async def until(self, ready: Callable[[], bool]) -> None:
        """Return once ``ready()`` is true, checking again after each :meth:`notify`."""
        while not ready():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
