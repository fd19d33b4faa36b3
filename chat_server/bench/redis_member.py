"""A member on a Redis server: a SUBSCRIBE connection to its group's channel, and a second connection
that PUBLISHes if it sends (a subscribed RESP2 connection may not publish). PUBLISH's reply is the ack.

Only the RESP the bench meets is read: arrays of bulk strings, integers, simple strings and errors.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from chat_server.bench.member import Member, MemberPlan, Sending
from chat_server.bench.tally import Tally

READ_SIZE = 1 << 18


def command(*parts: bytes) -> bytes:
    """One RESP command: an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out += [b"$%d\r\n" % len(part), part, b"\r\n"]
    return b"".join(out)


class RespReader:
    """Splits received bytes into RESP values: ``bytes`` (bulk or simple), ``int``, ``list`` or an error."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[object]:
        """Every value completed by ``data``."""
        buffer = self._buffer + data if self._buffer else data
        values, pos = [], 0
        while True:
            parsed = self._value(buffer, pos)
            if parsed is None:
                break
            value, pos = parsed
            values.append(value)
        self._buffer = buffer[pos:]
        return values

    def _value(self, buf: bytes, pos: int) -> tuple[object, int] | None:
        end = buf.find(b"\r\n", pos)
        if end < 0:
            return None
        kind, line = buf[pos : pos + 1], buf[pos + 1 : end]
        if kind == b"$":
            length = int(line)
            if length < 0:
                return None, end + 2
            stop = end + 2 + length
            return (buf[end + 2 : stop], stop + 2) if len(buf) >= stop + 2 else None
        if kind == b"*":
            items, pos = [], end + 2
            for _ in range(int(line)):
                parsed = self._value(buf, pos)
                if parsed is None:
                    return None
                item, pos = parsed
                items.append(item)
            return items, pos
        if kind == b":":
            return int(line), end + 2
        if kind == b"+":
            return line, end + 2
        if kind == b"-":
            return RuntimeError(line.decode(errors="replace")), end + 2
        raise ValueError(f"unexpected RESP type {kind!r}")


class Resp:
    """One Redis connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.parser = reader, writer, RespReader()

    @classmethod
    async def open(cls, host: str, port: int) -> Resp:
        """Connect."""
        return cls(*await asyncio.open_connection(host, port))

    async def values(self) -> list[object]:
        """The values of the next read; ConnectionError at the end."""
        data = await self.reader.read(READ_SIZE)
        if not data:
            raise ConnectionError("redis closed the connection")
        return self.parser.feed(data)


class RedisMember(Member):
    """A subscriber of one channel, and a publisher to it if it sends."""

    def __init__(
        self, plan: MemberPlan, tally: Tally, sending: Sending, *, address: tuple[str, int], channel: str
    ) -> None:
        super().__init__(plan, tally, sending)
        self.address, self.channel = address, channel.encode()
        self.sub: Resp | None = None
        self.pub: Resp | None = None
        self.sent_ns: deque[int] = deque()
        self._pub_reader: asyncio.Task[None] | None = None

    async def join(self) -> None:
        self.sub = await Resp.open(*self.address)
        self.sub.writer.write(command(b"SUBSCRIBE", self.channel))
        while not any(isinstance(v, list) and v[:1] == [b"subscribe"] for v in await self.sub.values()):
            pass
        if self.plan.sender is not None:
            self.pub = await Resp.open(*self.address)

    def _write(self, texts: list[str]) -> None:
        assert self.pub is not None
        if self._pub_reader is None:
            self._pub_reader = asyncio.create_task(self._read_acks())
        now = time.monotonic_ns()
        self.sent_ns.extend([now] * len(texts))
        self.pub.writer.write(b"".join(command(b"PUBLISH", self.channel, text.encode()) for text in texts))

    async def _read_acks(self) -> None:
        assert self.pub is not None
        while True:
            values = await self.pub.values()
            now = time.monotonic_ns()
            for value in values:
                sent = self.sent_ns.popleft()
                if isinstance(value, int):
                    self._acked(sent, now)
                else:
                    self._refused(str(value))

    async def _read_loop(self) -> None:
        assert self.sub is not None
        while True:
            values = await self.sub.values()
            now = time.monotonic_ns()
            for value in values:
                if isinstance(value, list) and len(value) == 3 and value[0] == b"message":
                    self._delivered(value[2], now)

    def close(self) -> None:
        if self._pub_reader is not None:
            self._pub_reader.cancel()
        for conn in (self.sub, self.pub):
            if conn is not None:
                conn.writer.close()
