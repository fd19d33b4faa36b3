"""``bench/compare.py``: the same generator drives a private redis-server, and the table comes out whole."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chat_server.bench.redis_run import load_redis
from chat_server.bench.redis_server import RedisServer
from chat_server.bench.workload import Workload

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
REPO = Path(__file__).resolve().parents[2]


def test_redis_pub_sub_delivers_each_message_once_to_every_subscriber_sender_included() -> None:
    with RedisServer(persistence="none") as redis:
        result = load_redis(redis, Workload(groups=2, members=3, senders=2, messages=80), procs=2, idle=2)
    # Redis hands a publisher's message to its own subscription too: 40 per group to each of 3 members.
    assert (result.expected, result.delivered, result.lost, result.duplicated) == (240, 240, 0, 0)
    assert (result.acked, result.refused) == (80, 0)
    assert result.server_cpu_seconds is not None
    assert result.rss_kib_per_idle is not None


def test_the_comparison_script_prints_both_servers_and_their_ratio() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "compare.py"), "--reps", "1", "--only", "1", "--scale", "0.01",
         "--procs", "1", "--store", "memory"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in run.stdout.splitlines() if line]
    assert rows[0] == ["workload (groups x members x senders)", "groupchat", "redis pub/sub", "groupchat / redis"]
    assert rows[2][0] == "1 x 50 x 5"
    assert rows[2][3].endswith("x") or rows[2][3] == "-"  # "-": a run this short may take no CPU tick
    details = {row[1]: row for row in rows if len(row) == 9 and row[0] == "1 x 50 x 5"}
    assert details.keys() == {"groupchat", "redis pub/sub"}
    assert all((row[6], row[7]) == ("0", "0") for row in details.values())  # lost, duplicated
