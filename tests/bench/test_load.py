"""``chat-bench`` against real servers: every message arrives once, and every figure is filled in.

Small runs only; speed is never asserted (figures are the bench's job, not the suite's).
"""

from __future__ import annotations

import json
import subprocess
import sys

from chat_server.bench.groupchat_run import load_running, load_spawned
from chat_server.bench.server import load_flags, pid_listening_on
from chat_server.bench.workload import Workload
from tests.conftest import Starter

SMALL = Workload(groups=2, members=4, senders=2, messages=240, size=80, window=8)


def test_a_spawned_server_delivers_each_message_once_to_every_other_member() -> None:
    result = load_spawned(SMALL, procs=2, idle=3, store="sqlite", sync="normal")
    # Each group gets 120 messages; each of its 4 members receives those of the other members.
    assert result.expected == 2 * (4 * 120 - 120)
    assert (result.delivered, result.lost, result.duplicated) == (result.expected, 0, 0)
    assert (result.acked, result.refused, result.closed) == (240, 0, 0)
    assert result.server_cpu_seconds is not None
    assert result.server_rss_kib is not None
    assert result.rss_kib_per_idle is not None  # 3 idle joined connections were held and measured
    assert result.latency_p50_ms <= result.latency_p99_ms <= result.latency_max_ms


def test_a_paced_run_still_delivers_everything() -> None:
    paced = Workload(groups=1, members=3, senders=3, messages=60, rate=300.0)
    result = load_spawned(paced, procs=1, store="memory")
    assert (result.delivered, result.lost, result.duplicated) == (60 * 2, 0, 0)
    assert result.seconds >= 0.1  # 60 messages at 300/s cannot all go at once


def test_a_running_server_is_found_by_its_port_for_its_cpu_and_memory(start_server: Starter) -> None:
    server = start_server(*load_flags(16))
    assert pid_listening_on(server.address[1]) == server.process.pid  # type: ignore[union-attr]
    result = load_running([server.address], Workload(1, 3, 1, 30), procs=1)
    assert (result.lost, result.duplicated, result.delivered) == (0, 0, 60)
    assert result.server_cpu_seconds is not None


def test_chat_bench_json_has_every_figure_the_issue_asks_for() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server.bench", "--json", "--store", "memory", "--groups", "1",
         "--members", "3", "--senders", "1", "--messages", "20", "--procs", "1", "--idle", "2"],
        capture_output=True, text=True, check=True, timeout=100,
    )  # fmt: skip
    figures = json.loads(run.stdout)
    wanted = {
        "delivered_per_s", "acked_per_s", "server_cpu_seconds", "deliveries_per_server_cpu_s",
        "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "lost", "duplicated", "server_rss_kib",
        "rss_kib_per_idle",
    }  # fmt: skip
    assert wanted <= figures.keys()
    # A run this short may use less than one clock tick (10 ms) of server CPU: no ratio then.
    assert None not in [figures[name] for name in wanted - {"deliveries_per_server_cpu_s"}]
    assert (figures["lost"], figures["duplicated"]) == (0, 0)


def test_chat_bench_refuses_a_workload_it_cannot_run() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server.bench", "--members", "2", "--senders", "3"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--senders must be between 1 and --members (2)" in run.stderr
