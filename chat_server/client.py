"""The per-connection record the loop keeps: socket I/O (plain or TLS), protocol state, output, timers."""

from __future__ import annotations

import enum
import socket
import ssl

from chat_server.config import ServerConfig
from chat_server.groups import ClientId
from chat_server.outbuf import OutputBuffer
from shared import Connection, Role, State

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
        "client_id",
        "closing",
        "conn",
        "connected_at",
        "doomed",
        "host",
        "last_received",
        "last_written",
        "out",
        "pings_unanswered",
        "reading",
        "sock",
        "soft_limit_since",
        "tls_handshaking",
        "writing",
    )

    def __init__(
        self, client_id: ClientId, sock: socket.socket, peer: tuple[str, int], config: ServerConfig, now: float
    ) -> None:
        self.client_id = client_id
        self.sock = sock
        self.host = peer[0]
        self.address = f"{peer[0]}:{peer[1]}"
        self.conn = Connection(Role.SERVER, max_frame_size=config.max_frame_size)
        self.out = OutputBuffer()
        # Why we are closing gracefully, once decided; the socket closes when its output has drained.
        self.closing: str | None = None
        # Why it must go now: set where dropping would be unsafe (mid-broadcast), done at the turn's end.
        self.doomed: str | None = None
        # What the selector watches: reading stops while our output to it is above high water.
        self.reading = True
        self.writing = False
        self.tls_handshaking = isinstance(sock, ssl.SSLSocket)
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

    def overdue(self, now: float, config: ServerConfig) -> str | Due:
        """Check every timer: a reason to close the connection, or what else is due."""
        if (self.tls_handshaking or self.conn.state is not State.READY) and (
            now - self.connected_at > config.hello_timeout
        ):
            return f"no handshake within {config.hello_timeout:g} s"
        if self.conn.buffered and now - self.last_received > config.frame_timeout:
            return f"incomplete frame idle for {config.frame_timeout:g} s"
        if self.out.size and now - self.last_written > config.write_timeout:
            return f"no write progress for {config.write_timeout:g} s"
        if self.out.size <= config.output_soft_limit:
            self.soft_limit_since = None
        elif self.soft_limit_since is None:
            self.soft_limit_since = now
        elif now - self.soft_limit_since > config.output_soft_seconds:
            return f"slow consumer: output over {config.output_soft_limit} bytes for {config.output_soft_seconds:g} s"
        silence = now - self.last_received
        if self.conn.state is State.READY and silence > config.ping_interval * (self.pings_unanswered + 1):
            if self.pings_unanswered >= config.max_unanswered_pings:
                return f"{self.pings_unanswered} pings unanswered"
            return Due.PING
        return Due.NOTHING
