"""The figures of one run, as ``chat-bench`` prints them."""

from __future__ import annotations

from dataclasses import dataclass

from chat_server.bench.tally import Tally
from chat_server.bench.workload import Workload


@dataclass(frozen=True, slots=True)
class ServerUsage:
    """What the server process used, read from /proc (None when it runs elsewhere)."""

    cpu_seconds: float | None
    rss_kib: int | None
    rss_kib_before_idle: int | None
    rss_kib_after_idle: int | None
    cpu_each: tuple[float, ...] | None = None  # each server process's share of cpu_seconds
    redis_cpu_seconds: float | None = None  # the redis-server the processes share, when it runs here
    cpu_by_thread: tuple[dict[str, float], ...] | None = None  # each process's cpu_each, by thread


@dataclass(frozen=True, slots=True)
class Result:
    """Every figure of one run; ``chat-bench --json`` prints it as it is."""

    server: str
    workload: str
    groups: int
    members: int
    senders: int
    messages: int
    size: int
    window: int
    rate: float
    procs: int
    idle: int
    seconds: float
    acked: int
    acked_per_s: float
    delivered: int
    delivered_per_s: float
    expected: int
    lost: int
    duplicated: int
    refused: int
    closed: int
    server_cpu_seconds: float | None
    deliveries_per_server_cpu_s: float | None
    server_us_per_delivery: float | None
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    ack_p50_ms: float
    ack_p99_ms: float
    server_rss_kib: int | None
    rss_kib_per_idle: float | None
    generator_cpu_seconds: float
    # Several server processes over one Redis (``--servers N``): the CPU above is theirs summed.
    store: str = ""
    servers: int = 1
    server_cpu_each: tuple[float, ...] | None = None
    server_cpu_by_thread: tuple[dict[str, float], ...] | None = None  # main, thread-1, ...: see thread_cpu_seconds
    cross_deliveries: int = 0  # deliveries to a member on another process than the sender's
    cross_latency_p50_ms: float | None = None
    cross_latency_p99_ms: float | None = None
    redis_cpu_seconds: float | None = None
    redis_us_per_message: float | None = None  # Redis CPU per acknowledged message
    deliveries_per_cpu_s_with_redis: float | None = None  # server processes and Redis together


def build_result(
    server: str, workload: Workload, tally: Tally, usage: ServerUsage, *, procs: int, idle: int, servers: int = 1
) -> Result:
    """The figures from the merged tally and the server's /proc readings."""
    seconds = max((tally.last_event_ns - tally.first_send_ns) / 1e9, 1e-9) if tally.first_send_ns else 0.0
    cpu = usage.cpu_seconds
    per_cpu = round(tally.delivered / cpu) if cpu else None
    per_idle = None
    if idle and usage.rss_kib_after_idle is not None and usage.rss_kib_before_idle is not None:
        per_idle = round((usage.rss_kib_after_idle - usage.rss_kib_before_idle) / idle, 2)
    return Result(
        server=server,
        workload=workload.label,
        groups=workload.groups,
        members=workload.members,
        senders=workload.senders,
        messages=workload.messages,
        size=workload.size,
        window=workload.window,
        rate=workload.rate,
        procs=procs,
        idle=idle,
        seconds=round(seconds, 3),
        acked=tally.acked,
        acked_per_s=round(tally.acked / seconds) if seconds else 0,
        delivered=tally.delivered,
        delivered_per_s=round(tally.delivered / seconds) if seconds else 0,
        expected=tally.expected,
        lost=tally.lost,
        duplicated=tally.duplicated,
        refused=tally.refused,
        closed=tally.closed,
        server_cpu_seconds=None if cpu is None else round(cpu, 3),
        deliveries_per_server_cpu_s=per_cpu,
        server_us_per_delivery=round(cpu / tally.delivered * 1e6, 3) if cpu and tally.delivered else None,
        latency_p50_ms=tally.delivery.quantile_ms(0.50),
        latency_p99_ms=tally.delivery.quantile_ms(0.99),
        latency_max_ms=round(tally.delivery.max_ns / 1e6, 3),
        ack_p50_ms=tally.ack.quantile_ms(0.50),
        ack_p99_ms=tally.ack.quantile_ms(0.99),
        server_rss_kib=usage.rss_kib,
        rss_kib_per_idle=per_idle,
        generator_cpu_seconds=round(tally.cpu_seconds, 3),
        servers=servers,
        server_cpu_each=usage.cpu_each,
        server_cpu_by_thread=usage.cpu_by_thread,
        cross_deliveries=tally.cross.count,
        cross_latency_p50_ms=tally.cross.quantile_ms(0.50) if tally.cross.count else None,
        cross_latency_p99_ms=tally.cross.quantile_ms(0.99) if tally.cross.count else None,
        redis_cpu_seconds=usage.redis_cpu_seconds,
        redis_us_per_message=_per(usage.redis_cpu_seconds, tally.acked, 1e6),
        deliveries_per_cpu_s_with_redis=_per(tally.delivered, _both(cpu, usage.redis_cpu_seconds)),
    )


