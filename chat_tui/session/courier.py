"""The traffic of a chat session over one link: the server's notifications in, the outbox out.

Delivery order: an acknowledgement is recorded in the ledger by the link's ``on_reply`` hook, the
moment it is read and before any later frame is queued, so the ledger sees acks and notifications in
wire order. It cannot wait for the awaiting ``send_head`` to resume: that takes several loop turns
(``asyncio.wait_for``), in which the read task may already deliver a ``message_posted`` read in the
same chunk (issue 8 item 11). A recorded ack is delivered at its place: before the first message with
a higher ``seq`` (:meth:`Ledger.posted`), or when the queue is drained (:meth:`Courier.drain`), so each
group's messages and our acknowledgements reach its timeline in ``seq`` order.

Sending is one message at a time, oldest first: the outbox order is the order the server stores. When
the server says we send too fast (``rate_limited``), failed to store it (``internal``) or cannot reach
its shared store (``unavailable``), the message
keeps its place, text and ``client_msg_id``, its timeline shows it as delayed (still pending),
and it goes again after a pause: the server's dedup recognises the resend if the first try was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from chat_tui.session.events import OutgoingMessage
from chat_tui.session.ledger import Changes, Ledger
from chat_tui.session.link import ConnectionLost, LinkError, Notification, RequestRefused, ServerLink
from shared import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberPresence,
    MemberRenamed,
    MemberTyping,
    MessageAccepted,
    MessagePosted,
    SendMessage,
    ServerClosing,
    limits,
)
from shared.events import MemberList

ABSORB_BATCH = 256
"""Frames absorbed into the timelines in one go before the loop yields: each batch is one change per
group (one repaint), and between batches keys and paints run. Bounded, so a flood never holds the loop
for long; large enough that the per-batch costs (a repaint) are spread over many messages."""
RATE_LIMITED = "rate_limited"
INTERNAL = "internal"
UNAVAILABLE = "unavailable"
"""The server's shared store (Redis, with several server processes) is away: nothing was stored. It
comes back by itself, so the message is resent for as long as it takes, like a rate limit."""
SLOW_DOWN_FIRST_DELAY = 0.5
"""Seconds before resending a message the server refused as too fast: its default rate is 2/s, so one
token is back by then. A refusal that carries ``retry_after_ms`` waits that long instead."""
SLOW_DOWN_MAX_DELAY = 8.0
"""Cap of the doubling while the server keeps refusing: a retry every few seconds costs it nothing."""
MAX_INTERNAL_RETRIES = 5
"""Resends of a message the server failed to store (``internal``: e.g. a storage error) before it is
refused for good: 0.5+1+2+4+8 s ride out a brief fault (a locked or busy database) without the user
retyping, while a server that fails every time does not keep one message in flight forever."""


class Courier:
    """Reads and sends for a session over its current link.

    Args:
        ledger: where notifications go and where the outbox is.
        changes: woken when the outbox changes; waited on for something to send.
        pause: how a slow-down delay is waited (``asyncio.sleep``).
    """

    def __init__(
        self,
        ledger: Ledger,
        changes: Changes,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._ledger = ledger
        self._changes = changes
        self._pause = pause
        self._dropped: asyncio.Future[str] | None = None
        self._closing_reason: str | None = None

    def new_link(self) -> None:
        """Start over on a new link: its loss is awaited from now on, and acknowledgements never
        delivered on the old one go back into the outbox (the resend answers them again)."""
        self._dropped = asyncio.get_running_loop().create_future()
        self._closing_reason = None
        self._ledger.requeue_unplaced()

    async def serve(self, link: ServerLink) -> str:
        """Read and send over ``link`` until it drops; close it and return why it dropped."""
        assert self._dropped is not None, "call new_link first"
        tasks = [asyncio.create_task(self._read(link)), asyncio.create_task(self._send_outbox(link))]
        try:
            return await self._dropped
        finally:
            for task in tasks:
                task.cancel()
            await close_link(link)

    async def send_head(self, link: ServerLink) -> None:
        """Send the oldest unacknowledged message and wait for its answer; a ``rate_limited`` answer
        (or, up to :data:`MAX_INTERNAL_RETRIES` times, ``internal``) means wait and send it again,
        still first, with the same text and ``client_msg_id``.

        Raises:
            LinkError: the link dropped; the message stays first in the outbox.
        """
        delay = SLOW_DOWN_FIRST_DELAY
        failures = 0
        while self._ledger.outbox:
            message = self._ledger.outbox[0]
            self._ledger.sending(message)
            send = partial(SendMessage, group_id=message.group_id, text=message.text)
            if message.action:
                send = partial(send, **_action_fields(message, link))
            record = partial(self._record_ack, message)
            try:
                await link.request(partial(send, client_msg_id=message.client_msg_id), on_reply=record)
            except RequestRefused as exc:
                failures += exc.code == INTERNAL
                if exc.code not in (RATE_LIMITED, INTERNAL, UNAVAILABLE) or failures > MAX_INTERNAL_RETRIES:
                    self._ledger.refused(message, exc.code, exc.error.message)
                    return
                wait = delay if exc.retry_after is None else exc.retry_after
                if exc.code == UNAVAILABLE:  # a store that stays away is asked less often, every 4 s at most
                    wait = max(wait, delay / 2)
                self._ledger.delayed(message, wait, exc.code)
                await self._pause(wait)
                delay = min(delay * 2, SLOW_DOWN_MAX_DELAY)
                continue
            return

    def _record_ack(self, message: OutgoingMessage, reply: Event) -> None:
        # Runs inside the link's read, in wire order (see the module docstring).
        if isinstance(reply, MessageAccepted):
            self._ledger.accepted(message, reply)

    def drain(self, link: ServerLink) -> None:
        """Absorb every notification that arrived so far, then place the acknowledgements after them."""
        with self._ledger.batch():
            while not link.notifications.empty():
                self._absorb(link.notifications.get_nowait())
            self._ledger.place_acks()

    async def _read(self, link: ServerLink) -> None:
        """Absorb notifications in batches of at most :data:`ABSORB_BATCH`, yielding between them.

        Each batch runs inside every timeline's ``batch()``, so a view gets one change per batch; the
        ``sleep(0)`` lets the UI handle keys and paint before the next. Nothing queues between here and
        a view, so a slow UI makes frames wait in the link's bounded queue and then in the socket.
        """
        queue = link.notifications
        while True:
            item = await queue.get()
            with self._ledger.batch():
                lost = self._absorb(item)
                for _ in range(ABSORB_BATCH - 1):
                    if lost or queue.empty():
                        break
                    lost = self._absorb(queue.get_nowait())
            if lost:
                return
            await asyncio.sleep(0)

    async def _send_outbox(self, link: ServerLink) -> None:
        while True:
            await self._changes.until(lambda: bool(self._ledger.outbox))
            try:
                await self.send_head(link)
            except LinkError:
                await close_link(link)  # e.g. no answer in time: the link is useless; its end reconnects
                return
            self.drain(link)

    def _absorb(self, item: Notification) -> bool:
        """Take in one notification; True if it is the end of the link."""
        if isinstance(item, MessagePosted):
            self._ledger.posted(item)
        elif isinstance(item, MemberJoined | MemberLeft):
            self._ledger.member_changed(item)
        elif isinstance(item, MemberList):
            self._ledger.member_page(item)
        elif isinstance(item, MemberTyping | MemberPresence | MemberRenamed):
            self._ledger.member_news(item)
        elif isinstance(item, ServerClosing):
            self._closing_reason = item.reason
        elif isinstance(item, ConnectionLost) and self._dropped is not None and not self._dropped.done():
            self._dropped.set_result(_drop_reason(item.reason, self._closing_reason))
            self._changes.notify()  # e.g. a join waiting for its member list
        # Anything else (a pong, a reply that came after its timeout) changes nothing.
        return isinstance(item, ConnectionLost)


def _action_fields(message: OutgoingMessage, link: ServerLink) -> dict[str, object]:
    """How a /me line is sent: as one where the server speaks "action", else as its text ("* Alice waves")."""
    if "action" in link.features:
        return {"action": True}
    return {"text": f"* {message.sender} {message.text}"[: limits.MAX_TEXT_LENGTH]}


async def close_link(link: ServerLink) -> None:
    """Close ``link``, shielded: ServerLink.close awaits the stream's one close waiter, and cancelling one
    of two tasks closing the same link (the sender and the supervisor) would cancel it for both."""
    await asyncio.shield(link.close())


def _drop_reason(lost: str, closing: str | None) -> str:
    if closing is None:
        return lost
    usual = "the server is shutting down"
    return usual if closing in ("", usual) else f"{usual}: {closing}"
