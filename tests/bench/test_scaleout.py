"""``bench/scaleout.py``: one process on SQLite, one on Redis and two sharing Redis, in one table."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chat_server.bench.scaleout import COST, SEEN, setups

REPO = Path(__file__).resolve().parents[2]


def test_the_set_ups_are_one_process_on_each_store_and_n_sharing_redis() -> None:
    assert [(s.store, s.servers) for s in setups(3)] == [("sqlite", 1), ("redis", 1), ("redis", 3)]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_the_scaleout_script_prints_every_set_up_with_no_loss() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scaleout.py"), "--reps", "1", "--only", "1", "--scale", "0.01",
         "--procs", "1"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in run.stdout.splitlines() if line]
    cost, seen = rows[:5], rows[5:]
    assert cost[0] == ["workload", "set-up", *(c[0] for c in COST)]
    assert seen[0] == ["workload", "set-up", *(c[0] for c in SEEN)]
    assert [row[1] for row in cost[2:]] == ["1 process, SQLite", "1 process, Redis", "2 processes, Redis"]
    redis_cpu = [row[4] for row in cost[2:]]
    assert redis_cpu[0] == "-"
    assert "-" not in redis_cpu[1:]
    cross_p50 = [row[4] for row in seen[2:]]
    assert cross_p50[:2] == ["-", "-"]
    assert cross_p50[2] != "-"
    assert all((row[6], row[7]) == ("0", "0") for row in seen[2:])  # lost, duplicated
