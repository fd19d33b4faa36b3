"""The coordinator: splits the members over ``--procs`` generator processes (and over the server
processes, when several share one Redis), starts them together, reads each server process's CPU and
memory (and Redis's CPU) from /proc around the measured part, and merges the tallies."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier

from chat_server.bench.member import MemberPlan
from chat_server.bench.progress import ProgressBar
from chat_server.bench.report import Result, ServerUsage, build_result
from chat_server.bench.server import rss_kib, server_cpu_seconds, thread_cpu_seconds
from chat_server.bench.tally import Tally
from chat_server.bench.worker import Target, WorkerSpec, work
from chat_server.bench.workload import Workload

IDLE_GROUP_SIZE = 50  # idle members per group: few groups to create, and O(size²) join notices stay small
SETTLE_SECONDS = 5.0  # without progress for this long, what has not arrived is lost
# Set-up joins hash a password each (about 0.1 s of server CPU): 10,000 joins take minutes.
BARRIER_TIMEOUT = 3600.0


def member_plans(workload: Workload, echo_to_sender: bool, servers: int = 1) -> list[MemberPlan]:
    """Every active member's plan. ``echo_to_sender``: the server delivers a sender's message to the
    sender too (Redis does, to its own subscription; groupchat does not).

    With several server processes, every sender is on process 0 and the listeners go round-robin over
    the others, so each message a listener receives has crossed from one process to another: the run
    measures the cross-process path, the one a process of its own does not have.
    """
    plans = []
    for group in range(workload.groups):
        total = workload.group_total(group)
        for member in range(workload.members):
            sender = workload.sender_id(group, member)
            quota = 0 if sender is None else workload.quota(sender)
            expected = total if echo_to_sender else total - quota
            server = 0 if sender is not None or servers == 1 else 1 + (member - workload.senders) % (servers - 1)
            plans.append(MemberPlan(group, member, sender, quota, expected, server=server, remote=server != 0))
    return plans


def idle_plans(count: int, servers: int = 1) -> list[MemberPlan]:
    """``count`` idle members, ``IDLE_GROUP_SIZE`` to a group, round-robin over the server processes."""
    return [
        MemberPlan(i // IDLE_GROUP_SIZE, i % IDLE_GROUP_SIZE, None, 0, 0, idle=True, server=i % servers)
        for i in range(count)
    ]


def idle_group_count(count: int) -> int:
    """Groups the idle members need."""
    return math.ceil(count / IDLE_GROUP_SIZE)


@dataclass(frozen=True, slots=True)
class Reading:
    """CPU-seconds and RSS of each server process, and CPU-seconds of the Redis it shares, at one moment."""

    cpu: tuple[float, ...] | None  # None: a server process that does not run here (its /proc is not ours)
    rss_kib: int | None  # all server processes together
    redis_cpu: float | None
    threads: tuple[dict[str, float], ...] | None = None  # each process's CPU by thread (thread_cpu_seconds)

    @classmethod
    def take(cls, pids: Sequence[int | None], redis_pid: int | None) -> Reading:
        """Read /proc now."""
        redis_cpu = None if redis_pid is None else server_cpu_seconds(redis_pid)
        known = [pid for pid in pids if pid is not None]
        if len(known) < len(pids):
            return cls(None, None, redis_cpu)
        cpu = tuple(server_cpu_seconds(pid) for pid in known)
        threads = tuple(thread_cpu_seconds(pid) for pid in known)
        return cls(cpu, sum(rss_kib(pid) for pid in known), redis_cpu, threads)


def usage_between(before: Reading, after: Reading, idle_start: Reading) -> ServerUsage:
    """What the server processes (and Redis) used from ``before`` to ``after``."""
    each = None
    if before.cpu is not None and after.cpu is not None:
        each = tuple(round(end - start, 3) for start, end in zip(before.cpu, after.cpu, strict=True))
    redis = None
    if before.redis_cpu is not None and after.redis_cpu is not None:
        redis = round(after.redis_cpu - before.redis_cpu, 3)
    threads = None
    if before.threads is not None and after.threads is not None:
        threads = tuple(
            {name: round(cpu - start.get(name, 0.0), 3) for name, cpu in end.items()}
            for start, end in zip(before.threads, after.threads, strict=True)
        )
    total = None if each is None else sum(each)
    return ServerUsage(
        total, after.rss_kib, idle_start.rss_kib, before.rss_kib,
        cpu_each=each, redis_cpu_seconds=redis, cpu_by_thread=threads,
    )  # fmt: skip


def run_load(
    target: Target,
    workload: Workload,
    *,
    procs: int,
    idle: int = 0,
    server_pids: Sequence[int | None],
    redis_pid: int | None = None,
    settle: float = SETTLE_SECONDS,
) -> Result:
    """Run ``workload`` (and hold ``idle`` idle members) against ``target``, whose processes are
    ``server_pids`` (one per address; None for one not on this machine) sharing the Redis ``redis_pid``.

    Raises:
        RuntimeError: a generator process failed (its traceback is in the message).
    """
    servers = len(target.addresses)
    echo = target.kind == "redis"
    plans = member_plans(workload, echo, servers) + idle_plans(idle, servers)
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
    expected = sum(plan.expected for plan in member_plans(workload, echo))
    try:
        merged, usage = _coordinate(barrier, progress, results, lambda: Reading.take(server_pids, redis_pid), expected)
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    return build_result(target.kind, workload, merged, usage, procs=procs, idle=idle, servers=servers)


def _coordinate(
    barrier: Barrier,
    progress: Synchronized[int],
    results: Queue[Tally | str],
    read: Callable[[], Reading],
    expected: int,
) -> tuple[Tally, ServerUsage]:
    """Wait at the barriers, read /proc at each, show progress, and merge the processes' tallies."""
    try:
        barrier.wait(BARRIER_TIMEOUT)
        idle_start = read()
        barrier.wait(BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a generator process failed:\n{results.get(timeout=30)}") from None
    before = read()
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
    after = read()
    with contextlib.suppress(threading.BrokenBarrierError):  # a process that failed after its tally
        barrier.wait(BARRIER_TIMEOUT)
    return merged, usage_between(before, after, idle_start)
