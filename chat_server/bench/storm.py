"""``chat-bench --storm``: good clients chat at a steady rate while hostile storms hit the same server.

Prints one JSON line per phase: the good clients' acknowledgement latency (p50/p99/max), how many of
their messages were acknowledged, and the server's resident memory and open descriptors after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from chat_server.bench.link import Link
from chat_server.bench.server import rss_kib, server_flags, start_server
from chat_server.bench.tally import quantile_ms
from shared import PROTOCOL_VERSION, CreateGroup, Hello, JoinGroup, MessageAccepted, SendMessage, encode

GOOD_CLIENTS = 10
GOOD_RATE = 1.0  # messages/s per good client: inside the default 2/s limit, like a busy human
# Many addresses are simulated from one: the per-address caps are lifted so each storm reaches the loop
# (the server-wide ones, such as --max-pending-auth, stay at their defaults: they are what is tested).
STORM_FLAGS = server_flags(
    {
        "max_connections_per_address": "100000",
        "connect_attempts": "1000000",
        "login_free_failures": "1000000",
        "hashes_per_address_burst": "1000000",
        "hashes_per_address_rate": "1000000",
        "output_hard_limit": "1048576",
    }
)


class StormClient(Link):
    """A client that times its messages from write to ``message_accepted``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.next_id = 10

    def send(self, count: int, group_id: int) -> None:
        """Write ``count`` messages to ``group_id``."""
        now, frames = time.perf_counter(), []
        for _ in range(count):
            self.next_id += 1
            frames.append(self.conn.send(SendMessage(self.next_id, group_id, "benchmark message " * 3)))
            self.sent_at[self.next_id] = now
        self.writer.write(b"".join(frames))

    async def receive(self) -> None:
        """Read once; time the acknowledgements it held."""
        received = await self.events()
        now = time.perf_counter()
        for event in received:
            if isinstance(event, MessageAccepted) and (sent := self.sent_at.pop(event.request_id, None)):
                self.latencies.append(now - sent)


def _server_usage(pid: int) -> dict[str, int]:
    return {"rss_kib": rss_kib(pid), "fds": len(list(Path(f"/proc/{pid}/fd").iterdir()))}


async def _open(host: str, port: int) -> StormClient:
    reader, writer = await asyncio.open_connection(host, port)
    client = StormClient(reader, writer)
    await client.request(Hello(1, PROTOCOL_VERSION, "storm"))
    return client


async def _good_traffic(clients: list[StormClient], seconds: float) -> list[float]:
    async def one(client: StormClient) -> None:
        async def read() -> None:
            while True:
                await client.receive()

        reader = asyncio.create_task(read())
        next_at, end = time.perf_counter(), time.perf_counter() + seconds
        while next_at < end:
            client.send(1, 1)
            next_at += 1 / GOOD_RATE
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        for _ in range(100):
            if not client.sent_at:
                break
            await asyncio.sleep(0.05)
        reader.cancel()

    for client in clients:
        client.latencies.clear()
    await asyncio.gather(*(one(c) for c in clients))
    return sorted(lat for c in clients for lat in c.latencies)


