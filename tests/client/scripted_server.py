"""A scripted peer for the client's tests: a real socket on 127.0.0.1:0 whose every answer the test writes.

It stands for a server that misbehaves or is hard to bring into a state on demand: one that sends a
garbage frame, fails to store a message (``internal``), refuses a resume token, pages a member list,
or puts an acknowledgement and the next ``message_posted`` into one TCP segment. It speaks the real
wire format (``shared.codec``) but checks nothing it receives beyond decoding it, so a test sees the
client's requests exactly as sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TypeVar

from shared import PROTOCOL_VERSION, Event, Hello, Welcome, decode, encode, limits
from shared.framing import FrameReader

E = TypeVar("E", bound=Event)
TIMEOUT = 15.0
"""Seconds to wait for the client's next connection or request; never hit when a test passes."""


@dataclass
class ScriptedConnection:
    """One accepted client connection, past hello/welcome."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    frames: FrameReader = field(default_factory=lambda: FrameReader(limits.MAX_FRAME_SIZE))
    pending: list[Event] = field(default_factory=list)

    async def receive(self) -> Event:
        """The client's next frame, decoded."""
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
            if not data:
                raise ConnectionError("the client closed the connection")
            self.frames.feed(data)
            while (body := self.frames.next_frame()) is not None:
                self.pending.append(decode(body))
        return self.pending.pop(0)

    async def receive_a(self, kind: type[E]) -> E:
        """The client's next frame, which must be a ``kind``."""
        event = await self.receive()
        assert isinstance(event, kind), event
        return event

    async def send(self, *events: Event) -> None:
        """Write ``events`` with one ``write`` call: on loopback the client reads them in one chunk."""
        await self.send_raw(b"".join(encode(event) for event in events))

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_closed_by_client(self) -> None:
        """Read until the client closes its end (EOF or reset)."""
        with contextlib.suppress(ConnectionError):
            while await asyncio.wait_for(self.reader.read(65536), TIMEOUT):
                pass

    def abort(self) -> None:
        self.writer.transport.abort()


class ScriptedServer:
    """Accepts connections on 127.0.0.1:0, answers each ``hello`` with ``welcome``, hands them to the test."""

    def __init__(self) -> None:
        self.address = ("127.0.0.1", 0)
        self._accepted: asyncio.Queue[ScriptedConnection] = asyncio.Queue()
        self._connections: list[ScriptedConnection] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.address = self._server.sockets[0].getsockname()[:2]
        return self

    async def accept(self) -> ScriptedConnection:
        """The next client connection, handshaken."""
        return await asyncio.wait_for(self._accepted.get(), TIMEOUT)

    async def close(self) -> None:
        for connection in self._connections:
            connection.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = ScriptedConnection(reader, writer)
        self._connections.append(connection)
        hello = await connection.receive_a(Hello)
        await connection.send(Welcome(hello.request_id, PROTOCOL_VERSION, "scripted", limits.MAX_FRAME_SIZE))
        await self._accepted.put(connection)
