"""Connections: the loop's table of open connections: their output, timers, what the selector watches
on each, and closing them.

Closing happens at safe points: a connection found dead in the middle of a broadcast, or of a walk
over the table, is *doomed* and dropped at the end of the turn; one that gets a goodbye is *closing*
and dropped once its output has drained. Either way the core is told at once (``detach``), so nothing
more is done on its behalf from then on.
"""

from __future__ import annotations

import itertools
import logging
import selectors
import socket
from collections.abc import Callable, Iterator

from chat_server.client import Client, Due
from chat_server.config import ServerConfig
from chat_server.listener import Listener
from shared import Error, Ping, encode

log = logging.getLogger("chat_server")


class Connections:
    """Every open connection by id, with the sets the loop works through each turn."""

    def __init__(
        self,
        config: ServerConfig,
        selector: selectors.BaseSelector,
        listener: Listener,
        detach: Callable[[Client], None],
    ) -> None:
        self.config = config
        self._selector = selector
        self._listener = listener
        self._detach = detach
        self._by_id: dict[int, Client] = {}
        self.pending: set[Client] = set()  # output queued this turn: flushed at its end
        self.unread: set[Client] = set()  # TLS clients whose last read left bytes inside the TLS layer
        self._doomed: list[Client] = []  # to drop at the end of this turn (see doom)
        self._pings = itertools.count(1)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, client: Client) -> bool:
        return client.client_id in self._by_id

    def __iter__(self) -> Iterator[Client]:
        return iter(list(self._by_id.values()))  # a copy: walking it may drop clients

    def get(self, client_id: int) -> Client | None:
        return self._by_id.get(client_id)

    def add(self, client: Client) -> None:
        self._by_id[client.client_id] = client
        self._selector.register(client.sock, selectors.EVENT_READ, client)
        client.events = selectors.EVENT_READ

    # --- output --------------------------------------------------------------------------------

    def queue(self, client: Client, data: bytes | memoryview, now: float, *, bulk: bool = False) -> None:
        """Queue ``data`` for the client, to be written at the end of the turn. Live output past the
        hard limit makes it a slow consumer: doomed, as it may be in the middle of a broadcast.

        Args:
            bulk: a reply the server streams as the client reads (see :class:`OutputBuffer`).
        """
        if client.closing is not None or client.doomed is not None:  # client.active, inlined: hot path
            return
        out = client.out
        if not bulk and not out.live:
            client.last_written = now  # client.output_pending(now), inlined
        out.append(data, bulk=bulk)
        if out.live > self.config.output_hard_limit:
            self._log_cut(client, f"output over {self.config.output_hard_limit} bytes")
            self.doom(client, f"slow consumer: output over {self.config.output_hard_limit} bytes")
            return
        self.pending.add(client)

    def refuse(self, client: Client, now: float, error: Error) -> None:
        """Send a connection-level error, handle nothing more, close once it is written."""
        log.info(
            "connection error: conn=%d address=%s code=%s message=%r", client.client_id, client.address,
            error.code, error.message,
        )  # fmt: skip
        client.output_pending(now)
        client.out.append(encode(error))
        self.close_after_flush(client, f"{error.code}: {error.message}")

    def _log_cut(self, client: Client, reason: str) -> None:
        log.info(
            "slow consumer cut: conn=%d address=%s bytes=%d live_bytes=%d reason=%r", client.client_id,
            client.address, client.out.size, client.out.live, reason,
        )  # fmt: skip

    # --- timers ----------------------------------------------------------------------------------

    def housekeep(self, now: float) -> None:
        """Check every connection's timers: close the overdue, ping the silent."""
        for client in self:
            if client.lingering_since is not None:
                if now - client.lingering_since > self.config.linger_timeout:
                    self.drop(client, client.closing or "")
                continue
            due = client.overdue(now, self.config)
            if isinstance(due, str):
                self._expire(client, now, due)
            elif due is Due.PING and client.active:
                client.pings_unanswered += 1
                self.queue(client, encode(Ping(next(self._pings) & 0xFFFFFFFF)), now)

    def _expire(self, client: Client, now: float, reason: str) -> None:
        if client.out.size or client.tls_handshaking:
            if client.out.size:
                self._log_cut(client, reason)
            self.doom(client, reason)  # a goodbye would wait behind stuck output, or TLS never started
        else:
            self.refuse(client, now, Error(None, "timeout", reason))

    # --- writing ---------------------------------------------------------------------------------

    def flush(self, client: Client, now: float) -> None:
        """Write what the client can take now (up to the write budget); drop it once a goodbye is out."""
        try:
            client.write(self.config.write_budget, now)
        except OSError as exc:
            self.drop(client, f"write failed: {exc.strerror or exc}")
            return
        if not client.out.size and client.closing is not None:
            self._linger(client, now)
        else:
            self.watch(client)

    def _linger(self, client: Client, now: float) -> None:
        """The goodbye is written: send our end-of-stream, then read and discard until the peer closes
        too (or ``linger_timeout``). Closing with its bytes unread would make the kernel reset the
        connection, which can destroy the goodbye before the peer reads it."""
        if client.lingering_since is not None:
            return
        try:
            client.sock.shutdown(socket.SHUT_WR)  # a TLS socket falls back to plain reads: fine, they are discarded
        except OSError:
            self.drop(client, client.closing or "")
            return
        client.lingering_since = now
        self.set_events(client, selectors.EVENT_READ)

    def discard_input(self, client: Client) -> None:
        """Read what a lingering client still sends; drop it once it has closed its end."""
        try:
            data = client.sock.recv(self.config.read_chunk)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(client, client.closing or "")

    def watch(self, client: Client) -> None:
        """Register for what the client needs now: writability while output is pending; readability
        unless it is closing, its inbox is over its bound, or its output is above high water (a client
        that does not read its replies is not read, until its output drains to low water)."""
        # Called after every flush and every batch of requests: the checks are inlined (hot path).
        if (
            self._by_id.get(client.client_id) is not client
            or client.tls_handshaking
            or client.lingering_since is not None
        ):
            return
        size, config = client.out.size, self.config
        full = client.output_full = size > config.output_high_water or (
            client.output_full and size > config.output_low_water
        )
        was_reading = client.reading
        reading = client.reading = not (full or client.input_done or len(client.inbox) > config.inbox_limit)
        if reading and not was_reading and client.has_buffered_input():
            self.unread.add(client)
        events = selectors.EVENT_READ if reading and client.closing is None and client.doomed is None else 0
        if size:
            events |= selectors.EVENT_WRITE
        if events != client.events:
            self.set_events(client, events)

    def set_events(self, client: Client, events: int) -> None:
        """Watch ``events`` on the client's socket; none: unregister it (a paused client with nothing
        to write must not keep a level-triggered selector spinning on its unread bytes)."""
        # The client remembers what is registered: asking the selector's map costs more than a flush.
        if client.events == events:
            return
        if not client.events:
            self._selector.register(client.sock, events, client)
        elif not events:
            self._selector.unregister(client.sock)
        else:
            self._selector.modify(client.sock, events, client)
        client.events = events

    # --- closing ---------------------------------------------------------------------------------

    def close_after_flush(self, client: Client, reason: str) -> None:
        """Handle nothing more for the client; close it once its output (a goodbye) is written."""
        if client.closing is None:
            client.closing = reason
            self.pending.add(client)
            self._detach(client)

    def close_all(self, goodbye: bytes, reason: str, now: float) -> None:
        """Queue ``goodbye`` for everyone and close each once it is written. Everyone is closing before
        the core hears of anyone leaving, so nobody is told of the others leaving after its goodbye."""
        clients = list(self)
        for client in clients:
            if client.active and not client.tls_handshaking:
                client.output_pending(now)
                client.out.append(goodbye)
            if client.closing is None:
                client.closing = reason
                self.pending.add(client)
        for client in clients:
            self._detach(client)

    def doom(self, client: Client, reason: str) -> None:
        """Mark the client to be dropped at the end of the turn; it gets no more output meanwhile.

        Used where dropping at once is unsafe: in the middle of a broadcast or of a walk over clients.
        """
        if client.doomed is None:
            client.doomed = reason
            client.out.clear()
            self._doomed.append(client)
            self._detach(client)

    def reap(self) -> None:
        """Drop the doomed clients (a safe point: no list of them is being walked)."""
        while self._doomed:
            doomed, self._doomed = self._doomed, []
            for client in doomed:
                self.drop(client, client.doomed or "")

    def drop(self, client: Client, reason: str) -> None:
        """Forget the client now: unregister, close, and tell the core (its groups see it leave)."""
        if self._by_id.pop(client.client_id, None) is None:
            return
        self.pending.discard(client)
        self.unread.discard(client)
        if client.refusal is None:
            self._listener.admission.release(client.key)
        else:
            self._listener.refusal_done()
        self.set_events(client, 0)
        client.sock.close()
        client.out.clear()
        log.info("%r closed: %s", client, reason)
        self._detach(client)
