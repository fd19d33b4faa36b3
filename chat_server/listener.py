"""Listener: the listening socket, and who gets in. Hands the loop admitted, configured sockets.

It applies the connection caps (Admission), refuses with an error frame without ever blocking, sets
the socket options every connection gets, wraps TLS, and pauses accepting when descriptors run out.
A refusal over TLS cannot be sent before the handshake: such a socket goes to the loop with its
refusal, and the loop sends it once the handshake is done (a bare reset tells a person nothing).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import ssl
import time
from dataclasses import dataclass

from chat_server.admission import Admission, address_key
from chat_server.config import ServerConfig
from shared import Error, encode

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


@dataclass(frozen=True, slots=True)
class Accepted:
    """A connection for the loop: admitted (``refusal`` None), or refused over TLS and still to be told."""

    sock: socket.socket
    peer: tuple[str, int]
    key: str  # admission.address_key of the peer: what limits count per
    refusal: Error | None = None


def format_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets: ``[::1]:7030``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listening_socket(host: str, port: int) -> socket.socket:
    if ":" not in host:
        return socket.create_server((host, port), backlog=1024)
    # "::" also takes IPv4 clients where the system allows (they arrive as ::ffff:a.b.c.d).
    dual = host == "::" and socket.has_dualstack_ipv6()
    return socket.create_server((host, port), family=socket.AF_INET6, backlog=1024, dualstack_ipv6=dual)


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
        self.refusing = 0  # refused TLS connections handed to the loop and not yet closed

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "bind() first"
        host, port = self._sock.getsockname()[:2]
        return host, port

    def bind(self) -> tuple[str, int]:
        sock = _listening_socket(self.config.host, self.config.port)
        sock.setblocking(False)
        self._sock = sock
        self._selector.register(sock, selectors.EVENT_READ, self._tag)
        return self.address

    def accept(self) -> list[Accepted]:
        """The connections for the loop this turn (at most ``accepts_per_turn``)."""
        admitted: list[Accepted] = []
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
            if (ready := self._admit(sock, (peer[0], peer[1]))) is not None:
                admitted.append(ready)
        return admitted

    def _admit(self, sock: socket.socket, peer: tuple[str, int]) -> Accepted | None:
        sock.setblocking(False)
        key = address_key(peer[0])
        refusal = self.admission.admit(key, time.monotonic())
        if refusal is not None:
            log.info("refused address=%s key=%s code=%s", format_address(*peer), key, refusal.code)
            return self._refuse(sock, peer, key, refusal)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # chat frames are small and urgent
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return Accepted(sock, peer, key)

    def _refuse(self, sock: socket.socket, peer: tuple[str, int], key: str, refusal: Error) -> Accepted | None:
        if self.refusing < self.config.max_refusals:
            # The loop sends the refusal (after the TLS handshake, if any), lingers until the peer has
            # read it and closed, then calls refusal_done(). Closing here with the peer's pipelined hello
            # unread would make the kernel reset the connection and destroy the frame.
            self.refusing += 1
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            return Accepted(sock, peer, key, refusal)
        if self.tls is None:  # past the cap: best effort, never blocking; a refusal must not cost us a turn
            with contextlib.suppress(OSError):
                sock.send(encode(refusal))
        sock.close()
        return None

    def refusal_done(self) -> None:
        """A refused connection handed to the loop has closed."""
        self.refusing -= 1

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
