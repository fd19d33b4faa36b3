"""``chat-bench``: start a real server, load it over loopback, print acknowledged messages/s and latency.

Each configuration runs a fresh ``python -m chat_server`` child on a free port with the store under
test. ``--clients`` connections join one group; in throughput mode each keeps ``--window`` messages
in flight, in rate mode they send ``--rate`` messages/s in total. Latency is from just before a
message is written to the moment its ``message_accepted`` is read. Figures go to stdout as JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import msgpack

from chat_server.config import ServerConfig
from shared import PROTOCOL_VERSION, CreateGroup, Hello, JoinGroup, Request, SendMessage, encode, limits
from shared.framing import FrameReader

_LISTENING = re.compile(rb"listening on ([\d.]+):(\d+)")
# Every message_posted body holds these bytes right after its map header (the codec writes "type" first).
_POSTED_TYPE = msgpack.packb("type") + msgpack.packb("message_posted")


@dataclass
class Result:
    """The figures of one run."""

    store: str
    sync: str
    mode: str
    clients: int
    seconds: float
    acked: int
    acked_per_s: float
    delivered_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class BenchClient:
    """A lean load client: sends through ``shared.encode``, reads acks without full event validation."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader(limits.MAX_FRAME_SIZE)
        self.sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.delivered = 0
        self.next_id = 1
        self.session = uuid.uuid4().hex[:16]

    async def request(self, event: Request) -> dict[str, object]:
        self.writer.write(encode(event))
        while True:
            for frame in await self._frames():
                if frame.get("id") == event.request_id:
                    return frame

    async def _frames(self) -> list[dict[str, object]]:
        data = await self.reader.read(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.frames.feed(data)
        frames = []
        while (body := self.frames.next_frame()) is not None:
            if body.startswith(_POSTED_TYPE, 1):  # counted, not decoded: keeps the load client off the critical path
                self.delivered += 1
            else:
                frames.append(msgpack.unpackb(body))
        return frames

    def send(self, count: int, group_id: int) -> None:
        chunks = []
        now = time.perf_counter()
        for _ in range(count):
            self.next_id += 1
            # Ids that increase within a connection keep the server's client-id index append-only.
            client_msg_id = f"{self.session}-{self.next_id:010d}"
            chunks.append(encode(SendMessage(self.next_id, group_id, "benchmark message " * 3, client_msg_id)))
            self.sent_at[self.next_id] = now
        self.writer.write(b"".join(chunks))

    async def receive(self) -> int:
        """Read one batch; return how many acks it held."""
        acks = 0
        frames = await self._frames()
        now = time.perf_counter()
        for frame in frames:
            if frame["type"] == "message_accepted":
                sent = self.sent_at.pop(frame["id"])  # type: ignore[call-overload]
                self.latencies.append(now - sent)
                acks += 1
        return acks


async def _connect(host: str, port: int) -> BenchClient:
    reader, writer = await asyncio.open_connection(host, port)
    client = BenchClient(reader, writer)
    await client.request(Hello(1, PROTOCOL_VERSION, "chat-bench"))
    return client


async def _load(host: str, port: int, args: argparse.Namespace) -> tuple[list[BenchClient], float]:
    clients = [await _connect(host, port) for _ in range(args.clients)]
    created = await clients[0].request(CreateGroup(2, f"bench-{uuid.uuid4().hex[:8]}", "pw", "c0"))
    group_id = int(created["group_id"])  # type: ignore[call-overload]
    for i, client in enumerate(clients[1:], start=1):
        await client.request(JoinGroup(2, group_id, "pw", f"c{i}"))
    for client in clients:
        client.next_id = 10
    deadline = time.perf_counter() + args.seconds
    started = time.perf_counter()
    if args.rate:
        await asyncio.gather(*(_paced(c, group_id, args.rate / len(clients), deadline) for c in clients))
    else:
        await asyncio.gather(*(_windowed(c, group_id, args.window, deadline) for c in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.writer.close()
    return clients, elapsed


async def _windowed(client: BenchClient, group_id: int, window: int, deadline: float) -> None:
    client.send(window, group_id)
    while time.perf_counter() < deadline:
        acks = await client.receive()
        if acks:
            client.send(acks, group_id)
    while client.sent_at:
        await client.receive()


async def _paced(client: BenchClient, group_id: int, rate: float, deadline: float) -> None:
    async def reader() -> None:
        while True:
            await client.receive()

    task = asyncio.create_task(reader())
    interval, next_send = 1.0 / rate, time.perf_counter()
    while next_send < deadline:
        client.send(1, group_id)
        next_send += interval
        await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
    while client.sent_at:
        await asyncio.sleep(0.01)
    task.cancel()


def server_flags(settings: dict[str, str]) -> list[str]:
    """``--flag value`` for each ServerConfig field named in ``settings``.

    Raises:
        ValueError: a name that is no setting (a limit renamed since would otherwise silently stay on
            and measure the wrong thing), or a value its kind refuses.
    """
    known = {field.name: field for field in fields(ServerConfig) if "kind" in field.metadata}
    flags = []
    for name, value in settings.items():
        if name not in known:
            raise ValueError(f"chat-server has no setting {name!r}")
        known[name].metadata["kind"].parse(value)
        flags += [f"--{name.replace('_', '-')}", value]
    return flags


# Throughput runs measure the message path, not the flood limits: a few clients send as fast as they can.
UNTHROTTLED = server_flags(
    {
        "message_burst": "1000000000",
        "message_rate": "1000000000",
        "request_burst": "1000000000",
        "request_rate": "1000000000",
    }
)


def start_server(*flags: str) -> tuple[subprocess.Popen[bytes], str, int]:
    """A ``python -m chat_server`` child on a free port; its log goes to a drained pipe."""
    cmd = [sys.executable, "-m", "chat_server", "--port", "0", *flags]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    log = []
    for line in proc.stderr:
        if match := _LISTENING.search(line):
            stderr = proc.stderr
            threading.Thread(target=stderr.read, daemon=True).start()  # never let the log pipe fill up
            return proc, match.group(1).decode(), int(match.group(2))
        log.append(line.decode(errors="replace"))
    proc.wait()
    raise RuntimeError(f"the server did not start ({shlex.join(cmd)}):\n{''.join(log)}")


def run_one(store: str, sync: str, args: argparse.Namespace) -> Result:
    """One configuration against a fresh server process."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if store == "sqlite" else "memory:"
        proc, host, port = start_server("--store", url, "--sync", sync, *UNTHROTTLED, *shlex.split(args.server_args))
        try:
            clients, elapsed = asyncio.run(_load(host, port, args))
        finally:
            proc.terminate()
            proc.wait(15)
    latencies = sorted(lat for c in clients for lat in c.latencies)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        store=store,
        sync=sync if store == "sqlite" else "-",
        mode=f"rate {args.rate}/s" if args.rate else f"window {args.window}",
        clients=args.clients,
        seconds=round(elapsed, 2),
        acked=len(latencies),
        acked_per_s=round(len(latencies) / elapsed),
        delivered_per_s=round(sum(c.delivered for c in clients) / elapsed),
        p50_ms=round(quantiles[49] * 1000, 2),
        p99_ms=round(quantiles[98] * 1000, 2),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", choices=["memory", "sqlite", "all"], default="all")
    parser.add_argument("--sync", choices=["normal", "full", "both"], default="both")
    parser.add_argument("--clients", type=int, default=4, help="connections in the group (default %(default)s)")
    parser.add_argument("--window", type=int, default=200, help="messages in flight per client (default %(default)s)")
    parser.add_argument("--rate", type=float, default=0, help="total messages/s instead of a window (paced mode)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run (default %(default)s)")
    parser.add_argument("--storm", action="store_true", help="measure good clients during hostile storms instead")
    parser.add_argument("--idle", type=int, default=0, metavar="N", help="hold N idle connections instead")
    parser.add_argument(
        "--rejoin",
        type=int,
        nargs="?",
        const=500,
        default=0,
        metavar="N",
        help="time N members (default 500) rejoining with resume tokens after a server restart instead",
    )
    parser.add_argument("--server-args", default="", help="extra chat-server flags, e.g. '--auth-workers 1'")
    args = parser.parse_args(argv)
    if args.rejoin:
        from chat_server.bench_rejoin import run_rejoin  # noqa: PLC0415 - only this mode needs it

        return run_rejoin(args.rejoin, shlex.split(args.server_args))
    if args.idle:
        from chat_server.bench_idle import run_idle  # noqa: PLC0415 - only this mode needs it

        return run_idle(args.idle, shlex.split(args.server_args))
    if args.storm:
        from chat_server.bench_storm import run_storms  # noqa: PLC0415 - only this mode needs it

        return run_storms(args.seconds, shlex.split(args.server_args))
    configs = [("memory", "normal")] if args.store in ("memory", "all") else []
    if args.store in ("sqlite", "all"):
        configs += [("sqlite", s) for s in (["normal", "full"] if args.sync == "both" else [args.sync])]
    for store, sync in configs:
        print(json.dumps(asdict(run_one(store, sync, args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
