"""A chat session's bookkeeping, without I/O: the groups it is in, what it owes the server, what the UI saw.

:class:`Ledger` holds the memberships (with the newest ``seq`` delivered, for rejoining with
``since_seq``), the outbox of messages not yet acknowledged, and acknowledgements waiting for their
place in a group's ``seq`` order. Everything here is synchronous so the session can absorb a batch of
frames without another task interleaving.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from chat_tui.session_events import (
    EventStream,
    MessageAcknowledged,
    MessagePending,
    MessageRefused,
    OutgoingMessage,
)
from shared import MemberJoined, MemberLeft, MessageAccepted, MessagePosted

_Ack = tuple[OutgoingMessage, MessageAccepted]


@dataclass
class Membership:
    """What the session needs to rejoin a group and to deliver its messages once each."""

    group_id: int
    password: str
    name: str
    joined_at: int = 0  # the group's last_seq at our first join: rejoins never ask for older messages
    seen_seq: int = 0  # the newest seq delivered to the consumer
    oldest_seq: int | None = None  # the oldest seq delivered (replay, live or fetch_older)
    refusals: int = 0  # rejoins refused in a row

    @property
    def resume_seq(self) -> int:
        """The ``since_seq`` of a rejoin."""
        return max(self.seen_seq, self.joined_at)

    def saw(self, seq: int) -> None:
        self.seen_seq = max(self.seen_seq, seq)
        self.oldest_seq = seq if self.oldest_seq is None else min(self.oldest_seq, seq)


class Ledger:
    """Memberships, the outbox and the delivery order, reporting to ``events``.

    Args:
        events: where deliveries go.
        changed: called after anything a waiter may care about changed (the outbox, an acknowledgement).
    """

    def __init__(self, events: EventStream, changed: Callable[[], None]) -> None:
        self.groups: dict[int, Membership] = {}
        self.outbox: deque[OutgoingMessage] = deque()  # unacknowledged, in sending order
        self._unplaced: dict[int, dict[int, _Ack]] = {}  # group -> seq -> acknowledged, not yet delivered
        self._events = events
        self._changed = changed

    # --- the outbox -------------------------------------------------------------------------------

    def queue(self, group_id: int, text: str) -> OutgoingMessage:
        """Add a message for ``group_id`` (KeyError if we are not in it) and report it pending."""
        message = OutgoingMessage(group_id, uuid.uuid4().hex, self.groups[group_id].name, text)
        self.outbox.append(message)
        self._events.put(MessagePending(message))
        self._changed()
        return message

    def accepted(self, message: OutgoingMessage, reply: MessageAccepted) -> None:
        """The server stored ``message``; it is delivered at its place by :meth:`place_acks`."""
        self._discard(message)
        self._unplaced.setdefault(message.group_id, {})[reply.seq] = (message, reply)

    def refused(self, message: OutgoingMessage, code: str, reason: str) -> None:
        self._discard(message)
        self._events.put(MessageRefused(message, code, reason))
        self._changed()

    def requeue_unplaced(self) -> None:
        """Put acknowledgements that were never delivered back in the outbox: the resend answers them again.

        Used when a link is abandoned before its replay was read (a refused rejoin, a loss mid-restore).
        """
        unplaced = sorted((ack for acks in self._unplaced.values() for ack in acks.values()), key=lambda a: a[1].ts)
        self.outbox.extendleft(message for message, _ in reversed(unplaced))
        self._unplaced.clear()

    def drop_outbox(self) -> int:
        """Forget every unacknowledged message (the session gave up); return how many."""
        count = len(self.outbox) + sum(len(acks) for acks in self._unplaced.values())
        self.outbox.clear()
        self._unplaced.clear()
        self._changed()
        return count

    def unacknowledged(self, group_id: int | None = None) -> int:
        return sum(1 for m in self.outbox if group_id is None or m.group_id == group_id)

    def unsettled(self, group_id: int) -> bool:
        """Messages of the group still wait for an acknowledgement or for its delivery."""
        return self.unacknowledged(group_id) > 0 or bool(self._unplaced.get(group_id))

    def forget(self, group_id: int, reason: str) -> None:
        """Leave the group behind; its unacknowledged messages are refused with ``reason``."""
        self.groups.pop(group_id, None)
        self._unplaced.pop(group_id, None)
        for message in [m for m in self.outbox if m.group_id == group_id]:
            self.refused(message, "not_member", reason)
        self._changed()

    def _discard(self, message: OutgoingMessage) -> None:
        with contextlib.suppress(ValueError):  # already forgotten with its group
            self.outbox.remove(message)

    # --- delivery ---------------------------------------------------------------------------------

    def posted(self, posted: MessagePosted) -> None:
        """Deliver a message from the server (replay or live) unless it was delivered already."""
        group = self.groups.get(posted.group_id)
        if group is None:
            return  # a group we left
        self.place_acks(posted.group_id, below=posted.seq)
        own = self._unplaced.get(posted.group_id, {}).pop(posted.seq, None)
        if own is not None:  # a replayed message of ours whose first acknowledgement was lost
            self._deliver_ack(*own)
        elif posted.seq > group.seen_seq:
            group.saw(posted.seq)
            self._events.put(posted)

    def member_changed(self, event: MemberJoined | MemberLeft) -> None:
        if event.group_id in self.groups:
            self._events.put(event)

    def place_acks(self, group_id: int | None = None, below: int | None = None) -> None:
        """Deliver the acknowledgements (of one group, or all) with a seq below ``below`` (or all)."""
        for gid in [group_id] if group_id is not None else list(self._unplaced):
            acks = self._unplaced.get(gid, {})
            for seq in sorted(s for s in acks if below is None or s < below):
                self._deliver_ack(*acks.pop(seq))
            if not acks:
                self._unplaced.pop(gid, None)
        self._changed()

    def _deliver_ack(self, message: OutgoingMessage, reply: MessageAccepted) -> None:
        if group := self.groups.get(message.group_id):
            group.saw(reply.seq)
        self._events.put(MessageAcknowledged(message, reply.seq, reply.ts))