async def _join_storm(host: str, port: int, seconds: float) -> None:
    """50 connections at a time each asking to join with a wrong password: 50 slow hashes in flight."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:

        async def guess(i: int) -> None:
            client = await _open(host, port)
            await client.request(JoinGroup(2, 1, f"guess-{i}", f"g{i}"))
            client.writer.close()

        await asyncio.gather(*(guess(i) for i in range(50)))


async def _garbage_storm(host: str, port: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    payloads = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x03\xc1\xc1\xc1", b"GET / HTTP/1.1\r\n\r\n", b"\x00\x00\x00\x10"]
    while time.perf_counter() < end:

        async def hit(i: int) -> None:
            _, writer = await asyncio.open_connection(host, port)
            writer.write(payloads[i % len(payloads)])
            await writer.drain()
            writer.close()

        await asyncio.gather(*(hit(i) for i in range(100)))


async def _slow_readers(host: str, port: int, seconds: float) -> None:
    """20 members who never read, while a flooder fills their output until the server cuts them off."""
    sleepers = []
    for i in range(20):
        sleeper = await _open(host, port)
        await sleeper.request(JoinGroup(2, 1, "pw", f"sleeper{i}"))
        sleepers.append(sleeper)  # and never read again
    flooder = await _open(host, port)
    await flooder.request(JoinGroup(2, 1, "pw", "flooder"))
    end = time.perf_counter() + seconds
    big = encode(SendMessage(3, 1, "x" * 3900))
    while time.perf_counter() < end:
        flooder.writer.write(big * 2)  # the rate limit holds most back; the rest fans out to the sleepers
        await asyncio.sleep(0.01)
        while True:  # drain the flooder's own replies so it is not a slow reader itself
            try:
                await asyncio.wait_for(flooder.reader.read(1 << 20), 0.001)
            except TimeoutError:
                break
    for client in [*sleepers, flooder]:
        client.writer.close()


async def _flood(host: str, port: int, seconds: float) -> None:
    """20 clients sending as fast as TCP lets them: the rate limit delays, then refuses."""
    flooders = []
    for i in range(20):
        flooder = await _open(host, port)
        await flooder.request(JoinGroup(2, 1, "pw", f"flood{i}"))
        flooders.append(flooder)
    end = time.perf_counter() + seconds
    burst = b"".join(encode(SendMessage(10 + n, 1, "flood!")) for n in range(50))
    while time.perf_counter() < end:
        for flooder in flooders:
            flooder.writer.write(burst)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(flooder.reader.read(1 << 20), 0.001)
        await asyncio.sleep(0.02)
    for flooder in flooders:
        flooder.writer.close()


async def _churn(host: str, port: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:

        async def touch() -> None:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()

        await asyncio.gather(*(touch() for _ in range(100)))


Storm = Callable[[str, int, float], Awaitable[None]]
STORMS: list[tuple[str, Storm | None]] = [
    ("baseline", None),
    ("50 parallel wrong-password joins, repeated", _join_storm),
    ("garbage frames from 100 connections at a time", _garbage_storm),
    ("20 members that never read + a flooder", _slow_readers),
    ("20 clients flooding messages", _flood),
    ("connection churn, 100 at a time", _churn),
    ("after the storms", None),
]


async def _run(host: str, port: int, pid: int, seconds: float) -> None:
    owner = await _open(host, port)
    await owner.request(CreateGroup(2, "storm", "pw", "owner"))
    good = [owner]
    for i in range(1, GOOD_CLIENTS):
        client = await _open(host, port)
        await client.request(JoinGroup(2, 1, "pw", f"good{i}"))
        good.append(client)
    for n, client in enumerate(good):
        client.next_id = 1000 * (n + 1)
    for name, storm in STORMS:
        first_ids = [c.next_id for c in good]
        traffic = asyncio.create_task(_good_traffic(good, seconds))
        if storm is not None:
            await storm(host, port, seconds)
        latencies = await traffic
        print(json.dumps({
            "phase": name,
            "good_acked": len(latencies),
            "good_sent": sum(c.next_id - first for c, first in zip(good, first_ids, strict=True)),
            "p50_ms": quantile_ms(latencies, 50),
            "p99_ms": quantile_ms(latencies, 99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
            **_server_usage(pid),
        }), flush=True)  # fmt: skip


def run_storms(seconds: float, server_args: list[str]) -> int:
    """Run every phase against one fresh server (SQLite store, default limits but per-address caps)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, host, port = start_server("--store", f"sqlite:///{Path(tmp) / 'storm.db'}", *STORM_FLAGS, *server_args)
        try:
            asyncio.run(_run(host, port, proc.pid, seconds))
        finally:
            proc.terminate()
            proc.wait(15)
    return 0
