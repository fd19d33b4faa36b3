"""The selectors loop: accept, read, hand events to the core, write, keep time. It only moves bytes."""

from __future__ import annotations

import contextlib
import itertools
import logging
import selectors
import socket
import time
from collections.abc import Callable

from chat_server import auth
from chat_server.auth_pool import AuthPool
from chat_server.client import Client, Due
from chat_server.config import ServerConfig
from chat_server.core import Action, ChatCore, Frame, HashPassword, Outgoing
from chat_server.listener import Listener
from chat_server.store import default_store_url, open_store
from shared import Error, Event, LocalProtocolError, Ping, ProtocolError, ServerClosing, encode

log = logging.getLogger("chat_server")

_LISTENER = "listener"
_WAKER = "waker"
# Timers (hello, idle frame, ping, write stall, soft output cap) are checked this often.
_TICK = 1.0


class ChatServer:
    """One server: bind, then :meth:`serve_forever` until :meth:`request_stop`."""

    def __init__(self, config: ServerConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        store_url = config.store_url or default_store_url()
        self.store = open_store(store_url, sync=config.sync)
        log.info("store: %s (sync=%s)", store_url, config.sync)
        self.core = ChatCore(config, self.store, auth.decoy_hash())
        self._selector = selectors.DefaultSelector()
        self._listener = Listener(config, self._selector, _LISTENER)
        self._clients: dict[int, Client] = {}
        self._pending: set[Client] = set()
        self._unread: set[Client] = set()  # TLS clients whose last read left bytes inside the TLS layer
        self._doomed: list[Client] = []  # to drop at the end of this turn (see _doom)
        self._ids = itertools.count(1)
        self._pings = itertools.count(1)
        self._waker_r, self._waker_w = socket.socketpair()
        self._auth_pool = AuthPool(config.auth_workers, self._wake)
        self._stop_requested = False
        self._next_tick = 0.0

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.address

    @property
    def connections(self) -> int:
        return len(self._clients)

    def bind(self) -> tuple[str, int]:
        """Open the listening socket; returns the bound (host, port), useful with port 0."""
        self._listener.bind()
        for sock in (self._waker_r, self._waker_w):
            sock.setblocking(False)
        self._selector.register(self._waker_r, selectors.EVENT_READ, _WAKER)
        log.info("listening on %s:%d%s", *self.address, " (TLS)" if self._listener.tls else "")
        return self.address

    def request_stop(self) -> None:
        """Ask the loop to shut down gracefully; safe from a signal handler or another thread."""
        self._stop_requested = True
        self._wake()

    def serve_forever(self) -> None:
        """Run until a stop is requested, then say goodbye to every client and return."""
        while not self._stop_requested:
            self._turn(self._select_timeout())
        self._shut_down()

    def _select_timeout(self) -> float:
        now = time.monotonic()
        deadlines = [self._next_tick, self._listener.paused_until or self._next_tick]
        if (held := self.core.next_deadline(self._clock())) is not None:
            deadlines.append(now + held - self._clock())
        return max(0.0, min(deadlines) - now)

    def _turn(self, timeout: float) -> None:
        self._listener.resume_if_due()
        unread, self._unread = self._unread, set()
        for client in unread:  # a paused client is re-added by _watch when it resumes
            if (
                client.client_id in self._clients
                and client.reading
                and client.closing is None
                and client.doomed is None
            ):
                self._read(client)
        for key, mask in self._selector.select(0.0 if self._unread else timeout):
            if key.data is _LISTENER:
                for sock, peer in self._listener.accept():
                    self._add_client(sock, peer)
            elif key.data is _WAKER:
                self._drain_waker()
            else:
                self._on_ready(key.data, mask)
        now = self._clock()
        self._carry_out(self.core.release_delayed(now))
        # Group commit: everything posted this turn is stored in one transaction, then acknowledged.
        self._carry_out(self.core.commit())
        if time.monotonic() >= self._next_tick:
            self._housekeep()
        self._reap()
        self._flush_pending()

    # --- accepting -------------------------------------------------------------------------------

    def _add_client(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        client = Client(next(self._ids), sock, peer, self.config, time.monotonic())
        self._clients[client.client_id] = client
        self._selector.register(sock, selectors.EVENT_READ, client)
        self.core.connect(client.client_id, client.host)
        log.info("%r accepted", client)
        if client.tls_handshaking:
            self._continue_handshake(client)

    def _continue_handshake(self, client: Client) -> None:
        try:
            done = client.handshake()
        except OSError as exc:
            self._drop(client, f"TLS handshake failed: {exc}")
            return
        if done:
            self._watch(client)
            self._read(client)  # the first frames may already sit decrypted in the TLS layer
        else:  # the handshake wants to read or to write next; watch both, it tells us again
            self._set_events(client, selectors.EVENT_READ | selectors.EVENT_WRITE)

    # --- reading ---------------------------------------------------------------------------------

    def _on_ready(self, client: Client, mask: int) -> None:
        if client.client_id not in self._clients:
            return
        if client.tls_handshaking:
            self._continue_handshake(client)
            return
        if mask & selectors.EVENT_WRITE:
            self._pending.add(client)
        if mask & selectors.EVENT_READ and client.closing is None and client.doomed is None:
            self._read(client)

    def _read(self, client: Client) -> None:
        try:
            data = client.read(self.config.read_chunk)
        except OSError as exc:
            self._drop(client, f"read failed: {exc.strerror or exc}")
            return
        if data is None:
            return
        if not data:
            self._drop(client, "closed by peer")
            return
        client.heard_from(time.monotonic())
        if client.has_buffered_input():  # decrypted bytes left in the TLS layer: no readiness will tell us
            self._unread.add(client)
        violation: ProtocolError | None = None
        try:
            events = client.conn.receive_data(data)
        except ProtocolError as exc:
            events, violation = [e for e in exc.pending_events if isinstance(e, Event)], exc
        for event in events:
            self._carry_out(self.core.handle(client.client_id, event, self._clock()))
        if violation is not None:
            self._refuse(client, violation.code, violation.message)

    def _refuse(self, client: Client, code: str, message: str) -> None:
        """Send a connection-level error, stop reading, close once it is written."""
        log.info("%r closing: %s: %s", client, code, message)
        client.out.append(encode(Error(None, code, message)))
        self._close_after_flush(client, f"{code}: {message}")

    # --- carrying out the core's actions -----------------------------------------------------------

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Frame):
                for client_id in action.recipients:
                    if (client := self._clients.get(client_id)) is not None:
                        self._queue_output(client, action.data)
            elif isinstance(action, Outgoing):
                self._deliver(action)
            else:
                self._auth_pool.submit(action)

    def _deliver(self, outgoing: Outgoing) -> None:
        recipients = [self._clients[cid] for cid in outgoing.recipients if cid in self._clients]
        if len(recipients) == 1:
            # A reply to one client goes through its Connection, which tracks the handshake state.
            client = recipients[0]
            try:
                data = client.conn.send(outgoing.event)
            except LocalProtocolError:
                return  # the connection already failed; it is closing
            self._queue_output(client, data)
            return
        data = encode(outgoing.event)  # a broadcast is encoded once; every buffer shares these bytes
        for client in recipients:
            self._queue_output(client, data)

    def _queue_output(self, client: Client, data: bytes) -> None:
        if client.doomed is not None:
            return
        client.out.append(data)
        if client.out.size > self.config.output_hard_limit:
            # Dropped at the end of the turn, not here: we may be in the middle of a broadcast.
            self._doom(client, f"slow consumer: output over {self.config.output_hard_limit} bytes")
            return
        self._pending.add(client)

    def _drain_waker(self) -> None:
        try:
            while self._waker_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        now = self._clock()
        for job, outcome in self._auth_pool.finished():
            if isinstance(outcome, Exception):
                log.error("password hashing failed: %r", outcome)
                self._carry_out(self.core.abort_auth(job.client_id, job.request.request_id))
            elif isinstance(job, HashPassword):
                assert isinstance(outcome, str)
                self._carry_out(self.core.finish_create(job.client_id, job.request, outcome, now))
            else:
                self._carry_out(self.core.finish_join(job.client_id, job.request, bool(outcome), now))

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is already pending) or closed during shutdown
            self._waker_w.send(b"\0")

    # --- timers ----------------------------------------------------------------------------------------

    def _housekeep(self) -> None:
        now = time.monotonic()
        self._next_tick = now + _TICK
        for client in list(self._clients.values()):
            due = client.overdue(now, self.config)
            if isinstance(due, str):
                self._expire(client, due)
            elif due is Due.PING and client.closing is None:
                client.pings_unanswered += 1
                self._queue_output(client, encode(Ping(next(self._pings) & 0xFFFFFFFF)))

    def _expire(self, client: Client, reason: str) -> None:
        if client.out.size or client.tls_handshaking:
            self._doom(client, reason)  # a goodbye would wait behind stuck output, or TLS never started
        else:
            self._refuse(client, "timeout", reason)

    # --- writing and closing ---------------------------------------------------------------------

    def _flush_pending(self) -> None:
        # Flushing can drop a client, whose departure queues notices for others: flush those too.
        while self._pending:
            pending, self._pending = self._pending, set()
            for client in pending:
                if client.client_id in self._clients and client.doomed is None:
                    self._flush(client)
            self._reap()

    def _flush(self, client: Client) -> None:
        try:
            client.write(self.config.write_budget, time.monotonic())
        except OSError as exc:
            self._drop(client, f"write failed: {exc.strerror or exc}")
            return
        if not client.out.size and client.closing is not None:
            self._drop(client, client.closing)
        else:
            self._watch(client)

    def _watch(self, client: Client) -> None:
        """Register for what the client needs now: writability while output is pending; readability
        unless it is closing or its own output is above high water (stop reading a client that does
        not read its replies, until it drains to a quarter of that)."""
        if client.out.size > self.config.output_high_water:
            client.reading = False
        elif client.out.size <= self.config.output_high_water // 4 and not client.reading:
            client.reading = True
            if client.has_buffered_input():
                self._unread.add(client)
        reading = client.reading and client.closing is None
        events = (selectors.EVENT_READ if reading else 0) | (selectors.EVENT_WRITE if client.out.size else 0)
        self._set_events(client, events or selectors.EVENT_READ)  # always watch something: EOF shows as readable

    def _set_events(self, client: Client, events: int) -> None:
        if self._selector.get_key(client.sock).events != events:
            self._selector.modify(client.sock, events, client)

    def _close_after_flush(self, client: Client, reason: str) -> None:
        if client.closing is None:
            client.closing = reason
            self._pending.add(client)

    def _doom(self, client: Client, reason: str) -> None:
        """Mark the client to be dropped at the end of the turn; it gets no more output meanwhile.

        Used where dropping at once is unsafe: in the middle of a broadcast or of a walk over clients.
        """
        if client.doomed is None:
            client.doomed = reason
            client.out.clear()
            self._doomed.append(client)

    def _reap(self) -> None:
        """Drop the doomed clients (a safe point: no list of them is being walked)."""
        while self._doomed:
            doomed, self._doomed = self._doomed, []
            for client in doomed:
                self._drop(client, client.doomed or "")

    def _drop(self, client: Client, reason: str) -> None:
        """Forget the client now: leave its groups, unregister, close."""
        if self._clients.pop(client.client_id, None) is None:
            return
        self._pending.discard(client)
        self._listener.admission.release(client.host)
        self._selector.unregister(client.sock)
        client.sock.close()
        client.out.clear()
        log.info("%r closed: %s", client, reason)
        self._carry_out(self.core.disconnect(client.client_id))

    # --- shutdown ----------------------------------------------------------------------------------

    def _shut_down(self) -> None:
        log.info("shutting down: %d connection(s)", len(self._clients))
        self._listener.close()
        self._carry_out(self.core.release_delayed(float("inf")))  # held messages are stored, not lost
        self._carry_out(self.core.commit())
        goodbye = encode(ServerClosing("the server is shutting down"))
        for client in list(self._clients.values()):
            client.out.append(goodbye)
            self._close_after_flush(client, "server shutting down")
        deadline = time.monotonic() + self.config.shutdown_grace
        while self._clients and time.monotonic() < deadline:
            self._flush_pending()
            if self._clients:
                self._turn(max(0.0, min(deadline - time.monotonic(), _TICK)))
        for client in list(self._clients.values()):
            self._drop(client, "server shut down")
        self._auth_pool.shutdown()
        self.store.close()
        self._selector.close()
        self._waker_r.close()
        self._waker_w.close()
        log.info("stopped")
