"""Several server processes over one Redis, beside one process on SQLite: the same workloads, the same
generator, repetitions interleaved (issue 12). See bench/RESULTS.md.

``python bench/scaleout.py`` (or ``python -m chat_server.bench.scaleout``) runs each workload on
three set-ups, each freshly spawned: one process on SQLite (``--sync normal``), one process on a
private redis-server, and ``--servers`` processes sharing one (senders on the first process,
listeners on the others, so every listener's message crosses processes). Redis runs with an
append-only file, ``appendfsync everysec`` by default: the promise of SQLite's ``--sync normal``
(an acknowledged message survives a crash of the process, not of the machine). It prints deliveries
per server CPU-second (the server processes summed), Redis's CPU beside them, and latency (between
processes, where there are several), as Markdown tables of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from chat_server.bench.compare import PACED_SECONDS, median_of
from chat_server.bench.groupchat_run import load_spawned
from chat_server.bench.redis_server import Persistence
from chat_server.bench.report import Result
from chat_server.bench.workload import Workload

WORKLOADS = (
    Workload(groups=1, members=50, senders=5, messages=20_000),
    Workload(groups=10, members=20, senders=2, messages=50_000),
    Workload(groups=1, members=500, senders=1, messages=2_000),
)


@dataclass(frozen=True, slots=True)
class Setup:
    """One way to deploy the server: its store and how many processes share it."""

    name: str
    store: str
    servers: int


def setups(servers: int) -> list[Setup]:
    """One process on SQLite, one on Redis, and ``servers`` on Redis."""
    return [
        Setup("1 process, SQLite", "sqlite", 1),
        Setup("1 process, Redis", "redis", 1),
        Setup(f"{servers} processes, Redis", "redis", servers),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scaleout", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--servers", type=int, default=2, help="server processes sharing Redis (default 2)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each run (default %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload's messages (default 1)")
    parser.add_argument("--only", type=int, action="append", help="run only workload N (1-3); repeatable")
    parser.add_argument(
        "--paced", type=float, default=0, metavar="DELIVERIES",
        help="offer every set-up the same load: pace each workload at this many deliveries/s for "
        f"{PACED_SECONDS:.0f} s (default: unpaced, each as fast as its windows allow)",
    )  # fmt: skip
    parser.add_argument("--redis-fsync", choices=["always", "everysec"], default="everysec")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="generator processes")
    parser.add_argument("--json", action="store_true", help="also print every run's figures as JSON lines")
    return parser


Runs = dict[tuple[str, str], list[Result]]


def _scaled(workload: Workload, scale: float) -> Workload:
    return replace(workload, messages=max(1, round(workload.messages * scale)))


def _paced(workload: Workload, deliveries: float, scale: float) -> Workload:
    """``workload`` at ``deliveries``/s for ``PACED_SECONDS`` (a message reaches every member but its sender)."""
    rate = deliveries / max(1, workload.members - 1)
    return replace(workload, rate=rate, messages=max(1, round(rate * PACED_SECONDS * scale)))


def run_all(args: argparse.Namespace, emit: Callable[[Result], None]) -> Runs:
    """Every run, repetitions interleaved (a busy moment of the machine hits every set-up alike)."""
    runs: Runs = defaultdict(list)
    fsync: Persistence = args.redis_fsync
    chosen = [w for n, w in enumerate(WORKLOADS, start=1) if not args.only or n in args.only]
    workloads = [_paced(w, args.paced, args.scale) if args.paced else _scaled(w, args.scale) for w in chosen]
    for rep in range(args.reps):
        for workload in workloads:
            for setup in setups(args.servers):
                print(f"rep {rep + 1}/{args.reps}: {setup.name}, {workload.label}", file=sys.stderr, flush=True)
                result = load_spawned(
                    workload, procs=args.procs, store=setup.store, servers=setup.servers, redis_fsync=fsync
                )
                runs[workload.label, setup.name].append(result)
                emit(result)
    return runs


# (heading, Result field, multiplier, decimals) of each column: the median over the repetitions, but
# the sum for losses and duplicates (one in any repetition must show).
Column = tuple[str, str, float, int]
COST: tuple[Column, ...] = (
    ("deliveries per server CPU-s (M)", "deliveries_per_server_cpu_s", 1e-6, 2),
    ("server CPU s", "server_cpu_seconds", 1, 2),
    ("redis CPU s", "redis_cpu_seconds", 1, 2),
    ("redis µs per message", "redis_us_per_message", 1, 1),
    ("deliveries per CPU-s, Redis included (M)", "deliveries_per_cpu_s_with_redis", 1e-6, 2),
    ("deliveries/s (wall)", "delivered_per_s", 1, 0),
)
SEEN: tuple[Column, ...] = (
    ("delivery p50 ms", "latency_p50_ms", 1, 1),
    ("p99 ms", "latency_p99_ms", 1, 1),
    ("cross-process p50 ms", "cross_latency_p50_ms", 1, 1),
    ("p99 ms", "cross_latency_p99_ms", 1, 1),
    ("lost", "lost", 1, 0),
    ("dup", "duplicated", 1, 0),
    ("generator CPU s", "generator_cpu_seconds", 1, 2),
)


def _cell(results: list[Result], column: Column) -> str:
    """The median of a column's figure, or "-" when no run could take it (no Redis, no second process)."""
    _, field, scale, digits = column
    if all(getattr(r, field) is None for r in results):
        return "-"
    if field in ("lost", "duplicated"):
        return str(sum(getattr(r, field) for r in results))
    return f"{median_of(results, field) * scale:,.{digits}f}"


def _table(runs: Runs, columns: tuple[Column, ...]) -> list[str]:
    head = ["workload", "set-up", *(c[0] for c in columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (label, setup), results in runs.items():
        lines.append("| " + " | ".join([label, setup, *(_cell(results, c) for c in columns)]) + " |")
    return lines


def table(runs: Runs) -> str:
    """Two Markdown tables of medians: what each set-up cost, and what its members saw."""
    return "\n".join([*_table(runs, COST), "", *_table(runs, SEEN)])


def main(argv: list[str] | None = None) -> int:
    """Run every set-up and print the tables."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.servers < 2:
        parser.error("--servers must be at least 2 (one process is already a set-up of its own)")

    def emit(result: Result) -> None:
        if args.json:
            print(json.dumps(asdict(result)), flush=True)

    try:
        runs = run_all(args, emit)
    except (RuntimeError, OSError) as exc:
        print(f"scaleout: {exc}", file=sys.stderr)
        return 1
    print(table(runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