def _per(amount: float | None, count: float | None, scale: float = 1.0) -> float | None:
    """``amount`` per ``count``, None when either is unknown or the count is 0 (a run under one CPU tick)."""
    if amount is None or not count:
        return None
    return round(amount / count * scale, 2)


def _both(server_cpu: float | None, redis_cpu: float | None) -> float | None:
    return None if server_cpu is None or redis_cpu is None else server_cpu + redis_cpu


def summary(result: Result) -> str:
    """A few human lines (the default output; ``--json`` gives every figure)."""
    cpu = "n/a (server not on this machine)"
    if result.server_cpu_seconds is not None:
        per_cpu = result.deliveries_per_server_cpu_s or 0
        cpu = f"{result.server_cpu_seconds:.2f} s -> {per_cpu:,} deliveries per CPU-second"
    lines = [
        f"{result.server}  {result.workload} (groups x members x senders), {result.messages:,} messages "
        f"of {result.size} B, window {result.window}, {result.procs} generator process(es)",
        f"  delivered {result.delivered:,} in {result.seconds:.2f} s = {result.delivered_per_s:,.0f}/s;"
        f" acked {result.acked:,} = {result.acked_per_s:,.0f}/s",
        f"  server CPU {cpu}",
        f"  delivery latency p50 {result.latency_p50_ms} ms, p99 {result.latency_p99_ms} ms,"
        f" max {result.latency_max_ms} ms; ack p50 {result.ack_p50_ms} ms, p99 {result.ack_p99_ms} ms",
        f"  lost {result.lost}, duplicated {result.duplicated}, refused {result.refused},"
        f" connections closed by the server {result.closed}",
        f"  server RSS {result.server_rss_kib} KiB; generator CPU {result.generator_cpu_seconds} s",
    ]
    if result.servers > 1 or result.redis_cpu_seconds is not None:
        lines += _cluster_lines(result)
    if result.idle:
        lines.append(f"  {result.idle:,} idle joined connections: {result.rss_kib_per_idle} KiB RSS each")
    return "\n".join(lines)


def _cluster_lines(result: Result) -> list[str]:
    each = ", ".join(f"{cpu:.2f}" for cpu in result.server_cpu_each or ())
    lines = [f"  {result.servers} server process(es) on {result.store or 'one store'}; CPU s each: {each or 'n/a'}"]
    for n, threads in enumerate(result.server_cpu_by_thread or ()):
        busy = ", ".join(f"{name} {cpu:.2f}" for name, cpu in threads.items() if cpu >= 0.01)
        lines.append(f"    process {n} CPU s by thread: {busy or 'none'}")
    if result.cross_deliveries:
        lines.append(
            f"  cross-process deliveries {result.cross_deliveries:,}: latency p50 {result.cross_latency_p50_ms} ms,"
            f" p99 {result.cross_latency_p99_ms} ms"
        )
    if result.redis_cpu_seconds is not None:
        lines.append(
            f"  redis-server CPU {result.redis_cpu_seconds:.2f} s = {result.redis_us_per_message} us per message;"
            f" with it, {result.deliveries_per_cpu_s_with_redis or 0:,} deliveries per CPU-second"
        )
    return lines
