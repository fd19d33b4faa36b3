"""``chat-bench``: load a real ``chat-server`` over loopback and print what it delivered and what it cost.

By default it spawns a fresh ``python -m chat_server`` on a free port (SQLite store in a temporary
directory, flood limits off), joins ``--groups`` groups of ``--members`` members, of whom ``--senders``
per group send ``--messages`` messages in all, each keeping ``--window`` unacknowledged, from
``--procs`` generator processes. Every member checks what it receives: lost, duplicated, delivery
latency. The server's CPU-seconds and memory come from /proc. ``--servers N --store redis`` spawns N
processes sharing a private redis-server and reports cross-process latency and Redis's CPU beside
theirs. Other modes: ``--storm``, ``--rejoin``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from chat_server.bench.groupchat_run import load_running, load_spawned
from chat_server.bench.report import Result, summary
from chat_server.bench.workload import Workload


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chat-bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_argument_group("server")
    where.add_argument("--host", default="127.0.0.1", help="server address (default %(default)s)")
    where.add_argument("--port", type=int, default=0, help="load a running server on this port instead of spawning")
    where.add_argument("--spawn", action="store_true", help="spawn a server (the default without --port)")
    where.add_argument(
        "--store", type=_store, default="sqlite", metavar="STORE",
        help="spawned servers' store: sqlite (default), memory, redis (a private redis-server for the run) "
        "or redis://HOST:PORT/DB (one already running)",
    )  # fmt: skip
    where.add_argument(
        "--servers", type=int, default=1, metavar="N",
        help="spawn N server processes sharing one Redis store; senders on the first, listeners on the "
        "others, so every listener's message crosses processes (default 1)",
    )  # fmt: skip
    where.add_argument(
        "--redis-fsync", choices=["always", "everysec"], default="everysec",
        help="the private redis-server's appendfsync (--store redis; default %(default)s, the promise of "
        "SQLite's --sync normal)",
    )  # fmt: skip
    where.add_argument("--sync", choices=["normal", "full"], default="normal", help="spawned SQLite's --sync")
    where.add_argument("--server-root", type=Path, help="spawn the chat_server of this checkout (a baseline)")
    where.add_argument("--server-args", default="", help="extra chat-server flags, e.g. '--auth-workers 1'")
    load = parser.add_argument_group("load")
    load.add_argument("--groups", type=int, default=1, help="groups with traffic (default %(default)s)")
    load.add_argument("--members", type=int, default=50, help="members per group (default %(default)s)")
    load.add_argument("--senders", type=int, default=5, help="senders per group (default %(default)s)")
    load.add_argument("--messages", type=int, default=20_000, help="messages in total (default %(default)s)")
    load.add_argument("--size", type=int, default=64, help="characters per message (default %(default)s)")
    load.add_argument("--window", type=int, default=50, help="unacknowledged messages per sender (default 50)")
    load.add_argument("--rate", type=float, default=0, help="messages/s in all, paced (default 0: unpaced)")
    load.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="generator processes (default: cores)")
    load.add_argument("--idle", type=int, default=0, metavar="N", help="also hold N idle joined connections")
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON line")
    modes = parser.add_argument_group("other modes")
    modes.add_argument("--storm", action="store_true", help="good clients' latency during hostile storms")
    modes.add_argument("--seconds", type=float, default=5.0, help="length of each --storm phase (default 5)")
    modes.add_argument(
        "--rejoin", type=int, nargs="?", const=500, default=0, metavar="N",
        help="time N members (default 500) rejoining with resume tokens after a server restart",
    )  # fmt: skip
    return parser


def _store(value: str) -> str:
    if value in ("sqlite", "memory", "redis") or value.startswith("redis://"):
        return value
    raise argparse.ArgumentTypeError(f"{value!r}: use sqlite, memory, redis or redis://HOST:PORT/DB")


def _check_servers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.servers < 1:
        parser.error("--servers must be at least 1")
    if args.servers > 1 and not args.store.startswith("redis"):
        parser.error(f"--servers {args.servers} needs a store they share: --store redis or redis://HOST:PORT/DB")
    if args.servers > 1 and args.port:
        parser.error("--servers spawns its processes on free ports: leave out --port")


def _workload(args: argparse.Namespace) -> Workload:
    return Workload(args.groups, args.members, args.senders, args.messages, args.size, args.window, args.rate)


def main(argv: list[str] | None = None) -> int:
    """The ``chat-bench`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rejoin:
        from chat_server.bench.rejoin import run_rejoin  # noqa: PLC0415 - only this mode needs it

        return run_rejoin(args.rejoin, shlex.split(args.server_args))
    if args.storm:
        from chat_server.bench.storm import run_storms  # noqa: PLC0415 - only this mode needs it

        return run_storms(args.seconds, shlex.split(args.server_args))
    try:
        workload = _workload(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.procs < 1:
        parser.error("--procs must be at least 1")
    _check_servers(parser, args)
    try:
        result = _run(args, workload)
    except (RuntimeError, OSError) as exc:  # the server refused or went away: say so, no traceback
        print(f"chat-bench: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(result)) if args.json else summary(result), flush=True)
    return 0


def _run(args: argparse.Namespace, workload: Workload) -> Result:
    if args.port and not args.spawn:
        return load_running([(args.host, args.port)], workload, procs=args.procs, idle=args.idle)
    return load_spawned(
        workload, procs=args.procs, idle=args.idle, store=args.store, sync=args.sync,
        server_args=shlex.split(args.server_args), port=args.port, root=args.server_root,
        servers=args.servers, redis_fsync=args.redis_fsync,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
