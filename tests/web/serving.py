"""Starting and stopping a real `chat-tui --web` for the web tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

TIMEOUT = 30.0
"""Seconds for one step: a cold Textual start in a fresh process behind a websocket takes a few."""


def free_port() -> int:
    """A loopback port the kernel just handed out (and that was closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def web_server(
    chat_address: tuple[str, int], log_dir: Path, *flags: str, env: Mapping[str, str] | None = None
) -> Iterator[int]:
    """`chat-tui --web` locked to ``chat_address``, listening on a free port, which it yields.

    Its own process group, killed whole afterwards: a tab's app process can outlive its websocket and
    ignore SIGTERM (notes/tui.md §3.4).
    """
    port = free_port()
    host, chat_port = chat_address
    command = [sys.executable, "-m", "chat_tui", "--web", "--host", host, "--port", str(chat_port)]
    command += ["--web-port", str(port), "--log-file", str(log_dir / "chat-tui.log"), *flags]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ if env is None else env),
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        _stop_group(process)


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chat-tui --web exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise TimeoutError(f"chat-tui --web never listened on {port}")


def _stop_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the web server's process group, then SIGKILL whatever is left of it (tab processes too)."""
    with suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(5)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)
