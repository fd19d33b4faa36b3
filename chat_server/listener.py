"""Listener: the listening socket, and who gets in. Hands the loop admitted, configured sockets.

It applies the connection caps (Admission), refuses with an error frame without ever blocking, sets
the socket options every connection gets, wraps TLS, and pauses accepting when descriptors run out.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import ssl
import time

from chat_server.admission import Admission
from chat_server.config import ServerConfig
from shared import encode

log = logging.getLogger("chat_server")

# After EMFILE/ENFILE the listening socket stays readable; pausing accept for a moment keeps the loop
# from spinning on it while descriptors are exhausted (the pattern of libuv and Tornado).
ACCEPT_PAUSE = 0.5
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) from a PEM certificate chain and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class Listener:
    """The listening socket, registered in ``selector`` with ``tag`` as its key data."""

    def __init__(self, config: ServerConfig, selector: selectors.BaseSelector, tag: object) -> None:
        self.config = config
        self.admission = Admission(config)
        self.tls = tls_context(config.tls_cert, config.tls_key) if config.tls_cert and config.tls_key else None
        self._selector = selector
        self._tag = tag
        self._sock: socket.socket | None = None
        self.paused_until = 0.0  # monotonic time accepting resumes, 0 while not paused

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "bind() first"
        host, port = self._sock.getsockname()[:2]
        return host, port

    def bind(self) -> tuple[str, int]:
        sock = socket.create_server((self.config.host, self.config.port), backlog=1024)
        sock.setblocking(False)
        self._sock = sock
        self._selector.register(sock, selectors.EVENT_READ, self._tag)
        return self.address

    def accept(self) -> list[tuple[socket.socket, tuple[str, int]]]:
        """The connections admitted this turn (at most ``accepts_per_turn``), ready for the loop."""
        admitted: list[tuple[socket.socket, tuple[str, int]]] = []
        while self._sock is not None and len(admitted) < self.config.accepts_per_turn:
            try:
                sock, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    log.warning("accept paused for %.1f s: %s", ACCEPT_PAUSE, exc.strerror)
                    self._selector.unregister(self._sock)
                    self.paused_until = time.monotonic() + ACCEPT_PAUSE
                break  # ECONNABORTED and the like: the peer gave up; nothing to do
            if (ready := self._admit(sock, peer)) is not None:
                admitted.append((ready, peer))
        return admitted

    def _admit(self, sock: socket.socket, peer: tuple[str, int]) -> socket.socket | None:
        sock.setblocking(False)
        refusal = self.admission.admit(peer[0], time.monotonic())
        if refusal is not None:
            log.info("refused %s:%d: %s", peer[0], peer[1], refusal.code)
            if self.tls is None:  # best effort, never blocking: a refusal must not cost us a turn
                with contextlib.suppress(OSError):
                    sock.send(encode(refusal))
            sock.close()
            return None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # chat frames are small and urgent
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if self.tls is not None:
            return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock

    def resume_if_due(self) -> None:
        if self.paused_until and time.monotonic() >= self.paused_until:
            self.paused_until = 0.0
            if self._sock is not None:
                self._selector.register(self._sock, selectors.EVENT_READ, self._tag)

    def close(self) -> None:
        """Stop accepting for good."""
        if self._sock is not None:
            if not self.paused_until:
                self._selector.unregister(self._sock)
            self._sock.close()
            self._sock = None
