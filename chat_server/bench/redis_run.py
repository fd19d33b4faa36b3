"""A run against Redis pub/sub, for the comparison: each group a channel, each message a PUBLISH."""

from __future__ import annotations

import time

from chat_server.bench.redis_server import RedisServer
from chat_server.bench.report import Result
from chat_server.bench.runner import run_load
from chat_server.bench.worker import Target
from chat_server.bench.workload import Workload


def load_redis(redis: RedisServer, workload: Workload, *, procs: int, idle: int = 0) -> Result:
    """The same workload through the same generator; Redis's CPU is the server CPU."""
    run = f"{time.monotonic_ns()}"
    groups = tuple(f"bench-{run}-{g}" for g in range(workload.groups))
    idle_groups = tuple(f"idle-{run}-{g}" for g in range(idle))
    target = Target("redis", ((redis.host, redis.port),), groups, idle_groups)
    return run_load(target, workload, procs=procs, idle=idle, server_pids=(redis.pid,))
