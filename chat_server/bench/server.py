"""The server under test: a ``python -m chat_server`` child on a free port, its flags, and its /proc figures."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from dataclasses import fields
from pathlib import Path

from chat_server.config import ServerConfig

_LISTENING = re.compile(rb"listening on ([\d.]+):(\d+)")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def server_flags(settings: dict[str, str]) -> list[str]:
    """``--flag value`` for each ServerConfig field named in ``settings``.

    Raises:
        ValueError: a name that is no setting (a limit renamed since would otherwise silently stay on
            and measure the wrong thing), or a value its kind refuses.
    """
    known = {field.name: field for field in fields(ServerConfig) if "kind" in field.metadata}
    flags = []
    for name, value in settings.items():
        if name not in known:
            raise ValueError(f"chat-server has no setting {name!r}")
        known[name].metadata["kind"].parse(value)
        flags += [f"--{name.replace('_', '-')}", value]
    return flags


# Throughput runs measure the message path, not the flood limits: a few clients send as fast as they can.
UNTHROTTLED = server_flags(
    {
        "message_burst": "1000000000",
        "message_rate": "1000000000",
        "request_burst": "1000000000",
        "request_rate": "1000000000",
    }
)


def start_server(*flags: str, root: Path | None = None) -> tuple[subprocess.Popen[bytes], str, int]:
    """A ``python -m chat_server`` child on a free port; its log goes to a drained pipe.

    ``root``: run the ``chat_server`` of another checkout (a baseline) instead of this one.
    """
    cmd = [sys.executable, "-m", "chat_server", "--port", "0", *flags]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env, cwd=root)
    assert proc.stderr is not None
    log = []
    for line in proc.stderr:
        if match := _LISTENING.search(line):
            stderr = proc.stderr
            threading.Thread(target=stderr.read, daemon=True).start()  # never let the log pipe fill up
            return proc, match.group(1).decode(), int(match.group(2))
        log.append(line.decode(errors="replace"))
    proc.wait()
    raise RuntimeError(f"the server did not start ({shlex.join(cmd)}):\n{''.join(log)}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    stat_fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 is stat_fields[0]
    return (int(stat_fields[11]) + int(stat_fields[12])) / _CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """User + system CPU seconds of each of the process's threads: ``main``, then ``thread-1``, ``thread-2``,
    ... in the order they started (Linux hands out increasing thread ids; Python does not name its
    threads for the OS). For the server: its store worker and bus listener first, then password hashers."""
    tids = sorted(int(task.name) for task in Path(f"/proc/{pid}/task").iterdir())
    labels = ["main", *(f"thread-{n}" for n in range(1, len(tids)))] if tids and tids[0] == pid else []
    return {label: _cpu(Path(f"/proc/{pid}/task/{tid}/stat")) for label, tid in zip(labels, tids, strict=False)}


def _cpu(stat_path: Path) -> float:
    with contextlib.suppress(OSError):
        stat = stat_path.read_text()
        stat_fields = stat[stat.rindex(")") + 2 :].split()
        return (int(stat_fields[11]) + int(stat_fields[12])) / _CLOCK_TICKS
    return 0.0  # a thread that ended between listing and reading


def rss_kib(pid: int) -> int:
    """The process's resident set size (VmRSS) in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


def load_flags(connections: int, groups: int = 1) -> list[str]:
    """Flags for a load run from one address: flood limits off (``UNTHROTTLED``), room for
    ``connections`` connections, as many set-up password hashes at once and ``groups`` new groups, and
    output caps far above
    what a generator that lags a little can leave queued (a run measures the message path, not the
    slow-consumer guard; a member the server cut off anyway is counted as ``closed``)."""
    room = str(connections + 16)
    return UNTHROTTLED + server_flags(
        {
            "max_connections_per_address": room,
            "connect_attempts": str(2 * connections + 16),
            "login_free_failures": room,
            "hashes_per_address_burst": room,
            "hashes_per_address_rate": "1000000",
            "max_pending_auth": room,
            "groups_per_address": str(groups + 16),
            "auth_workers": str(os.cpu_count() or 1),
            "output_hard_limit": str(256 * 1024 * 1024),
            "output_soft_limit": str(128 * 1024 * 1024),
        }
    )


def pid_listening_on(port: int) -> int | None:
    """The pid of our own process listening on TCP ``port`` (IPv4 or IPv6), from /proc; None if none."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # 0A: LISTEN
                    inodes.add(f"socket:[{cols[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
    return None
