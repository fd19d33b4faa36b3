"""The traffic of a chat session over one link: the server's notifications in, the outbox out.

Delivery order: the link resolves a reply's future and queues notifications in wire order, so when
an acknowledgement comes back every frame before it is already on the link's queue. The courier
absorbs that queue synchronously (:meth:`Courier.drain`) before placing the acknowledgement, so each
group's messages and our acknowledgements reach the consumer once each, in ``seq`` order.

Sending is one message at a time, oldest first: the outbox order is the order the server stores. When
the server says we send too fast (``rate_limited``), the message keeps its place, the UI sees it as
still pending (:class:`MessageDelayed`), and it goes again after a pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from chat_tui.ledger import Changes, Ledger
from chat_tui.net import ConnectionLost, LinkError, Notification, RequestRefused, ServerLink
from chat_tui.session_events import EventStream, MessageDelayed
from shared import MemberJoined, MemberLeft, MessageAccepted, MessagePosted, SendMessage, ServerClosing

RATE_LIMITED = "rate_limited"
SLOW_DOWN_FIRST_DELAY = 0.5
"""Seconds before resending a message the server refused as too fast: its default rate is 2/s, so one
token is back by then."""
SLOW_DOWN_MAX_DELAY = 8.0
"""Cap of the doubling while the server keeps refusing: a retry every few seconds costs it nothing."""


class Courier:
    """Reads and sends for a session over its current link.

    Args:
        ledger: where notifications go and where the outbox is.
        events: the session's event stream (for :class:`MessageDelayed`).
        changes: woken when the outbox changes; waited on for something to send.
        pause: how a slow-down delay is waited (``asyncio.sleep``).
    """

    def __init__(
        self,
        ledger: Ledger,
        events: EventStream,
        changes: Changes,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._ledger = ledger
        self._events = events
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
        means wait and send it again, still first.

        Raises:
            LinkError: the link dropped; the message stays first in the outbox.
        """
        delay = SLOW_DOWN_FIRST_DELAY
        while self._ledger.outbox:
            message = self._ledger.outbox[0]
            self._ledger.sending(message)
            send = partial(SendMessage, group_id=message.group_id, text=message.text)
            try:
                reply = await link.request(partial(send, client_msg_id=message.client_msg_id))
            except RequestRefused as exc:
                if exc.code != RATE_LIMITED:
                    self._ledger.refused(message, exc.code, exc.error.message)
                    return
                self._events.put(MessageDelayed(message, delay))
                await self._pause(delay)
                delay = min(delay * 2, SLOW_DOWN_MAX_DELAY)
                continue
            assert isinstance(reply, MessageAccepted)
            self._ledger.accepted(message, reply)
            return

    def drain(self, link: ServerLink) -> None:
        """Absorb every notification that arrived so far, then place the acknowledgements after them."""
        while not link.notifications.empty():
            self._absorb(link.notifications.get_nowait())
        self._ledger.place_acks()

    async def _read(self, link: ServerLink) -> None:
        while True:
            await self._events.room()
            item = await link.notifications.get()
            self._absorb(item)
            if isinstance(item, ConnectionLost):
                return

    async def _send_outbox(self, link: ServerLink) -> None:
        while True:
            await self._changes.until(lambda: bool(self._ledger.outbox))
            try:
                await self.send_head(link)
            except LinkError:
                await close_link(link)  # e.g. no answer in time: the link is useless; its end reconnects
                return
            self.drain(link)

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


async def close_link(link: ServerLink) -> None:
    """Close ``link``, shielded: ServerLink.close awaits the stream's one close waiter, and cancelling one
    of two tasks closing the same link (the sender and the supervisor) would cancel it for both."""
    await asyncio.shield(link.close())


def _drop_reason(lost: str, closing: str | None) -> str:
    if closing is None:
        return lost
    usual = "the server is shutting down"
    return usual if closing in ("", usual) else f"{usual}: {closing}"
