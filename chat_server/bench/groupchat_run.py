"""A run against groupchat: a spawned server (this checkout's, or another's) or one already running."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from chat_server.bench.link import create_group
from chat_server.bench.report import Result
from chat_server.bench.runner import idle_group_count, run_load
from chat_server.bench.server import load_flags, pid_listening_on, start_server, stop_server
from chat_server.bench.worker import Target
from chat_server.bench.workload import Workload


def load_running(host: str, port: int, workload: Workload, *, procs: int, idle: int = 0) -> Result:
    """Load the server at ``host:port``; its CPU and memory are read from /proc if it runs here as us."""
    names = [f"bench-{os.getpid()}-{n}" for n in range(workload.groups + idle_group_count(idle))]

    async def create_all() -> list[int]:
        return [await create_group(host, port, name) for name in names]

    ids = asyncio.run(create_all())
    target = Target("groupchat", host, port, tuple(ids[: workload.groups]), tuple(ids[workload.groups :]))
    return run_load(target, workload, procs=procs, idle=idle, server_pid=pid_listening_on(port))


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
) -> Result:
    """Spawn a fresh server (``root``: from another checkout, for a baseline), load it, stop it."""
    connections = workload.groups * workload.members + idle
    groups = workload.groups + idle_group_count(idle)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if store == "sqlite" else "memory:"
        flags = ["--store", url, "--sync", sync, *load_flags(connections, groups), *server_args]
        proc, host, port = start_server(*flags, *(["--port", str(port)] if port else []), root=root)
        try:
            return load_running(host, port, workload, procs=procs, idle=idle)
        finally:
            stop_server(proc)
