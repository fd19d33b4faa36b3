"""The per-connection record the loop keeps: socket I/O (plain or TLS), protocol state, output, timers."""

from __future__ import annotations

import enum
import ssl
from collections import deque

from chat_server.config import ServerConfig
from chat_server.groups import ClientId
from chat_server.inbox import Inbox
from chat_server.listener import Accepted, format_address
from chat_server.outbuf import OutputBuffer
from shared import Connection, Error, Role, State

# Errors that mean "not now" on a non-blocking socket, plain or TLS: try again on the next readiness.
_NOT_NOW = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Due(enum.Enum):
    """What a client's timers ask for at a housekeeping tick."""

    NOTHING = "nothing"
    PING = "ping"


class Client:
    """One accepted connection."""

    __slots__ = (
        "address",
        "attached",
        "client_id",
        "closing",
        "conn",
        "connected_at",
        "doomed",
        "events",
        "inbox",
        "input_done",
        "key",
        "last_received",
        "last_written",
        "lingering_since",
        "out",
        "output_full",
        "pings_unanswered",
        "reading",
        "refusal",
        "replays",
        "sock",
        "soft_limit_since",
        "tls_handshaking",
    )

    def __init__(self, client_id: ClientId, accepted: Accepted, config: ServerConfig, now: float) -> None:
        self.client_id = client_id
        self.sock = accepted.sock
        self.key = accepted.key
        self.address = format_address(*accepted.peer)
        # A TLS connection refused at admission: it only finishes its handshake and hears this.
        self.refusal: Error | None = accepted.refusal
        self.conn = Connection(Role.SERVER, max_frame_size=config.max_frame_size)
        self.out = OutputBuffer()
        self.inbox = Inbox(config)
        # Catch-up replays in progress, [group_id, after_seq] each, fed as output drains (ChatCore.Replay).
        # Made on first use, like every buffer here: an idle connection holds none (issue 11).
        self.replays: deque[list[int]] | None = None
        # When its goodbye was written and our side shut down (see Connections.linger); None before.
        self.lingering_since: float | None = None
        # Whether the core knows this connection (ChatCore.connect, until ChatCore.disconnect).
        self.attached = False
        # Set once a protocol violation ended its input: nothing more is read.
        self.input_done = False
        # Above high water until it drains to low water: requests are neither read nor handled meanwhile.
        self.output_full = False
        # Why we are closing gracefully, once decided; the socket closes when its output has drained.
        self.closing: str | None = None
        # Why it must go now: set where dropping would be unsafe (mid-broadcast), done at the turn's end.
        self.doomed: str | None = None
        # What the selector watches: reading stops while output or inbox is full (Loop._watch).
        self.reading = True
        # The selector events registered for its socket (0: not registered); kept by Connections.set_events.
        self.events = 0
        self.tls_handshaking = isinstance(self.sock, ssl.SSLSocket)
        self.connected_at = self.last_received = self.last_written = now
        self.soft_limit_since: float | None = None
        self.pings_unanswered = 0

    def __repr__(self) -> str:
        return f"conn {self.client_id} ({self.address})"

    def read(self, limit: int) -> bytes | None:
        """Up to ``limit`` received bytes; ``b""`` at end of stream; None if nothing is there yet.

        Raises:
            OSError: the connection failed.
        """
        try:
            data = self.sock.recv(limit)
        except _NOT_NOW:
            return None
        if isinstance(self.sock, ssl.SSLSocket):
            # Decrypted bytes can wait inside the TLS layer where the selector cannot see them: drain them.
            while data and len(data) < limit and (waiting := self.sock.pending()):
                data += self.sock.recv(min(waiting, limit - len(data)))
        return data

    def has_buffered_input(self) -> bool:
        """Whether received bytes wait inside the TLS layer, where the selector cannot see them."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def write(self, budget: int, now: float) -> None:
        """Send pending output without blocking, up to about ``budget`` bytes.

        Raises:
            OSError: the connection failed.
        """
        sent = self.out.write_to(self.sock, budget, _NOT_NOW)
        if sent:
            self.last_written = now

    def handshake(self) -> bool:
        """Advance the TLS handshake; True once it is complete.

        Raises:
            OSError: the handshake failed (ssl.SSLError is an OSError).
        """
        assert isinstance(self.sock, ssl.SSLSocket)
        try:
            self.sock.do_handshake()
        except _NOT_NOW:
            return False
        self.tls_handshaking = False
        return True

    def heard_from(self, now: float) -> None:
        self.last_received = now
        self.pings_unanswered = 0

    @property
    def active(self) -> bool:
        """Neither closing nor doomed: its requests are still handled and it still gets output."""
        return self.closing is None and self.doomed is None

    def output_pending(self, now: float) -> None:
        """Live output is about to be queued: if none was waiting, the write-stall clock starts now.

        Time in which there was nothing to write is not a stall (a quiet client whose first frame in
        a while is queued must not look as if it had not read for that long).
        """
        if not self.out.live:
            self.last_written = now

    def overdue(self, now: float, config: ServerConfig) -> str | Due:
        """Check every timer: a reason to close the connection, or what else is due."""
        return self._expired(now, config) or self._over_soft_limit(now, config) or self._ping_due(now, config)

    def _expired(self, now: float, config: ServerConfig) -> str | None:
        if self.refusal is not None and self.tls_handshaking and now - self.connected_at > config.tls_refusal_timeout:
            return f"no TLS handshake within {config.tls_refusal_timeout:g} s to hear a refusal"
        if (self.tls_handshaking or self.conn.state is not State.READY) and (
            now - self.connected_at > config.hello_timeout
        ):
            return f"no handshake within {config.hello_timeout:g} s"
        if self.conn.buffered and now - self.last_received > config.frame_timeout:
            return f"incomplete frame idle for {config.frame_timeout:g} s"
        # Bulk output (a catch-up replay, history pages) is streamed as the client reads: it is never
        # what makes a client a slow consumer; only live output waiting on it is.
        if self.out.live and now - self.last_written > config.write_timeout:
            return f"no write progress for {config.write_timeout:g} s"
        return None

    def _over_soft_limit(self, now: float, config: ServerConfig) -> str | None:
        if self.out.live <= config.output_soft_limit:
            self.soft_limit_since = None
        elif self.soft_limit_since is None:
            self.soft_limit_since = now
        elif now - self.soft_limit_since > config.output_soft_seconds:
            return f"slow consumer: output over {config.output_soft_limit} bytes for {config.output_soft_seconds:g} s"
        return None

    def _ping_due(self, now: float, config: ServerConfig) -> str | Due:
        silence = now - self.last_received
        if self.conn.state is State.READY and silence > config.ping_interval * (self.pings_unanswered + 1):
            if self.pings_unanswered >= config.max_unanswered_pings:
                return f"{self.pings_unanswered} pings unanswered"
            return Due.PING
        return Due.NOTHING
