"""The selectors loop: accept, read, hand events to the core, write, keep time. It only moves bytes.

Fault isolation is a property of this loop: an exception while handling one connection's bytes or
requests (decoding, the core, a password result, a replay, a write) is logged with its traceback and
closes that one connection with an ``internal`` error; the loop and every other client go on.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable

from chat_server import auth
from chat_server.auth_pool import AuthJob, AuthOutcome, AuthPool
from chat_server.client import Client
from chat_server.config import ServerConfig
from chat_server.connections import Connections
from chat_server.core import Action, ChatCore, Fanout, HashPassword, Outgoing
from chat_server.fanout import streams
from chat_server.listener import Accepted, Listener, format_address
from chat_server.outgoing import Replay, StoreCall
from chat_server.shared_link import SharedStoreLink
from chat_server.store import default_store_url, open_store
from chat_server.store.redis import RedisStore
from shared import (
    Error,
    Event,
    GroupJoined,
    HistoryPage,
    LocalProtocolError,
    MemberList,
    ProtocolError,
    ServerClosing,
    encode,
)

log = logging.getLogger("chat_server")

_LISTENER = "listener"
_WAKER = "waker"
# Timers (hello, idle frame, ping, write stall, soft output cap) are checked this often.
_TICK = 1.0
# Replies the server streams as the client reads (bounded by the request budget and by not handling
# a client's requests while its output is above high water): never what makes a slow consumer.
_BULK_REPLIES = (GroupJoined, MemberList, HistoryPage)
_INTERNAL = "the server failed while handling this connection; connect again"


class ChatServer:
    """One server: bind, then :meth:`serve_forever` until :meth:`request_stop`.

    Args:
        config: every setting and limit.
        clock: wall time (Unix seconds) for message timestamps and the core's limits.
        monotonic: the loop's own timers (handshakes, write stalls, pings, request budgets).
    """

    def __init__(
        self,
        config: ServerConfig,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self.store = open_store(config.store_url or default_store_url(), sync=config.sync)
        log.info("store=%s sync=%s", self.store.location, config.sync)
        self.core = ChatCore(config, self.store, auth.decoy_hash(), clock)
        self._selector = selectors.DefaultSelector()
        self._listener = Listener(config, self._selector, _LISTENER)
        self._table = Connections(config, self._selector, self._listener, self._detach)
        self._waiting: set[Client] = set()  # requests in their inbox
        self._replaying: set[Client] = set()  # a catch-up replay in progress
        self._ids = itertools.count(1)
        self._waker_r, self._waker_w = socket.socketpair()
        self._auth_pool = AuthPool(config.auth_workers, self._wake)
        # A shared store (Redis) is never called on the loop: its calls run on the store thread, and
        # what other processes publish arrives through the bus listener; both wake the loop.
        self._shared: SharedStoreLink | None = None
        self._replay_reads: set[Client] = set()  # a catch-up read in flight on the store thread
        if isinstance(self.store, RedisStore):
            self._shared = SharedStoreLink(self.store, self._wake, self._carry_out, self.core.on_bus, self._fail_id)
        self._stop_requested = False
        self._next_tick = 0.0

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.address

    @property
    def connections(self) -> int:
        return len(self._table)

    def client_at(self, peer: tuple[str, int]) -> Client | None:
        """The connection from the peer ``(host, port)``, if open (for tests and debugging)."""
        return next((c for c in self._table if c.address == format_address(*peer)), None)

    def bind(self) -> tuple[str, int]:
        """Open the listening socket; returns the bound (host, port), useful with port 0."""
        self._listener.bind()
        for sock in (self._waker_r, self._waker_w):
            sock.setblocking(False)
        self._selector.register(self._waker_r, selectors.EVENT_READ, _WAKER)
        if self._shared is not None:
            self._shared.start()
        log.info("listening on %s%s", format_address(*self.address), " (TLS)" if self._listener.tls else "")
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
        now = self._monotonic()
        if any(self._wants_replay(client) for client in self._replaying):
            return 0.0
        deadlines = [self._next_tick, self._listener.paused_until or self._next_tick]
        if (held := self.core.next_deadline(self._clock())) is not None:
            deadlines.append(now + held - self._clock())
        # A client waiting only for its request budget: wake when the budget affords its next request.
        deadlines += (client.inbox.ready_at(now) for client in self._waiting if self._may_handle(client))
        return max(0.0, min(deadlines) - now)

    def _turn(self, timeout: float) -> None:
        self._listener.resume_if_due()
        self._read_unread()
        for key, mask in self._selector.select(0.0 if self._table.unread else timeout):
            if key.data is _LISTENER:
                for accepted in self._listener.accept():
                    self._add_client(accepted)
            elif key.data is _WAKER:
                self._drain_waker()
            else:
                self._guarded("reading", self._on_ready, key.data, mask)
        for client in list(self._waiting):
            self._guarded("handling requests", self._dispatch, client)
        self._carry_out(self.core.release_delayed(self._clock()))
        # Group commit: everything posted this turn is stored in one transaction, then acknowledged.
        self._carry_out(self.core.commit())
        for client in list(self._replaying):
            self._guarded("replaying", self._pump_replay, client)
        if (now := self._monotonic()) >= self._next_tick:
            self._next_tick = now + _TICK
            self._table.housekeep(now)
        self._table.reap()
        self._flush_pending()

    # --- fault isolation ---------------------------------------------------------------------------

    def _guarded(self, during: str, step: Callable[..., None], client: Client, *args: object) -> None:
        """Run ``step(client, *args)``; an exception fails that one connection, never the loop."""
        try:
            step(client, *args)
        except Exception:
            self._fail(client, during)

    def _fail(self, client: Client, during: str) -> None:
        """Log the exception with its traceback; close the client with ``internal`` (or at once, if
        it was already closing: its goodbye may be what failed)."""
        log.exception("internal error: conn=%d address=%s during=%r", client.client_id, client.address, during)
        if client not in self._table:
            return
        if client.closing is not None or client.doomed is not None:
            self._table.doom(client, f"internal error while {during}")
        else:
            self._table.refuse(client, self._monotonic(), Error(None, "internal", _INTERNAL))

    # --- accepting -------------------------------------------------------------------------------

    def _add_client(self, accepted: Accepted) -> None:
        client = Client(next(self._ids), accepted, self.config, self._monotonic())
        self._table.add(client)
        if client.refusal is None:
            self.core.connect(client.client_id, client.key)
            client.attached = True
            log.info("%r accepted", client)
        if client.tls_handshaking:
            self._guarded("TLS handshake", self._continue_handshake, client)
        elif client.refusal is not None:  # plain TCP: tell it at once, then linger until it has read it
            self._table.refuse(client, self._monotonic(), client.refusal)

    def _continue_handshake(self, client: Client) -> None:
        try:
            done = client.handshake()
        except OSError as exc:
            self._table.drop(client, f"TLS handshake failed: {exc}")
            return
        if not done:  # the handshake wants to read or to write next; watch both, it tells us again
            self._table.set_events(client, selectors.EVENT_READ | selectors.EVENT_WRITE)
        elif client.refusal is not None:  # refused at admission: now it can hear why
            self._table.refuse(client, self._monotonic(), client.refusal)
        else:
            self._table.watch(client)
            self._read(client)  # the first frames may already sit decrypted in the TLS layer

    # --- reading ---------------------------------------------------------------------------------

    def _read_unread(self) -> None:
        unread, self._table.unread = self._table.unread, set()
        for client in unread:  # a paused client is re-added by _watch when it resumes
            if client in self._table and client.reading and client.active:
                self._guarded("reading", self._read, client)

    def _on_ready(self, client: Client, mask: int) -> None:
        if client not in self._table:
            return
        if client.lingering_since is not None:
            self._table.discard_input(client)
            return
        if client.tls_handshaking:
            self._continue_handshake(client)
            return
        if mask & selectors.EVENT_WRITE:
            self._table.pending.add(client)
        if mask & selectors.EVENT_READ and client.reading and client.active:
            self._read(client)

    def _read(self, client: Client) -> None:
        try:
            data = client.read(self.config.read_chunk)
        except OSError as exc:
            self._table.drop(client, f"read failed: {exc.strerror or exc}")
            return
        if data is None:
            return
        if not data:
            self._table.drop(client, "closed by peer")
            return
        client.heard_from(self._monotonic())
        if client.has_buffered_input():  # decrypted bytes left in the TLS layer: no readiness will tell us
            self._table.unread.add(client)
        self._receive(client, data)
        self._dispatch(client)

    def _receive(self, client: Client, data: bytes) -> None:
        """Decode ``data`` into the client's inbox; a protocol violation goes last and ends its input."""
        try:
            client.inbox.put(client.conn.receive_data(data))
        except ProtocolError as exc:
            client.inbox.put([*(e for e in exc.pending_events if isinstance(e, Event)), exc])
            client.input_done = True
        self._waiting.add(client)

    def _dispatch(self, client: Client) -> None:
        """Hand the client's requests to the core in the order sent, one at a time, while it may go on."""
        now, wall = self._monotonic(), self._clock()  # once per batch: this is the hot path
        handle, inbox, client_id = self.core.handle, client.inbox, client.client_id
        may_handle = self._may_handle(client)
        while may_handle and (item := inbox.take(now)) is not None:
            if isinstance(item, ProtocolError):
                self._table.refuse(client, now, Error(None, item.code, item.message))
                may_handle = False  # it is closing
            elif actions := handle(client_id, item, wall):
                self._carry_out(actions)
                may_handle = self._may_handle(client)
            # A request that gave no action (a message waiting for the commit) changed nothing that
            # _may_handle looks at: the table, the client's output and its hash in flight come only
            # with actions. So the check is skipped for it: it cost more than handling the message.
        if not client.inbox:
            self._waiting.discard(client)
        self._table.watch(client)

    def _may_handle(self, client: Client) -> bool:
        """Whether the client's next request may go to the core now (its budget aside): it is not
        closing, its output is not above high water (its replies are streamed as it reads), and no
        earlier request of it is still in flight (a password check: the core says it is busy)."""
        return (
            client in self._table
            and client.active
            and client.out.size <= self.config.output_high_water
            and not self.core.busy(client.client_id)
            and not (self._shared is not None and self._shared.waits(client.client_id))
        )

    # --- carrying out the core's actions -----------------------------------------------------------

    def _carry_out(self, actions: list[Action]) -> None:
        now = self._monotonic()
        for action in actions:
            if isinstance(action, Fanout):
                self._fan_out(action, now)
            elif isinstance(action, Outgoing):
                self._deliver(action, now)
            elif isinstance(action, Replay):
                self._start_replay(action)
            elif isinstance(action, StoreCall):
                self._call_store(action)
            else:
                self._auth_pool.submit(action)

    def _fan_out(self, fanout: Fanout, now: float) -> None:
        chunk, own = streams(fanout)
        get, queue = self._table.get, self._table.queue
        if chunk:
            for client_id in fanout.readers:
                if client_id not in own and (client := get(client_id)) is not None:
                    queue(client, chunk, now)
        for client_id, pieces in own.items():
            if (client := get(client_id)) is not None:
                for piece in pieces:
                    queue(client, piece, now)

    def _deliver(self, outgoing: Outgoing, now: float) -> None:
        recipients = [c for cid in outgoing.recipients if (c := self._table.get(cid)) is not None]
        if len(recipients) == 1:
            # A reply to one client goes through its Connection, which tracks the handshake state.
            client = recipients[0]
            try:
                data = client.conn.send(outgoing.event)
            except LocalProtocolError:
                return  # the connection already failed; it is closing
            self._table.queue(client, data, now, bulk=isinstance(outgoing.event, _BULK_REPLIES))
            return
        data = encode(outgoing.event)  # a broadcast is encoded once; every buffer shares these bytes
        for client in recipients:
            self._table.queue(client, data, now)

    def _drain_waker(self) -> None:
        try:
            while self._waker_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        if self._shared is not None:
            self._shared.drain()
        for job, outcome in self._auth_pool.finished():
            try:
                self._finish_auth(job, outcome)
            except Exception:
                if (client := self._table.get(job.client_id)) is None:
                    log.exception("internal error finishing a password check of a closed connection")
                else:
                    self._fail(client, "finishing a password check")

    def _finish_auth(self, job: AuthJob, outcome: AuthOutcome) -> None:
        # The core is told even when the client has gone: the job held a place in its hashing queue.
        if isinstance(outcome, Exception):
            log.error("password hashing failed: %r", outcome)
            self._carry_out(self.core.abort_auth(job.client_id, job.request.request_id))
        elif isinstance(job, HashPassword):
            assert isinstance(outcome, str)
            self._carry_out(self.core.finish_create(job.client_id, job.request, outcome, self._clock()))
        else:
            self._carry_out(self.core.finish_join(job.client_id, job.request, bool(outcome), self._clock()))

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is already pending) or closed during shutdown
            self._waker_w.send(b"\0")

    # --- catch-up replay ---------------------------------------------------------------------------------

    def _start_replay(self, replay: Replay) -> None:
        if (client := self._table.get(replay.client_id)) is not None and client.active:
            if client.replays is None:
                client.replays = deque()
            client.replays.append([replay.group_id, replay.after_seq])
            self._replaying.add(client)

    def _wants_replay(self, client: Client) -> bool:
        return (
            bool(client.replays)
            and client.active
            and client.out.size < self.config.output_low_water
            and client not in self._replay_reads
        )

    def _pump_replay(self, client: Client) -> None:
        """Queue the next pieces of the client's catch-up while its output is below low water."""
        while self._wants_replay(client) and (replays := client.replays):
            replay = replays[0]
            if self._shared is not None:
                self._read_replay(client, replay)
                break
            frames, after_seq = self.core.replay_chunk(client.client_id, replay[0], replay[1], self.config.replay_chunk)
            for data in frames:
                self._table.queue(client, data, self._monotonic(), bulk=True)
            if after_seq is None:
                replays.popleft()
            elif not frames:
                break  # nothing yet, though not caught up: try again on a later turn
            else:
                replay[1] = after_seq
        if not client.replays or not client.active:
            client.replays = None
            self._replaying.discard(client)

    def _read_replay(self, client: Client, replay: list[int]) -> None:
        """The next part of a catch-up from a shared store: read off the loop, queued when it comes back."""

        def deliver(frames: list[bytes], after_seq: int | None) -> list[Action]:
            self._replay_reads.discard(client)
            if (
                client not in self._table
                or client.replays is None
                or not client.replays
                or client.replays[0] is not replay
            ):
                return []
            for data in frames:
                self._table.queue(client, data, self._monotonic(), bulk=True)
            if after_seq is None:
                client.replays.popleft()
            else:
                replay[1] = after_seq
            if not client.replays:
                client.replays = None
                self._replaying.discard(client)
            return []

        call = self.core.replay_call(client.client_id, replay[0], replay[1], self.config.replay_chunk, deliver)
        if call is None:
            deliver([], None)
        else:
            self._replay_reads.add(client)
            self._call_store(call)

    # --- the shared store's calls ----------------------------------------------------------------------

    def _call_store(self, call: StoreCall) -> None:
        assert self._shared is not None  # only the cluster code (a shared store) makes store calls
        self._shared.submit(call)

    def _fail_id(self, client_id: int) -> None:
        if (client := self._table.get(client_id)) is None:
            log.exception("internal error after a store call for a closed connection")
        else:
            self._fail(client, "finishing a store call")

    # --- writing and leaving ---------------------------------------------------------------------

    def _flush_pending(self) -> None:
        # Flushing can drop a client, whose departure queues notices for others: flush those too.
        while self._table.pending:
            pending, self._table.pending = self._table.pending, set()
            now, flush = self._monotonic(), self._table.flush  # one clock read per batch: write stalls are seconds
            for client in pending:
                if client in self._table and client.doomed is None:
                    self._guarded("writing", flush, client, now)
            self._table.reap()

    def _detach(self, client: Client) -> None:
        """The client is closing or gone: tell the core once; its inbox and replays are dropped."""
        client.inbox.clear()
        client.replays = None
        self._waiting.discard(client)
        self._replaying.discard(client)
        if client.attached:
            client.attached = False
            self._carry_out(self.core.disconnect(client.client_id))

    # --- shutdown ----------------------------------------------------------------------------------

    def _shut_down(self) -> None:
        log.info("shutting down: %d connection(s)", len(self._table))
        self._listener.close()
        # Messages the rate limiter holds are posted now, then stored and acknowledged: never lost.
        self._carry_out(self.core.release_all_held(self._clock()))
        self._carry_out(self.core.commit())
        if self._shared is not None:  # commits in flight are answered; members leave other processes' lists
            self._shared.finish(self.core.leave_cluster, max(self.config.shutdown_grace, 2.0))
        goodbye = encode(ServerClosing("the server is shutting down"))
        self._table.close_all(goodbye, "server shutting down", self._monotonic())
        deadline = self._monotonic() + self.config.shutdown_grace
        while self._table and self._monotonic() < deadline:
            self._flush_pending()
            if self._table:
                self._turn(max(0.0, min(deadline - self._monotonic(), _TICK)))
        for client in self._table:
            self._table.drop(client, "server shut down")
        self._auth_pool.shutdown()
        if self._shared is not None:
            self._shared.stop()
        self.store.close()
        self._selector.close()
        self._waker_r.close()
        self._waker_w.close()
        log.info("stopped")
