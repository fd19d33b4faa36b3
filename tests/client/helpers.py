"""Helpers for ChatSession tests: a reconnect gate, a TCP proxy that can lose replies, event readers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from chat_server.store import SqliteStore, StoredMessage
from chat_tui.session import ChatSession, Entry, GroupTimeline
from chat_tui.session.events import SessionEvent
from shared import MessageAccepted, SendMessage
from tests.conftest import ServerProcess, sqlite_url
from tests.helpers import RawClient

TIMEOUT = 15.0
"""Seconds to wait for one expected event; generous for a loaded CI machine, never hit when passing."""

E = TypeVar("E")


class Gate:
    """The session's reconnect wait, opened by the test: no attempt happens before the test allows it."""

    def __init__(self) -> None:
        self._permits = asyncio.Semaphore(0)
        self._open = False

    async def __call__(self, _delay: float) -> None:
        if not self._open:
            await self._permits.acquire()

    def release(self) -> None:
        """Let exactly one waiting (or the next) reconnect attempt go."""
        self._permits.release()

    def open(self) -> None:
        """Let every attempt go from now on, without delay."""
        self._open = True
        self._permits.release()


async def next_event(session: ChatSession) -> SessionEvent:
    return await asyncio.wait_for(session.next_event(), TIMEOUT)


async def events_until(session: ChatSession, last: Callable[[SessionEvent], bool]) -> list[SessionEvent]:
    """Events up to and including the first for which ``last`` is true."""
    seen: list[SessionEvent] = []
    while not seen or not last(seen[-1]):
        seen.append(await next_event(session))
    return seen


async def expect(session: ChatSession, kind: type[E]) -> E:
    """The first event of type ``kind``, skipping others."""
    events = await events_until(session, lambda event: isinstance(event, kind))
    found = events[-1]
    assert isinstance(found, kind)
    return found


def of_type(events: list[SessionEvent], kind: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, kind)]


class Watch:
    """A group's timeline as a test follows it: wait for a condition on its entries, read its messages."""

    def __init__(self, timeline: GroupTimeline) -> None:
        self.timeline = timeline
        self._changed = asyncio.Event()
        self.changes = 0
        """How many changes reached the subscriber (a batch of frames is one)."""
        timeline.entries.subscribe(self._change)
        timeline.listen(lambda _news: self._changed.set())

    def _change(self, _change: object) -> None:
        self.changes += 1
        self._changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (at most :data:`TIMEOUT` seconds) until ``condition()`` holds after some change."""
        async with asyncio.timeout(TIMEOUT):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def messages(self) -> list[Entry]:
        return [entry for entry in self.timeline.entries if entry.kind == "message"]

    def settled(self) -> list[tuple[int | None, str]]:
        """(seq, text) of every stored message, in display order."""
        return [(entry.seq, entry.text) for entry in self.messages() if entry.state == "sent"]

    def texts(self) -> list[str]:
        return [text for _, text in self.settled()]

    def has(self, text: str) -> bool:
        return text in self.texts()


def restart(server: ServerProcess) -> ServerProcess:
    """A new server process on the same port and arguments (so the same SQLite file)."""
    again = ServerProcess(list(server.args))
    again.port = server.port
    again.start()
    return again


def stored_messages(db: Path, group_id: int) -> list[StoredMessage]:
    """Every message of a group in a stopped server's SQLite file."""
    store = SqliteStore(db)
    try:
        return store.messages_after(group_id, 0, 10**6)
    finally:
        store.close()


def start_server(db: Path, *extra: str) -> ServerProcess:
    server = ServerProcess(["--store", sqlite_url(db), *extra])
    server.start()
    return server


class Servers:
    """The one server process of a test at a time, always stopped at the end."""

    def __init__(self, db: Path, *extra: str) -> None:
        self.db = db
        self.current = start_server(db, *extra)

    def kill_and_restart(self) -> ServerProcess:
        self.current.stop(signal.SIGKILL)
        self.current = restart(self.current)
        return self.current


async def post(peer: RawClient, group_id: int, text: str) -> MessageAccepted:
    """``peer`` posts ``text`` (its blocking socket runs on a thread, so the session keeps running)."""
    send = partial(SendMessage, group_id=group_id, text=text)
    return await asyncio.to_thread(peer.request, send, MessageAccepted)


async def peer_in(address: tuple[str, int], group_id: int, name: str = "Bob") -> RawClient:
    peer = await asyncio.to_thread(RawClient, address)
    await asyncio.to_thread(peer.join, group_id, "pw", name)
    return peer


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (``openssl req``); returns ``(cert.pem, key.pem)``."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def start_tls_server(directory: Path, *extra: str) -> tuple[ServerProcess, Path]:
    """A server speaking TLS with a fresh self-signed certificate; returns it and the certificate."""
    cert, key = make_certificate(directory)
    server = start_server(directory / "chat.db", "--tls-cert", str(cert), "--tls-key", str(key), *extra)
    return server, cert


class TcpProxy:
    """A loopback TCP proxy to a server that can hold back the server's bytes and cut every connection.

    With it a test loses an acknowledgement for sure: hold, send, see the message stored, cut.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.address = ("127.0.0.1", 0)
        self._holding = False
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.address = self._server.sockets[0].getsockname()[:2]
        return self

    def hold_downstream(self) -> None:
        """From now on, drop what the server sends to clients (until :meth:`cut`)."""
        self._holding = True

    async def cut(self) -> None:
        """Close every proxied connection at both ends; later connections are forwarded normally."""
        writers, self._writers = self._writers, []
        for writer in writers:
            writer.transport.abort()
        self._holding = False

    async def close(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        self._writers += [client_writer, server_writer]
        await asyncio.gather(
            self._pipe(client_reader, server_writer, downstream=False),
            self._pipe(server_reader, client_writer, downstream=True),
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, downstream: bool) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if not (downstream and self._holding):
                    writer.write(data)
                    await writer.drain()
        writer.transport.abort()
