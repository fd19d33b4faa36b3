"""``chat-tui-bench``: how fast the full-screen client is, as JSON on stdout.

Figures (every time with the CPU seconds it took beside it, as the machine may be shared):

- ``pane``: the message pane alone (:mod:`chat_tui.bench_pane`): append ``--messages`` messages,
  its memory, a resize at that size (the longest the event loop was blocked).
- ``app``: the real app against a real ``chat-server`` it spawns (:mod:`chat_tui.bench_app`):
  key-to-paint p50/p99 while messages arrive at each ``--rate``, the rate it sustains when the load
  posts at ``--sustain-rate``, whether the server cut it off as a slow consumer, and whether the app
  lost its link in another way (its own bounded queues overflowing count too).
- ``startup``: ``chat-tui --help`` and the first frame painted by a fresh process (median of ``--runs``).

Use small flags for a quick look (the test suite runs it with ``--messages 2000 --seconds 1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

_FIRST_PAINT = """
from chat_tui.app import ChatApp
app = ChatApp()
display = app._display
def first(screen, renderable):
    display(screen, renderable)
    if renderable is not None:
        print("painted", flush=True)
        app.exit()
app._display = first
app.run(headless=True)
"""
"""The real app in a fresh process, headless, leaving as soon as its first frame is painted."""


def _timed(command: list[str], *, until: str | None = None) -> tuple[float, float]:
    """Run ``command``; wall seconds (to the line ``until`` if given) and the child's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as child:
        assert child.stdout is not None
        wall = None
        for line in child.stdout:
            if until is not None and line.strip() == until and wall is None:
                wall = time.perf_counter() - start
        child.wait()
    wall = wall if wall is not None else time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_startup(runs: int) -> dict[str, Any]:
    """``chat-tui --help`` and the first paint of a fresh app, each the median of ``runs``."""
    script = Path(sys.executable).with_name("chat-tui")
    help_command = [str(script), "--help"] if script.exists() else [sys.executable, "-m", "chat_tui", "--help"]
    helps = [_timed(help_command) for _ in range(runs)]
    paints = [_timed([sys.executable, "-c", _FIRST_PAINT], until="painted") for _ in range(runs)]
    return {
        "help_wall_ms": round(median(wall for wall, _ in helps) * 1000, 1),
        "help_cpu_ms": round(median(cpu for _, cpu in helps) * 1000, 1),
        "first_paint_wall_s": round(median(wall for wall, _ in paints), 3),
        "first_paint_cpu_s": round(median(cpu for _, cpu in paints), 3),
        "runs": runs,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chat-tui-bench", description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=100_000, help="messages appended to the pane (%(default)s)")
    parser.add_argument("--batch", type=int, default=1000, help="messages per batch appended (%(default)s)")
    parser.add_argument(
        "--rate", type=float, action="append", help="incoming msg/s while typing (repeatable; default 1000 and 5000)"
    )
    parser.add_argument("--sustain-rate", type=float, default=10_000, help="load for the sustained run (%(default)s)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of load per run (%(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each startup figure (%(default)s)")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the app's chat is open (what the app could do after starting up)",
    )
    parser.add_argument(
        "--only", choices=["pane", "app", "startup"], action="append", help="measure only these (repeatable)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Measure, print one JSON object."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    args = build_parser().parse_args(argv)
    parts = set(args.only or ["pane", "app", "startup"])
    report: dict[str, Any] = {"python": sys.version.split()[0]}
    if "pane" in parts:
        from chat_tui.bench_pane import measure_pane  # noqa: PLC0415 - Textual only when measuring

        report["pane"] = asyncio.run(measure_pane(args.messages, batch=args.batch))
    if "app" in parts:
        from chat_tui.bench_app import measure_app  # noqa: PLC0415

        rates = args.rate or [1000.0, 5000.0]
        report["app"] = asyncio.run(measure_app(rates, args.seconds, args.sustain_rate, gc_freeze=args.gc_freeze))
    if "startup" in parts:
        report["startup"] = measure_startup(args.runs)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
