"""``chat-bench --rejoin N``: how fast N members get back into their group after a server restart.

Set-up (timed apart, not the figure): a server on an SQLite file in a temporary directory; one member
creates a group and N - 1 join it with the password, so N password hashes; each keeps the
``resume_token`` and ``last_seq`` the server gave it. Then the server is stopped with SIGTERM and
started again on the same file and port, and all N reconnect and rejoin with their token and
``since_seq``: no password hash. The figure is the wall time and the server's CPU seconds
(``/proc/<pid>/stat`` utime + stime) from the first reconnect to the last ``group_joined``, with the
p50/p99 of one join (request written to ``group_joined`` read). One JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import resource
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import msgpack

from chat_server.bench import BenchClient, server_flags, start_server
from shared import PROTOCOL_VERSION, CreateGroup, Hello, JoinGroup, Pong, encode

PASSWORD = "rejoin-bench-password"
# Frames the bench never needs to look inside: skipped by their type prefix (the codec writes "type"
# first), so decoding the O(N^2) member notices of N joins does not compete with the server for CPU.
_SKIPPED = tuple(
    msgpack.packb("type") + msgpack.packb(kind) for kind in ("member_joined", "member_left", "member_list")
)
# Reconnecting members open at most this many connections at once, as clients with jittered backoff do;
# far under the server's listen backlog (1024), so no SYN is dropped and retried a second later.
CONNECT_CONCURRENCY = 100
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Member:
    """One member: the name it joined as, and what the server gave it to rejoin with."""

    name: str
    resume_token: str = ""
    last_seq: int = 0


class Link(BenchClient):
    """One connection, reading only the frames that answer its requests (and answering pings)."""

    @classmethod
    async def open(cls, host: str, port: int) -> Link:
        reader, writer = await asyncio.open_connection(host, port)
        link = cls(reader, writer)
        await link.request(Hello(1, PROTOCOL_VERSION, "chat-bench-rejoin"))
        return link

    async def drain(self) -> None:
        """Read until closed, answering pings: a member that stops reading would become a slow consumer,
        one that stops answering pings a dead peer (set-up hashes take minutes)."""
        with contextlib.suppress(ConnectionError):
            while True:
                await self._frames()

    async def _frames(self) -> list[dict[str, object]]:
        data = await self.reader.read(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.frames.feed(data)
        frames = []
        while (body := self.frames.next_frame()) is not None:
            if body.startswith(_SKIPPED, 1):
                continue
            frame = dict(msgpack.unpackb(body))
            if frame.get("type") == "ping":
                self.writer.write(encode(Pong(int(str(frame["nonce"])))))
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.writer.close()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def connection_flags(members: int) -> list[str]:
    """Every member connects from 127.0.0.1: the per-address connection caps must fit them all."""
    return server_flags({"max_connections_per_address": str(members + 8), "connect_attempts": str(2 * members + 8)})


def setup_flags(members: int) -> list[str]:
    """The set-up joins are N password hashes from one address: lift the hashing throttles, use every core.

    Guesses are counted when admitted, before the hash says they were right, so N joins in flight from
    one address would be slowed as guessing without ``--login-free-failures``.
    """
    return server_flags(
        {
            "login_free_failures": str(members + 8),
            "hashes_per_address_burst": str(members + 8),
            "hashes_per_address_rate": "1000000",
            "max_pending_auth": str(members + 8),
            "auth_workers": str(os.cpu_count() or 1),
        }
    )


async def _join_all(host: str, port: int, count: int) -> tuple[int, list[Member]]:
    creator = await Link.open(host, port)
    created = await creator.request(CreateGroup(2, "rejoin-bench", PASSWORD, "m0"))
    if created.get("type") != "group_created":
        raise RuntimeError(f"cannot create the group: {created}")
    group_id = int(str(created["group_id"]))
    members = [Member("m0", str(created.get("resume_token", "")))]
    links = [creator, *await asyncio.gather(*(Link.open(host, port) for _ in range(1, count)))]
    drains = [asyncio.create_task(creator.drain())]

    async def join(link: Link, name: str) -> Member:
        joined = await link.request(JoinGroup(2, group_id, PASSWORD, name))
        if joined.get("type") != "group_joined":
            raise RuntimeError(f"set-up join of {name} refused: {joined}")
        drains.append(asyncio.create_task(link.drain()))
        return Member(name, str(joined.get("resume_token", "")), int(str(joined["last_seq"])))

    members += await asyncio.gather(*(join(link, f"m{i}") for i, link in enumerate(links[1:], start=1)))
    for link in links:
        link.close()
    await asyncio.gather(*drains)
    return group_id, members


@dataclasses.dataclass
class Readmission:
    """What the re-admission of every member measured."""

    seconds: float
    join_latencies: list[float]
    refusals: collections.Counter[str]


async def _rejoin_all(host: str, port: int, group_id: int, members: list[Member]) -> Readmission:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    latencies: list[float] = []
    refusals: collections.Counter[str] = collections.Counter()
    links: list[Link] = []
    drains: list[asyncio.Task[None]] = []

    async def rejoin(member: Member) -> None:
        async with gate:
            link = await Link.open(host, port)
        links.append(link)
        request = JoinGroup(2, group_id, None, member.name, since_seq=member.last_seq, resume_token=member.resume_token)
        sent = time.perf_counter()
        answer = await link.request(request)
        if answer.get("type") == "group_joined":
            latencies.append(time.perf_counter() - sent)
            drains.append(asyncio.create_task(link.drain()))
        else:
            refusals[str(answer.get("code", answer.get("type")))] += 1

    started = time.perf_counter()
    await asyncio.gather(*(rejoin(member) for member in members))
    seconds = time.perf_counter() - started
    for link in links:
        link.close()
    await asyncio.gather(*drains)
    return Readmission(seconds, latencies, refusals)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _quantile_ms(sorted_values: list[float], q: int) -> float:
    if len(sorted_values) < 2:
        return round(sorted_values[0] * 1000, 2) if sorted_values else 0.0
    return round(statistics.quantiles(sorted_values, n=100)[q - 1] * 1000, 2)


def measure_rejoin(members: int, server_args: list[str]) -> dict[str, object]:
    """Set up ``members`` members, restart the server, re-admit them all; return the figures."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = min(hard, max(soft, 2 * members + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    with tempfile.TemporaryDirectory() as tmp:
        store = ["--store", f"sqlite:///{Path(tmp) / 'rejoin.db'}"]
        proc, host, port = start_server(*store, *connection_flags(members), *setup_flags(members), *server_args)
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (needed, hard))
            started = time.perf_counter()
            group_id, joined = asyncio.run(_join_all(host, port, members))
            setup_seconds = time.perf_counter() - started
        finally:
            _stop(proc)
        # The restarted server runs with its default flags but for the per-address connection caps.
        restart = [*store, "--port", str(port), *connection_flags(members), *server_args]
        proc, host, port = start_server(*restart)
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (needed, hard))
            cpu_before = server_cpu_seconds(proc.pid)
            readmission = asyncio.run(_rejoin_all(host, port, group_id, joined))
            cpu = server_cpu_seconds(proc.pid) - cpu_before
        finally:
            _stop(proc)
    latencies = sorted(readmission.join_latencies)
    return {
        "mode": "rejoin",
        "members": members,
        "setup_seconds": round(setup_seconds, 2),
        "setup_password_hashes": members,
        "readmitted": len(latencies),
        "refused": sum(readmission.refusals.values()),
        "refusals": dict(readmission.refusals),
        "readmit_seconds": round(readmission.seconds, 3),
        "readmit_server_cpu_seconds": round(cpu, 3),
        "join_p50_ms": _quantile_ms(latencies, 50),
        "join_p99_ms": _quantile_ms(latencies, 99),
        "restart_flags": " ".join(restart[2:]),
    }


def run_rejoin(members: int, server_args: list[str]) -> int:
    """``chat-bench --rejoin N``: print the figures as one JSON line."""
    print(json.dumps(measure_rejoin(members, server_args)), flush=True)
    return 0
