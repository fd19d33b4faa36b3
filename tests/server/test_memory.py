"""Server memory per idle connection (issue 11: 2 KiB per idle member at 10,000): no buffer, queue or
per-instance dict is held by a connection that has nothing waiting."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from chat_server.config import ServerConfig
from shared import LeaveGroup
from tests.conftest import ServerProcess
from tests.helpers import InProcessServer, RawClient

CONNECTIONS = 100
# Python objects the server keeps per idle connection: the socket's selector key, the Client record,
# its protocol Connection and frame reader, its request budget and message quota. Lazily made queues
# (output, inbox, catch-up replays, held messages: 760 bytes each when empty) must not be among them.
BUDGET = 2048


def test_an_idle_connection_holds_under_2_kib_of_server_objects() -> None:
    server = InProcessServer(
        ServerConfig(port=0, store_url="memory:", max_connections_per_address=500, connect_attempts=1000)
    )
    try:
        warm = RawClient(server.address)  # the first connection builds what every later one shares
        warm.refused(lambda rid: LeaveGroup(rid, 1))
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            clients = [RawClient(server.address) for _ in range(CONNECTIONS)]
            for client in clients:  # each has had a request answered and its output written
                client.refused(lambda rid: LeaveGroup(rid, 1))  # not a member: refused
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        server_side = [tracemalloc.Filter(True, "*/chat_server/*"), tracemalloc.Filter(True, "*/selectors.py")]
        grown = after.filter_traces(server_side).compare_to(before.filter_traces(server_side), "filename")
        assert sum(stat.size_diff for stat in grown) / CONNECTIONS < BUDGET
    finally:
        server.stop()


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
def test_password_hashing_gives_its_memory_back(server: ServerProcess) -> None:
    """Each scrypt hash takes 16 MiB. Once glibc has seen one freed it would keep the next in the worker's
    heap for good (+16 MiB per worker, measured); the server pins its mmap threshold so it is unmapped."""
    assert server.process is not None
    baseline = _rss_kib(server.process.pid)  # after the start-up decoy hash: glibc's threshold has moved
    group = RawClient(server.address).create("team", "pw", "Alice").group_id
    for n in range(3):
        RawClient(server.address).join(group, "pw", f"member{n}")
    assert _rss_kib(server.process.pid) - baseline < 8 * 1024
