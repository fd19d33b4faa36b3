"""The coordinator: splits the members over ``--procs`` generator processes, starts them together,
reads the server's CPU and memory from /proc around the measured part, and merges the tallies."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import queue
import threading
from dataclasses import replace
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier

from chat_server.bench.member import MemberPlan
from chat_server.bench.progress import ProgressBar
from chat_server.bench.report import Result, ServerUsage, build_result
from chat_server.bench.server import rss_kib, server_cpu_seconds
from chat_server.bench.tally import Tally
from chat_server.bench.worker import Target, WorkerSpec, work
from chat_server.bench.workload import Workload

IDLE_GROUP_SIZE = 50  # idle members per group: few groups to create, and O(size²) join notices stay small
SETTLE_SECONDS = 5.0  # without progress for this long, what has not arrived is lost
# Set-up joins hash a password each (about 0.1 s of server CPU): 10,000 joins take minutes.
BARRIER_TIMEOUT = 3600.0


def member_plans(workload: Workload, echo_to_sender: bool) -> list[MemberPlan]:
    """Every active member's plan. ``echo_to_sender``: the server delivers a sender's message to the
    sender too (Redis does, to its own subscription; groupchat does not)."""
    plans = []
    for group in range(workload.groups):
        total = workload.group_total(group)
        for member in range(workload.members):
            sender = workload.sender_id(group, member)
            quota = 0 if sender is None else workload.quota(sender)
            expected = total if echo_to_sender else total - quota
            plans.append(MemberPlan(group, member, sender, quota, expected))
    return plans


def idle_plans(count: int) -> list[MemberPlan]:
    """``count`` idle members, ``IDLE_GROUP_SIZE`` to a group."""
    return [MemberPlan(i // IDLE_GROUP_SIZE, i % IDLE_GROUP_SIZE, None, 0, 0, idle=True) for i in range(count)]


def idle_group_count(count: int) -> int:
    """Groups the idle members need."""
    return math.ceil(count / IDLE_GROUP_SIZE)


def _usage(pid: int | None) -> tuple[float | None, int | None]:
    if pid is None:
        return None, None
    return server_cpu_seconds(pid), rss_kib(pid)


def run_load(
    target: Target,
    workload: Workload,
    *,
    procs: int,
    idle: int = 0,
    server_pid: int | None,
    settle: float = SETTLE_SECONDS,
) -> Result:
    """Run ``workload`` (and hold ``idle`` idle members) against ``target``; the merged figures.

    Raises:
        RuntimeError: a generator process failed (its traceback is in the message).
    """
    plans = member_plans(workload, echo_to_sender=target.kind == "redis") + idle_plans(idle)
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads and sockets
    barrier = context.Barrier(procs + 1)
    progress = context.Value("q", 0)
    results: Queue[Tally | str] = context.Queue()
    spec = WorkerSpec(target, (), workload.window, workload.size, workload.sender_rate, settle, BARRIER_TIMEOUT)
    workers = [
        context.Process(target=work, args=(replace(spec, plans=tuple(plans[p::procs])), barrier, progress, results))
        for p in range(procs)
    ]
    for worker in workers:
        worker.start()
    try:
        readings = _coordinate(barrier, progress, results, server_pid, expected=_expected(target, workload))
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    merged, usage = readings
    return build_result(target.kind, workload, merged, usage, procs=procs, idle=idle)


def _expected(target: Target, workload: Workload) -> int:
    return sum(plan.expected for plan in member_plans(workload, echo_to_sender=target.kind == "redis"))


def _coordinate(
    barrier: Barrier,
    progress: Synchronized[int],
    results: Queue[Tally | str],
    server_pid: int | None,
    *,
    expected: int,
) -> tuple[Tally, ServerUsage]:
    """Wait at the barriers, read /proc at each, show progress, and merge the processes' tallies."""
    try:
        barrier.wait(BARRIER_TIMEOUT)
        _, rss_before_idle = _usage(server_pid)
        barrier.wait(BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a generator process failed:\n{results.get(timeout=30)}") from None
    cpu_before, rss_after_idle = _usage(server_pid)
    bar = ProgressBar(expected)
    merged, pending = Tally(), barrier.parties - 1
    while pending:
        try:
            tally = results.get(timeout=0.25)
        except queue.Empty:
            bar.update(progress.value)
            continue
        if isinstance(tally, str):
            bar.done()
            raise RuntimeError(f"a generator process failed:\n{tally}")
        merged.merge(tally)
        pending -= 1
    bar.done()
    cpu_after, rss_after = _usage(server_pid)
    with contextlib.suppress(threading.BrokenBarrierError):  # a process that failed after its tally
        barrier.wait(BARRIER_TIMEOUT)
    cpu = None if cpu_after is None or cpu_before is None else cpu_after - cpu_before
    return merged, ServerUsage(cpu, rss_after, rss_before_idle, rss_after_idle)
