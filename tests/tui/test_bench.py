"""chat-tui-bench on a small workload: every figure is there (its speed is the benchmark's business)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PANE = {
    "messages",
    "append_cpu_s",
    "append_wall_s",
    "append_longest_stall_ms",
    "append_gc_total_ms",
    "append_gc_longest_ms",
    "resize_gc_total_ms",
    "resize_gc_longest_ms",
    "pane_memory_mib",
    "entries_memory_mib",
    "resize_blocked_ms",
    "resize_cpu_ms",
}
RUN = {
    "rate",
    "sent",
    "all_shown",
    "app_warnings",
    "shown_when_load_ended",
    "shown_per_s",
    "keys",
    "keys_painted",
    "key_to_paint_p50_ms",
    "key_to_paint_p99_ms",
    "key_to_paint_max_ms",
    "frames",
    "gc_total_ms",
    "gc_longest_ms",
    "app_cpu_s",
    "wall_s",
}
STARTUP = {"help_wall_ms", "help_cpu_ms", "first_paint_wall_s", "first_paint_cpu_s", "runs"}


def test_a_small_run_prints_every_figure(tmp_path: object) -> None:
    flags = ["--messages", "2000", "--batch", "100", "--rate", "200", "--seconds", "1.5", "--sustain-rate", "400"]
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    done = subprocess.run(
        [sys.executable, "-m", "chat_tui.bench", *flags, "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["pane"]) == PANE
    assert report["pane"]["messages"] == 2000
    runs = report["app"]["key_to_paint"]
    assert [run["rate"] for run in runs] == [200.0]
    for run in [*runs, report["app"]["sustained"]]:
        assert set(run) == RUN
        assert run["all_shown"] is True  # every message the load sent reached the pane
        assert run["sent"] > 0
        assert run["keys_painted"] == run["keys"] > 0  # every key typed was painted
    assert report["app"]["cut_off_by_server"] is False
    assert report["app"]["link_lost"] is False
    assert report["app"]["gc_frozen_after_start"] is False
    assert set(report["startup"]) == STARTUP
