"""A private ``redis-server`` on a free loopback port, for the comparison, and a run against it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

from chat_server.bench.report import Result
from chat_server.bench.runner import run_load
from chat_server.bench.server import stop_server
from chat_server.bench.worker import Target
from chat_server.bench.workload import Workload

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``with RedisServer() as redis:`` a redis-server child, no persistence, the pub/sub output limit
    as generous as the one ``chat-bench`` gives groupchat (so neither cuts off a lagging generator)."""

    def __init__(self, binary: str = "redis-server") -> None:
        path = shutil.which(binary)
        if path is None:
            raise FileNotFoundError(f"{binary} is not installed")
        self.binary, self.host, self.port = path, "127.0.0.1", _free_port()
        self._dir = tempfile.TemporaryDirectory()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RedisServer:
        cmd = [self.binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no"]
        cmd += ["--dir", self._dir.name, "--client-output-buffer-limit", "pubsub 256mb 128mb 60"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.proc is not None:
            stop_server(self.proc)
        self._dir.cleanup()

    @property
    def pid(self) -> int:
        """The server's pid (it must be running)."""
        assert self.proc is not None
        return self.proc.pid


def load_redis(redis: RedisServer, workload: Workload, *, procs: int, idle: int = 0) -> Result:
    """The same workload through the same generator, each group a channel, each message a PUBLISH."""
    run = f"{time.monotonic_ns()}"
    groups = tuple(f"bench-{run}-{g}" for g in range(workload.groups))
    idle_groups = tuple(f"idle-{run}-{g}" for g in range(idle))
    target = Target("redis", redis.host, redis.port, groups, idle_groups)
    return run_load(target, workload, procs=procs, idle=idle, server_pid=redis.pid)
