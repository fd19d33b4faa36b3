"""The client side of the wire on asyncio: one ServerLink per connection, shared by the TUI and --plain.

It owns the socket and a ``shared.Connection``; requests are awaited as replies matched by request id,
notifications (messages, member changes, server closing) arrive on a bounded queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Callable
from ssl import SSLCertVerificationError, SSLContext, SSLError

from chat_tui import __version__
from shared import (
    FEATURES,
    PROTOCOL_VERSION,
    Connection,
    Error,
    Event,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    Request,
    Role,
    ServerClosing,
    Welcome,
)

log = logging.getLogger("chat_tui.session.link")

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for TCP connect plus the hello/welcome handshake."""
REQUEST_TIMEOUT = 30.0
"""Seconds to wait for the reply to one request; password hashing on the server takes well under 1 s."""
NOTIFICATION_QUEUE_SIZE = 10_000
"""Notifications held for a consumer that is behind. When it is full the link stops reading, so the
rest waits in the socket and then in the server's buffer for us (TCP backpressure, end to end): a
pause of the UI (a garbage collection, a resize) costs nothing but time, and only a consumer that stays
behind for good is cut off, by the server, as the slow consumer it is."""
NOTIFICATION_STALL = 10.0
"""Seconds the link waits for room in a full queue before it gives up on the consumer as stuck and
drops the link (the session reconnects and catches up) rather than hang."""
READ_CHUNK = 64 * 1024
REFUSAL_GRACE = 1.0
"""Seconds a failed handshake waits for frames already received (the server's refusal) before
reporting the bare failure; the peer has closed, so the read ends at once in practice."""


class LinkError(Exception):
    """The connection failed or was lost; ``str()`` is a sentence for the user."""


class RequestRefused(Exception):
    """The server answered a request with an Error frame."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error
        self.code = error.code

    @property
    def retry_after(self) -> float | None:
        """Seconds after which the server says trying again can work (throttling refusals), else None."""
        return retry_after(self.error)


def retry_after(error: Error) -> float | None:
    """``error.retry_after_ms`` in seconds, or None when the server gave none."""
    return None if error.retry_after_ms is None else error.retry_after_ms / 1000


def describe_refusal(error: Error) -> str:
    """The server's sentence for people, plus "try again in N s" when it said when."""
    seconds = retry_after(error)
    if seconds is None or "try again in" in error.message:  # some servers' sentences say it already
        return error.message
    return f"{error.message} (try again in {max(1, math.ceil(seconds))} s)"


class ConnectionLost:
    """Put on the notification queue last, when the link ends; ``reason`` is for the user."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


Notification = Event | ConnectionLost
OnReply = Callable[[Event], None]
"""Called with a request's reply the moment it is read, before any later frame is handled."""


