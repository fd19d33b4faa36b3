"""A run against groupchat: spawned servers (this checkout's, or another's) or ones already running.

Several server processes (``servers`` > 1) share one Redis store: a private ``redis-server`` started
for the run (``store="redis"``) or one already running (``store="redis://HOST:PORT/DB"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from chat_server.bench.link import create_group
from chat_server.bench.redis_server import Persistence, RedisServer
from chat_server.bench.report import Result
from chat_server.bench.runner import idle_group_count, run_load
from chat_server.bench.server import load_flags, pid_listening_on, start_server, stop_server
from chat_server.bench.worker import Target
from chat_server.bench.workload import Workload

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def load_running(
    addresses: Sequence[tuple[str, int]],
    workload: Workload,
    *,
    procs: int,
    idle: int = 0,
    redis_pid: int | None = None,
    store: str = "",
) -> Result:
    """Load the server processes at ``addresses`` (one, or several sharing one Redis: the groups are
    created on the first). Their CPU and memory are read from /proc where they run here as us."""
    host, port = addresses[0]
    run = f"{os.getpid()}-{secrets.token_hex(3)}"  # a shared store outlives a run: names must not repeat
    names = [f"bench-{run}-{n}" for n in range(workload.groups + idle_group_count(idle))]

    async def create_all() -> list[int]:
        return [await create_group(host, port, name) for name in names]

    ids = asyncio.run(create_all())
    target = Target("groupchat", tuple(addresses), tuple(ids[: workload.groups]), tuple(ids[workload.groups :]))
    pids = [pid_listening_on(port) for _, port in addresses]
    result = run_load(target, workload, procs=procs, idle=idle, server_pids=pids, redis_pid=redis_pid)
    return replace(result, store=store)


def load_spawned(
    workload: Workload,
    *,
    procs: int,
    idle: int = 0,
    store: str = "sqlite",
    sync: str = "normal",
    server_args: Sequence[str] = (),
    port: int = 0,
    root: Path | None = None,
    servers: int = 1,
    redis_fsync: Persistence = "everysec",
) -> Result:
    """Spawn fresh servers (``root``: from another checkout, for a baseline), load them, stop them.

    ``store``: ``sqlite``, ``memory``, ``redis`` (a private redis-server with ``redis_fsync``) or a
    ``redis://`` URL. Only a Redis store can be shared by ``servers`` > 1 processes.

    Raises:
        ValueError: several servers on a store they cannot share.
    """
    if servers > 1 and not store.startswith("redis"):
        raise ValueError(f"--servers {servers} needs a store they share: --store redis or redis://HOST:PORT/DB")
    connections = workload.groups * workload.members + idle
    flags = [*load_flags(connections, workload.groups + idle_group_count(idle)), *server_args]
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url, redis_pid = _store_url(store, Path(tmp), redis_fsync, stack)
        if not url.startswith("redis"):
            flags = ["--sync", sync, *flags]
        addresses = []
        for n in range(servers):
            fixed = ["--port", str(port)] if port and n == 0 else []
            proc, host, bound = start_server("--store", url, *flags, *fixed, root=root)
            stack.callback(stop_server, proc)
            addresses.append((host, bound))
        label = f"redis, appendfsync {redis_fsync}" if store == "redis" else store.split(":", 1)[0]
        return load_running(addresses, workload, procs=procs, idle=idle, redis_pid=redis_pid, store=label)


def _store_url(store: str, tmp: Path, fsync: Persistence, stack: contextlib.ExitStack) -> tuple[str, int | None]:
    """The ``--store`` URL for ``store``, and the pid of the redis-server behind it when it runs here."""
    if store == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", None
    if store == "memory":
        return "memory:", None
    if store == "redis":
        redis = stack.enter_context(RedisServer(tmp / "redis", persistence=fsync))
        return redis.url, redis.pid
    where = urlsplit(store)
    local = where.hostname in LOCAL_HOSTS and where.port is not None
    return store, pid_listening_on(where.port) if local and where.port is not None else None
