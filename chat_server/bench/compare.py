"""groupchat beside Redis pub/sub: the same workloads through the same generator, in the same run.

``python bench/compare.py`` (or ``python -m chat_server.bench.compare``) starts a private
``redis-server`` on a free loopback port and, for each workload and each repetition (interleaved, so a
busy moment of the machine hits every server alike), a fresh groupchat server (SQLite, ``--sync
normal``, acknowledgements on, flood limits off). It prints the deliveries per server CPU-second of
each, the medians over the repetitions, and groupchat's ratio to Redis, as a Markdown table.
``--baseline DIR`` adds a column for the groupchat of another checkout (``git worktree add DIR REV``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from chat_server.bench.groupchat_run import load_spawned
from chat_server.bench.redis_run import load_redis
from chat_server.bench.redis_server import RedisServer
from chat_server.bench.report import Result
from chat_server.bench.workload import Workload

# The three shapes; messages chosen so each run makes about a million deliveries.
WORKLOADS = (
    Workload(groups=1, members=50, senders=5, messages=20_000),
    Workload(groups=10, members=20, senders=2, messages=50_000),
    Workload(groups=1, members=500, senders=1, messages=2_000),
)
PACED_SECONDS = 8.0
REDIS = "redis pub/sub"
CURRENT = "groupchat"
BASELINE = "groupchat (baseline)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compare", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each run (default %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload's messages (default 1)")
    parser.add_argument(
        "--paced", type=float, default=0, metavar="DELIVERIES",
        help="offer every server the same load: pace each workload at this many deliveries/s, for "
        f"{PACED_SECONDS:.0f} s (default: unpaced, each as fast as its windows allow)",
    )  # fmt: skip
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="generator processes")
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--sync", choices=["normal", "full"], default="normal")
    parser.add_argument("--baseline", type=Path, help="also run the chat_server of this checkout")
    parser.add_argument("--only", type=int, action="append", help="run only workload N (1-3); repeatable")
    parser.add_argument("--json", action="store_true", help="also print every run's figures as JSON lines")
    return parser


def _workloads(args: argparse.Namespace) -> list[Workload]:
    chosen = [w for n, w in enumerate(WORKLOADS, start=1) if not args.only or n in args.only]
    if args.paced:
        # Messages/s that make ``--paced`` deliveries/s, a message reaching every member but its sender.
        rates = [args.paced / max(1, w.members - 1) for w in chosen]
        return [
            replace(w, rate=rate, messages=max(1, round(rate * PACED_SECONDS * args.scale)))
            for w, rate in zip(chosen, rates, strict=True)
        ]
    return [replace(w, messages=max(1, round(w.messages * args.scale))) for w in chosen]


Runs = dict[tuple[str, str], list[Result]]


def run_all(args: argparse.Namespace, redis: RedisServer, emit: Callable[[Result], None]) -> Runs:
    """Every run, repetitions interleaved; results keyed by (workload, server)."""
    runs: Runs = defaultdict(list)

    def groupchat(root: Path | None) -> Callable[[Workload], Result]:
        return lambda w: load_spawned(w, procs=args.procs, store=args.store, sync=args.sync, root=root)

    servers = [(CURRENT, groupchat(None)), (REDIS, lambda w: load_redis(redis, w, procs=args.procs))]
    if args.baseline:
        servers.insert(1, (BASELINE, groupchat(args.baseline.resolve())))
    for rep in range(args.reps):
        for workload in _workloads(args):
            for name, load in servers:
                print(f"rep {rep + 1}/{args.reps}: {name}, {workload.label}", file=sys.stderr, flush=True)
                result = replace(load(workload), server=name)
                runs[workload.label, name].append(result)
                emit(result)
    return runs


def median_of(results: list[Result], field: str) -> float:
    """The median of one figure over repetitions (a figure a run could not take counts as 0)."""
    return statistics.median(float(getattr(r, field) or 0) for r in results)


def table(runs: Runs, servers: list[str]) -> str:
    """The Markdown table: median deliveries per server CPU-second, and each groupchat's ratio to Redis."""
    gc = [s for s in servers if s != REDIS]
    head = ["workload (groups x members x senders)", *servers, *(f"{s} / redis" for s in gc)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in dict.fromkeys(label for label, _ in runs):
        cells = {s: median_of(runs[label, s], "deliveries_per_server_cpu_s") for s in servers}
        row = [label, *(f"{cells[s] / 1e6:.2f} M" for s in servers)]
        row += [f"{cells[s] / cells[REDIS]:.2f}x" if cells[REDIS] else "-" for s in gc]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("| workload | server | deliveries/s | server CPU s | p50 ms | p99 ms | lost | dup | generator CPU s |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for (label, server), results in runs.items():
        lines.append(
            f"| {label} | {server} | {median_of(results, 'delivered_per_s'):,.0f} "
            f"| {median_of(results, 'server_cpu_seconds'):.2f} | {median_of(results, 'latency_p50_ms'):.1f} "
            f"| {median_of(results, 'latency_p99_ms'):.1f} | {sum(r.lost for r in results)} "
            f"| {sum(r.duplicated for r in results)} | {median_of(results, 'generator_cpu_seconds'):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table."""
    args = _parser().parse_args(argv)
    if args.baseline and not (args.baseline / "chat_server").is_dir():
        _parser().error(f"--baseline {args.baseline}: no chat_server there")

    def emit(result: Result) -> None:
        if args.json:
            print(json.dumps(asdict(result)), flush=True)

    with RedisServer(persistence="none") as redis:
        runs = run_all(args, redis, emit)
    servers = [CURRENT, *([BASELINE] if args.baseline else []), REDIS]
    print(table(runs, servers), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
