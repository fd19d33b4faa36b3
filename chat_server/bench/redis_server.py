"""A private ``redis-server`` on a free loopback port: the one starter the benchmarks and the tests share.

Three persistence settings, each the configuration of a promise the README names ("What each store
promises"): ``none`` (pub/sub only: the comparison in ``bench/compare.py``), ``everysec`` (an
append-only file written before each reply and synced once a second: survives a crash of Redis, as
SQLite's ``--sync normal`` survives a crash of the server) and ``always`` (synced before each reply:
survives a power loss, as ``--sync full``; what the tests use).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

Persistence = Literal["none", "everysec", "always"]
REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT = 10.0  # seconds for a fresh redis-server to answer PING (it loads its append-only file first)
STOP_TIMEOUT = 10.0  # seconds for it to exit after SIGTERM before it is killed
# Pub/sub output a subscriber may leave queued before Redis cuts it off: as generous as the output
# caps ``chat-bench`` gives groupchat, so neither server cuts off a generator that lags a little.
PUBSUB_LIMIT = "256mb 128mb 60"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One ``redis-server`` child on 127.0.0.1, in ``directory`` (a temporary one if None).

    :meth:`kill` and :meth:`start` again keep its data (with persistence): the port and directory stay.
    ``with RedisServer() as redis:`` starts it and stops it (and removes a temporary directory).
    ``pubsub_limit``: ``--client-output-buffer-limit`` for subscribers (None: Redis's default).
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        persistence: Persistence = "always",
        pubsub_limit: str | None = PUBSUB_LIMIT,
        binary: str | None = None,
    ) -> None:
        path = shutil.which(binary) if binary else REDIS_SERVER
        if path is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="redis-")
            directory = Path(self._temporary.name)
        self.directory = directory
        self.binary, self.persistence, self.pubsub_limit = path, persistence, pubsub_limit
        self.host, self.port = "127.0.0.1", free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, as ``chat-server --store`` takes it."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int:
        """The running server's pid."""
        if self.process is None:
            raise RuntimeError("redis-server is not running")
        return self.process.pid

    def command(self) -> list[str]:
        """The command line :meth:`start` runs."""
        command = [self.binary, "--bind", self.host, "--port", str(self.port), "--dir", str(self.directory)]
        command += ["--save", "", "--daemonize", "no", "--logfile", str(self.directory / "redis.log")]
        if self.pubsub_limit is not None:
            command += ["--client-output-buffer-limit", f"pubsub {self.pubsub_limit}"]
        if self.persistence == "none":
            return [*command, "--appendonly", "no"]
        return [*command, "--appendonly", "yes", "--appendfsync", self.persistence]

    def start(self) -> None:
        """Start it and wait until it answers PING.

        Raises:
            RuntimeError: it exited or did not answer within ``START_TIMEOUT`` (its log's tail says why).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.process.returncode}: {self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server did not answer on port {self.port}: {self._log_tail()}")

    def kill(self) -> None:
        """SIGKILL: what a crash looks like; with persistence its file keeps every acknowledged write."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``STOP_TIMEOUT``."""
        self._end(signal.SIGTERM)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if self._temporary is not None:
            self._temporary.cleanup()

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _end(self, how: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _log_tail(self) -> str:
        log = self.directory / "redis.log"
        return log.read_text(errors="replace")[-500:] if log.exists() else "(no log)"
