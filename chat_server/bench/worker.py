"""One generator process: opens its share of the members, then sends and checks in step with the others.

Processes meet at three barriers the coordinator also waits on: after the members joined (the
coordinator notes the server's memory), after the idle connections joined (memory again, and the
CPU clock starts; then every sender starts at once), and after every process handed in its tally
(the CPU clock stops; then the connections close).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier
from typing import Literal

from chat_server.bench.groupchat_member import GroupchatMember
from chat_server.bench.member import Member, MemberPlan, Sending
from chat_server.bench.redis_member import RedisMember
from chat_server.bench.tally import Tally

# Members connect at most this many at a time, as clients with jittered backoff would: far under the
# listen backlog of either server, so no SYN is dropped and retried a second later.
CONNECT_CONCURRENCY = 100
PROGRESS_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Target:
    """The server under load: its wire, the address of each of its processes (several share one Redis
    store), and the key of each group (id or channel)."""

    kind: Literal["groupchat", "redis"]
    addresses: tuple[tuple[str, int], ...]
    groups: tuple[int | str, ...]
    idle_groups: tuple[int | str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """One process's share of a run."""

    target: Target
    plans: tuple[MemberPlan, ...]
    window: int
    size: int
    rate: float  # messages/s per sender (0: unpaced)
    settle: float  # seconds without progress after which the rest counts as lost
    barrier_timeout: float


def make_member(spec: WorkerSpec, plan: MemberPlan, tally: Tally) -> Member:
    """The member for ``plan`` on the target's wire."""
    target = spec.target
    key = (target.idle_groups if plan.idle else target.groups)[plan.group]
    address = target.addresses[plan.server]
    sending = Sending(spec.window, spec.size, spec.rate)
    if target.kind == "redis":
        return RedisMember(plan, tally, sending, address=address, channel=str(key))
    return GroupchatMember(plan, tally, sending, address=address, group_id=int(key))


async def _limited(jobs: list[Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(job: Awaitable[None]) -> None:
        async with gate:
            await job

    await asyncio.gather(*(one(job) for job in jobs))


async def _join(spec: WorkerSpec, tally: Tally, idle: bool) -> tuple[list[Member], list[asyncio.Task[None]]]:
    members = [make_member(spec, plan, tally) for plan in spec.plans if plan.idle == idle]
    readers: list[asyncio.Task[None]] = []

    async def join(member: Member) -> None:
        await member.join()
        # Read (and answer pings) from the moment it joined: set-up joins hash a password each and can
        # take minutes, and a member silent that long is closed as a dead peer before the run starts.
        readers.append(asyncio.create_task(member.read()))

    await _limited([join(member) for member in members])
    return members, readers


async def _watch(tally: Tally, progress: Synchronized[int], settle: float) -> None:
    """Publish progress; return once nothing has moved for ``settle`` seconds."""
    reported, last, still_since = 0, -1, time.monotonic()
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        with progress.get_lock():
            progress.value += tally.delivered - reported
        reported = tally.delivered
        moved = tally.delivered + tally.acked + tally.refused + tally.closed
        if moved != last:
            last, still_since = moved, time.monotonic()
        elif time.monotonic() - still_since > settle:
            return


async def _work(spec: WorkerSpec, barrier: Barrier, progress: Synchronized[int], results: Queue[Tally | str]) -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    active, readers = await _join(spec, tally, idle=False)
    await loop.run_in_executor(None, barrier.wait, spec.barrier_timeout)
    idle, idle_readers = await _join(spec, tally, idle=True)
    await loop.run_in_executor(None, barrier.wait, spec.barrier_timeout)
    cpu_before = time.process_time()
    senders = [asyncio.create_task(member.send_all()) for member in active]
    finishing = [asyncio.create_task(member.finished()) for member in active]
    watch = asyncio.create_task(_watch(tally, progress, spec.settle))

    async def everyone() -> None:
        await asyncio.gather(*finishing)

    done = asyncio.create_task(everyone())
    await asyncio.wait([done, watch], return_when=asyncio.FIRST_COMPLETED)
    tally.cpu_seconds = time.process_time() - cpu_before
    for task in [*senders, *readers, *idle_readers, *finishing, watch, done]:
        task.cancel()
    results.put(tally)
    # Nobody closes before the coordinator read the server's CPU: the member_left notices that closing
    # sends (O(members²) per group) are no part of the measured load.
    await loop.run_in_executor(None, barrier.wait, spec.barrier_timeout)
    for member in [*active, *idle]:
        member.close()


def work(spec: WorkerSpec, barrier: Barrier, progress: Synchronized[int], results: Queue[Tally | str]) -> None:
    """The process body: run, then put the tally (or the error's traceback) on ``results``."""
    try:
        asyncio.run(_work(spec, barrier, progress, results))
    except BaseException:
        barrier.abort()  # the coordinator and the other processes stop waiting for this one
        results.put(traceback.format_exc())