class ServerLink:
    """A connected, handshaken link to a chat server. Create with :meth:`open`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._conn = Connection(Role.CLIENT)
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Event]] = {}
        self._on_reply: dict[int, OnReply] = {}
        self.notifications: asyncio.Queue[Notification] = asyncio.Queue(NOTIFICATION_QUEUE_SIZE)
        self._read_task: asyncio.Task[None] | None = None
        self._closed_reason: str | None = None
        self.welcome: Welcome | None = None
        self.refusal: Error | None = None
        """The connection-level error the server closed the link with, if any (e.g. a connection cap)."""

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        ssl: SSLContext | None = None,
        client: str = f"groupchat/{__version__}",
        timeout: float = CONNECT_TIMEOUT,
    ) -> ServerLink:
        """Connect (over TLS when ``ssl`` is given, checking the certificate against ``host``) and
        complete the handshake.

        Raises:
            LinkError: the server is unreachable, failed the TLS handshake (e.g. an untrusted
                certificate), refused the handshake or did not answer in time.
        """
        hostname = None if ssl is None else host  # asyncio refuses a server_hostname without ssl
        connecting = asyncio.open_connection(host, port, ssl=ssl, server_hostname=hostname)
        try:
            reader, writer = await asyncio.wait_for(connecting, timeout)
        except SSLError as exc:  # before OSError, its base: a TLS failure is not "cannot connect"
            raise LinkError(f"TLS handshake with {host}:{port} failed: {_describe_tls(exc)}") from None
        except (OSError, TimeoutError) as exc:
            raise LinkError(f"cannot connect to {host}:{port}: {_describe(exc)}") from None
        except (OverflowError, ValueError, UnicodeError) as exc:  # a port over 65535, an unencodable host name
            raise LinkError(f"cannot connect to {host}:{port}: {exc}") from None
        link = cls(reader, writer)
        link._read_task = asyncio.create_task(link._read_loop(), name="groupchat-read")
        try:
            hello = link.request(lambda rid: Hello(rid, PROTOCOL_VERSION, client, FEATURES))
            welcome = await asyncio.wait_for(hello, timeout)
        except RequestRefused as exc:
            await link.close()
            raise LinkError(f"the server refused the connection: {describe_refusal(exc.error)}") from None
        except (TimeoutError, LinkError) as exc:
            await link._read_rest()  # a refusal's error frame may still sit unread behind the reset
            await link.close()
            if link.refusal is not None:  # e.g. a connection cap: its error frame says why, not the reset after it
                raise LinkError(f"the server refused the connection: {describe_refusal(link.refusal)}") from None
            raise LinkError(f"no handshake from {host}:{port}: {_describe(exc)}") from None
        assert isinstance(welcome, Welcome)
        link.welcome = welcome
        return link

    @property
    def is_open(self) -> bool:
        return self._closed_reason is None

    async def request(
        self, make: Callable[[int], Request], timeout: float = REQUEST_TIMEOUT, *, on_reply: OnReply | None = None
    ) -> Event:
        """Send the request built by ``make(request_id)`` and return the server's reply.

        ``on_reply`` sees the reply (or Error) synchronously as it is read, in wire order with the
        notifications: by the time this coroutine resumes (several loop turns later), frames read after
        the reply may already have been consumed from :attr:`notifications`.

        Raises:
            RequestRefused: the server answered with an Error.
            LinkError: the link is (or went) down, or no reply came in ``timeout`` seconds.
        """
        if self._closed_reason is not None:
            raise LinkError(self._closed_reason)
        request_id = next(self._ids)
        event = make(request_id)
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if on_reply is not None:
            self._on_reply[request_id] = on_reply
        try:
            self._writer.write(self._conn.send(event))
            await self._writer.drain()
            reply = await asyncio.wait_for(future, timeout)
        except (OSError, ConnectionError) as exc:
            raise LinkError(f"connection lost: {_describe(exc)}") from None
        except TimeoutError:
            raise LinkError("the server did not answer in time") from None
        finally:
            self._waiting.pop(request_id, None)
            self._on_reply.pop(request_id, None)
        if isinstance(reply, Error):
            raise RequestRefused(reply)
        return reply

    @property
    def features(self) -> frozenset[str]:
        """The optional features (PROTOCOL.md §9) both we and the server speak on this link."""
        offered = self.welcome.features if self.welcome is not None else ()
        return frozenset(offered) & frozenset(FEATURES)

    def tell(self, event: Event) -> None:
        """Send a frame that has no reply (``typing``); nothing happens if the link is down."""
        if self._closed_reason is None and not self._writer.is_closing():
            self._writer.write(self._conn.send(event))

    async def close(self) -> None:
        """Close the link; idempotent. Pending requests fail with LinkError."""
        self._finish("disconnected")
        if self._read_task is not None and self._read_task is not asyncio.current_task():
            self._read_task.cancel()
        self._writer.close()
        # shield: two tasks may close one link; cancelling one must not cancel the other's wait.
        with contextlib.suppress(OSError, ConnectionError):  # already gone: nothing more to flush
            await asyncio.shield(self._writer.wait_closed())

    async def _read_rest(self) -> None:
        """Let the read task take in what was received before the link broke, for up to
        :data:`REFUSAL_GRACE` seconds: a server refusing us sends its error, then closes, and our
        hello written meanwhile makes its kernel answer with a reset, which fails our write first."""
        if self._read_task is not None and not self._read_task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._read_task), REFUSAL_GRACE)

    async def _read_loop(self) -> None:
        reason = "the server closed the connection"
        try:
            while data := await self._reader.read(READ_CHUNK):
                for event in self._conn.receive_data(data):
                    await self._dispatch(event)
        except ProtocolError as exc:
            # Frames decoded before the bad one are good (a message, a reply): deliver them first.
            for pending in exc.pending_events:
                if isinstance(pending, Event):
                    await self._dispatch(pending)
            reason = f"the server sent something we do not understand ({exc.message})"
            log.warning("dropping the link: %s", reason)  # then the session reconnects
        except (OSError, ConnectionError) as exc:
            reason = f"connection lost: {_describe(exc)}"
        except asyncio.CancelledError:
            reason = self._closed_reason or "disconnected"
        except Exception as exc:  # a frame we fail on must drop the link (and so reconnect), never hang it
            log.exception("dropping the link: reading the server's data failed")
            reason = f"the server sent something we could not handle ({type(exc).__name__})"
        self._finish(reason)

    async def _dispatch(self, event: Event) -> None:
        request_id = getattr(event, "request_id", None)
        if not isinstance(request_id, int):
            request_id = None
        future = self._waiting.get(request_id) if request_id is not None else None
        if future is not None and not future.done():
            future.set_result(event)
            if request_id is not None and (on_reply := self._on_reply.pop(request_id, None)) is not None:
                on_reply(event)
        elif isinstance(event, Ping):
            self._writer.write(self._conn.send(Pong(event.nonce)))
        elif isinstance(event, Error) and event.request_id is None:
            self.refusal = event
            self._finish(f"the server closed the connection: {describe_refusal(event)}")
        elif isinstance(event, ServerClosing):
            # The protocol state is now CLOSED: nothing may be sent, so end the link here (after the
            # notification) and later requests fail with LinkError, not LocalProtocolError.
            await self._notify(event)
            self._finish("the server is shutting down")
        else:
            await self._notify(event)

    async def _notify(self, item: Notification) -> None:
        try:
            self.notifications.put_nowait(item)
        except asyncio.QueueFull:
            try:  # stop reading until there is room: the socket and the server hold the rest
                await asyncio.wait_for(self.notifications.put(item), NOTIFICATION_STALL)
            except TimeoutError:
                self._finish("too many unread notifications; reconnect to catch up")

    def _finish(self, reason: str) -> None:
        if self._closed_reason is not None:
            return
        self._closed_reason = reason
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(LinkError(reason))
        try:
            self.notifications.put_nowait(ConnectionLost(reason))
        except asyncio.QueueFull:
            self.notifications.get_nowait()  # drop the oldest so the end of the link is always seen
            self.notifications.put_nowait(ConnectionLost(reason))


def _describe_tls(exc: SSLError) -> str:
    """``certificate verify failed: self-signed certificate`` rather than ``[SSL: …] … (_ssl.c:1006)``."""
    if isinstance(exc, SSLCertVerificationError):
        detail = exc.verify_message
        return f"certificate verify failed: {detail}" if detail else "certificate verify failed"
    reason = getattr(exc, "reason", None)
    if reason == "WRONG_VERSION_NUMBER":  # what OpenSSL says when the other end does not speak TLS at all
        return "wrong version number (the server does not seem to speak TLS)"
    if isinstance(reason, str) and reason:
        return reason.lower().replace("_", " ")
    return _describe(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
