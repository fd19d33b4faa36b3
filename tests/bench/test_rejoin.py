"""``chat-bench --rejoin``: the restart-and-rejoin flow is complete at a small N (speed is the bench's job)."""

from __future__ import annotations

import json
import subprocess
import sys

from chat_server.bench.rejoin import measure_rejoin


def test_every_member_is_readmitted_with_its_token_after_a_restart() -> None:
    figures = measure_rejoin(5, [])
    assert (figures["readmitted"], figures["refused"]) == (5, 0), figures["refusals"]
    assert figures["setup_password_hashes"] == 5


def test_chat_bench_prints_the_rejoin_figures_as_json() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server.bench", "--rejoin", "2"],
        capture_output=True,
        text=True,
        check=True,
        timeout=100,
    )
    figures = json.loads(run.stdout)
    assert figures["mode"] == "rejoin"
    assert (figures["members"], figures["readmitted"]) == (2, 2)
    assert {"readmit_seconds", "readmit_server_cpu_seconds", "join_p50_ms", "join_p99_ms"} <= figures.keys()
