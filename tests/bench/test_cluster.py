"""``chat-bench --servers N``: members split over several server processes sharing one Redis, and the
figures that run reports (cross-process latency, Redis's CPU). Small runs; speed is never asserted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from chat_server.bench.groupchat_run import load_running, load_spawned
from chat_server.bench.report import summary
from chat_server.bench.runner import Reading, idle_plans, member_plans, usage_between
from chat_server.bench.server import load_flags
from chat_server.bench.workload import Workload
from tests.conftest import Starter

SMALL = Workload(groups=2, members=4, senders=2, messages=240, size=80, window=8)
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def test_senders_share_the_first_process_and_listeners_go_round_robin_over_the_others() -> None:
    plans = member_plans(Workload(groups=2, members=5, senders=2, messages=40), echo_to_sender=False, servers=3)
    assert [p.server for p in plans] == [0, 0, 1, 2, 1] * 2
    assert [p.remote for p in plans] == [False, False, True, True, True] * 2
    assert all(p.server == 0 and not p.remote for p in member_plans(SMALL, echo_to_sender=False))
    assert [p.server for p in idle_plans(5, servers=2)] == [0, 1, 0, 1, 0]


def test_cpu_is_summed_over_the_server_processes_and_redis_is_counted_apart() -> None:
    idle_start = Reading((1.0, 2.0), 300, 5.0)
    threads_before = ({"main": 1.0, "thread-1": 0.5}, {"main": 2.0})
    threads_after = ({"main": 1.5, "thread-1": 1.0}, {"main": 2.25, "thread-1": 0.5})  # a thread that started since
    before = Reading((1.5, 2.0), 400, 5.5, threads_before)
    after = Reading((2.5, 2.75), 500, 6.25, threads_after)
    usage = usage_between(before, after, idle_start)
    assert usage.cpu_by_thread == ({"main": 0.5, "thread-1": 0.5}, {"main": 0.25, "thread-1": 0.5})
    assert usage.cpu_each == (1.0, 0.75)
    assert usage.cpu_seconds == 1.75
    assert usage.redis_cpu_seconds == 0.75
    assert (usage.rss_kib, usage.rss_kib_before_idle, usage.rss_kib_after_idle) == (500, 300, 400)
    elsewhere = usage_between(Reading(None, None, None), after, idle_start)  # a process not on this machine
    assert (elsewhere.cpu_seconds, elsewhere.cpu_each, elsewhere.redis_cpu_seconds) == (None, None, None)


def test_members_spread_over_several_addresses_are_each_counted_once(start_server: Starter) -> None:
    # One server reached through two addresses: the bench's split and its cross-process tally, without Redis.
    server = start_server(*load_flags(16))
    result = load_running([server.address, server.address], SMALL, procs=2, idle=2)
    assert (result.delivered, result.lost, result.duplicated) == (result.expected, 0, 0)
    assert result.servers == 2
    assert result.server_cpu_each is not None
    assert len(result.server_cpu_each) == 2
    # Each group's 2 listeners are on the second address and receive all 120 of its messages.
    assert result.cross_deliveries == 2 * 2 * 120
    assert result.cross_latency_p50_ms is not None
    assert result.cross_latency_p99_ms is not None
    assert result.cross_latency_p50_ms <= result.cross_latency_p99_ms <= result.latency_max_ms
    assert result.redis_cpu_seconds is None
    assert result.redis_us_per_message is None


@needs_redis
def test_two_processes_sharing_redis_deliver_each_message_once_across_them() -> None:
    result = load_spawned(SMALL, procs=2, idle=2, store="redis", servers=2)
    assert result.expected == 2 * (4 * 120 - 120)
    assert (result.delivered, result.lost, result.duplicated) == (result.expected, 0, 0)
    assert (result.acked, result.refused, result.closed) == (240, 0, 0)
    assert (result.servers, result.store) == (2, "redis, appendfsync everysec")
    assert result.cross_deliveries == 2 * 2 * 120
    assert result.server_cpu_each is not None
    assert len(result.server_cpu_each) == 2
    assert result.server_cpu_seconds is not None
    assert result.redis_cpu_seconds is not None
    assert result.redis_us_per_message is not None
    assert result.server_cpu_by_thread is not None
    assert [sorted(threads)[:1] for threads in result.server_cpu_by_thread] == [["main"], ["main"]]
    assert "cross-process deliveries 480" in summary(result)


@needs_redis
def test_chat_bench_json_has_the_cluster_figures() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server.bench", "--json", "--store", "redis", "--servers", "2",
         "--redis-fsync", "always", "--groups", "1", "--members", "4", "--senders", "1", "--messages", "30",
         "--procs", "1"],
        capture_output=True, text=True, check=True, timeout=100,
    )  # fmt: skip
    figures = json.loads(run.stdout)
    wanted = {
        "servers", "store", "server_cpu_each", "cross_deliveries", "cross_latency_p50_ms", "cross_latency_p99_ms",
        "redis_cpu_seconds", "redis_us_per_message", "deliveries_per_cpu_s_with_redis",
    }  # fmt: skip
    assert wanted <= figures.keys()
    # A run this short may take less than one clock tick (10 ms) of CPU: no ratio then.
    assert None not in [figures[name] for name in wanted - {"deliveries_per_cpu_s_with_redis"}]
    assert (figures["servers"], figures["store"], figures["cross_deliveries"]) == (2, "redis, appendfsync always", 90)
    assert (figures["lost"], figures["duplicated"]) == (0, 0)


def test_chat_bench_refuses_several_processes_on_a_store_they_cannot_share() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server.bench", "--servers", "2", "--store", "sqlite"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--servers 2 needs a store they share: --store redis or redis://HOST:PORT/DB" in run.stderr
