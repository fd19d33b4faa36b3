"""One groupchat connection for the bench, speaking through ``shared.Connection`` like any client."""

from __future__ import annotations

import asyncio
import contextlib

from chat_server.bench.workload import PASSWORD
from shared import PROTOCOL_VERSION, Connection, CreateGroup, Event, GroupCreated, Hello, Ping, Pong, Request, Role

READ_SIZE = 1 << 18  # bytes per read: many frames per call keeps the generator's cost per frame low


class Link:
    """One groupchat connection: requests answered in order, pings answered, events handed on."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = Connection(Role.CLIENT)

    @classmethod
    async def open(cls, host: str, port: int, client: str = "chat-bench") -> Link:
        """Connect and say hello."""
        reader, writer = await asyncio.open_connection(host, port)
        link = cls(reader, writer)
        await link.request(Hello(1, PROTOCOL_VERSION, client))
        return link

    async def events(self) -> list[Event]:
        """The events of the next read; pings are answered here. Raises ConnectionError at the end."""
        data = await self.reader.read(READ_SIZE)
        if not data:
            raise ConnectionError("the server closed the connection")
        received = self.conn.receive_data(data)
        for event in received:
            if isinstance(event, Ping):
                self.writer.write(self.conn.send(Pong(event.nonce)))
        return received

    async def request(self, request: Request) -> Event:
        """Send ``request``; its answer (a reply or an Error), events before it dropped."""
        self.writer.write(self.conn.send(request))
        while True:
            for event in await self.events():
                if getattr(event, "request_id", None) == request.request_id:
                    return event

    async def drain(self) -> None:
        """Read (answering pings) until the connection closes: a member that stops reading would become
        a slow consumer, one that stops answering pings a dead peer."""
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                await self.events()

    def close(self) -> None:
        """Close without waiting."""
        self.writer.close()


async def create_group(host: str, port: int, name: str) -> int:
    """Create a group (its creator leaves at once, so the group holds only the bench's members)."""
    link = await Link.open(host, port)
    try:
        answer = await link.request(CreateGroup(2, name, PASSWORD, "creator"))
    finally:
        link.close()
    if not isinstance(answer, GroupCreated):
        raise RuntimeError(f"cannot create group {name}: {answer}")
    return answer.group_id
