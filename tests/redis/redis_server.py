"""A private ``redis-server`` for tests: a free loopback port, its own directory, stopped by the test.

Persistence is the one the README recommends for no loss: an append-only file synced on every write.
The starting, waiting and killing live in ``chat_server.bench.redis_server`` (one copy, shared with
the benchmarks); this only fixes the persistence the tests rely on.
"""

from __future__ import annotations

from pathlib import Path

from chat_server.bench.redis_server import REDIS_SERVER, free_port
from chat_server.bench.redis_server import RedisServer as _RedisServer

__all__ = ["REDIS_SERVER", "RedisServer", "free_port"]


class RedisServer(_RedisServer):
    """One ``redis-server`` process on 127.0.0.1 with ``appendfsync always`` and Redis's own limits
    otherwise (what a deployment has); :meth:`kill` and :meth:`start` again keep its data."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, persistence="always", pubsub_limit=None)
