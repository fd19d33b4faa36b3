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
import dataclasses
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from chat_server.bench.link import Link
from chat_server.bench.server import server_cpu_seconds, server_flags, start_server, stop_server
from chat_server.bench.tally import quantile_ms
from shared import CreateGroup, GroupCreated, GroupJoined, JoinGroup

PASSWORD = "rejoin-bench-password"
# Reconnecting members open at most this many connections at once, as clients with jittered backoff do;
# far under the server's listen backlog (1024), so no SYN is dropped and retried a second later.
CONNECT_CONCURRENCY = 100


@dataclasses.dataclass
class Member:
    """One member: the name it joined as, and what the server gave it to rejoin with."""

    name: str
    resume_token: str = ""
    last_seq: int = 0


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
    creator = await Link.open(host, port, "chat-bench-rejoin")
    created = await creator.request(CreateGroup(2, "rejoin-bench", PASSWORD, "m0"))
    if not isinstance(created, GroupCreated):
        raise RuntimeError(f"cannot create the group: {created}")
    group_id = created.group_id
    members = [Member("m0", created.resume_token)]
    links = [creator, *await asyncio.gather(*(Link.open(host, port, "chat-bench-rejoin") for _ in range(1, count)))]
    drains = [asyncio.create_task(creator.drain())]

    async def join(link: Link, name: str) -> Member:
        joined = await link.request(JoinGroup(2, group_id, PASSWORD, name))
        if not isinstance(joined, GroupJoined):
            raise RuntimeError(f"set-up join of {name} refused: {joined}")
        drains.append(asyncio.create_task(link.drain()))
        return Member(name, joined.resume_token, joined.last_seq)

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
            link = await Link.open(host, port, "chat-bench-rejoin")
        links.append(link)
        request = JoinGroup(2, group_id, None, member.name, since_seq=member.last_seq, resume_token=member.resume_token)
        sent = time.perf_counter()
        answer = await link.request(request)
        if isinstance(answer, GroupJoined):
            latencies.append(time.perf_counter() - sent)
            drains.append(asyncio.create_task(link.drain()))
        else:
            refusals[getattr(answer, "code", answer.TYPE)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(rejoin(member) for member in members))
    seconds = time.perf_counter() - started
    for link in links:
        link.close()
    await asyncio.gather(*drains)
    return Readmission(seconds, latencies, refusals)


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
            stop_server(proc)
        # The restarted server runs with its default flags but for the per-address connection caps.
        restart = [*store, "--port", str(port), *connection_flags(members), *server_args]
        proc, host, port = start_server(*restart)
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (needed, hard))
            cpu_before = server_cpu_seconds(proc.pid)
            readmission = asyncio.run(_rejoin_all(host, port, group_id, joined))
            cpu = server_cpu_seconds(proc.pid) - cpu_before
        finally:
            stop_server(proc)
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
        "join_p50_ms": quantile_ms(latencies, 50),
        "join_p99_ms": quantile_ms(latencies, 99),
        "restart_flags": " ".join(restart[2:]),
    }


def run_rejoin(members: int, server_args: list[str]) -> int:
    """``chat-bench --rejoin N``: print the figures as one JSON line."""
    print(json.dumps(measure_rejoin(members, server_args)), flush=True)
    return 0
