"""``chat-bench --idle N``: hold N idle, handshaken connections; print the server's memory per
connection and a message round trip beside them."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from pathlib import Path

from chat_server.bench import UNTHROTTLED, BenchClient, server_flags, start_server
from shared import PROTOCOL_VERSION, CreateGroup, Hello, SendMessage, encode


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


async def _hold(host: str, port: int, pid: int, count: int) -> dict[str, float]:
    before = _rss_kib(pid)
    started = time.perf_counter()
    hello = encode(Hello(1, PROTOCOL_VERSION, "idle"))
    idle = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(hello)
        idle.append((reader, writer))
    for reader, _ in idle:
        assert b"welcome" in await reader.read(200)
    opened = time.perf_counter() - started
    after = _rss_kib(pid)
    reader, writer = await asyncio.open_connection(host, port)
    client = BenchClient(reader, writer)
    await client.request(Hello(1, PROTOCOL_VERSION, "busy"))
    await client.request(CreateGroup(2, "beside-the-idle", "pw", "busy"))
    round_trips = []
    for n in range(100):
        sent = time.perf_counter()
        await client.request(SendMessage(10 + n, 1, "hello"))
        round_trips.append(time.perf_counter() - sent)
    for _, idle_writer in idle:
        idle_writer.close()
    round_trips.sort()
    return {
        "idle_connections": count,
        "open_seconds": round(opened, 2),
        "rss_kib_before": before,
        "rss_kib_after": after,
        "kib_per_connection": round((after - before) / count, 2),
        "round_trip_p50_ms": round(round_trips[49] * 1000, 2),
        "round_trip_p99_ms": round(round_trips[98] * 1000, 2),
    }


def run_idle(count: int, server_args: list[str]) -> int:
    """Hold ``count`` idle connections against a fresh memory-store server and print the figures."""
    needed = count + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(needed, hard)), hard))
    caps = server_flags({"max_connections_per_address": str(needed), "connect_attempts": str(needed)})
    flags = ["--store", "memory:", *caps]
    proc, host, port = start_server(*flags, *UNTHROTTLED, *server_args)
    try:
        resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (max(soft, min(needed, hard)), hard))
        print(json.dumps(asyncio.run(_hold(host, port, proc.pid, count))), flush=True)
    finally:
        proc.terminate()
        proc.wait(15)
    return 0
