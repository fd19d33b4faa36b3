"""Fixtures shared by every test folder: real servers on ephemeral loopback ports."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from tests.client.scripted_server import ScriptedServer

# "listening on 127.0.0.1:7030" or, for an IPv6 address, "listening on [::]:7030".
_LISTENING = re.compile(r"listening on (?:\[([0-9A-Fa-f:.]+)\]|([\d.]+)):(\d+)")


@dataclass
class ServerProcess:
    """A real ``python -m chat_server`` child process on 127.0.0.1 and a free port."""

    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    host: str = "127.0.0.1"
    port: int = 0
    log: list[str] = field(default_factory=list)

    def start(self, timeout: float = 15.0, *, max_open_files: int | None = None) -> tuple[str, int]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "chat_server", "--host", self.host, "--port", str(self.port), *self.args]

        self.process = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)
        if max_open_files is not None:  # set from outside (Linux prlimit): no preexec_fn in a threaded test run
            resource.prlimit(self.process.pid, resource.RLIMIT_NOFILE, (max_open_files, max_open_files))
        ready = threading.Event()
        self._pump_thread = threading.Thread(target=self._pump, args=(ready,), daemon=True)
        self._pump_thread.start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        return self.host, self.port

    def _pump(self, ready: threading.Event) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if match := _LISTENING.search(line):
                self.host, self.port = match.group(1) or match.group(2), int(match.group(3))
                ready.set()

    def stop(self, sig: int | None = None, timeout: float = 15.0) -> int:
        """Stop with ``sig`` (SIGTERM by default) and return the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self._pump_thread.join(5)  # the last log lines are in self.log once stop() returns
        return status

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def log_text(self) -> str:
        return "".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the server has logged a line containing ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} never logged:\n{self.log_text()}")
            time.sleep(0.02)


def sqlite_url(path: Path) -> str:
    """The ``--store`` URL of an SQLite file at an absolute ``path``."""
    return f"sqlite:///{path.resolve()}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A started server process with a fresh SQLite file; stopped (SIGTERM, then SIGKILL) after the test."""
    proc = ServerProcess(["--store", sqlite_url(tmp_path / "chat.db")])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


# For tests about something other than floods: many connections from 127.0.0.1, messages at full speed.
LOAD_FLAGS = [
    "--max-connections-per-address", "1000",
    "--connect-attempts", "100000",
    "--message-burst", "1000000",
    "--message-rate", "1000000",
]  # fmt: skip


@pytest.fixture
def loaded_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Like ``server`` but with the flood limits lifted (LOAD_FLAGS)."""
    # Its own file: a test may use both fixtures, and a store serves one server process at a time.
    proc = ServerProcess(["--store", sqlite_url(tmp_path / "chat-loaded.db"), *LOAD_FLAGS])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def server_address(server: ServerProcess) -> tuple[str, int]:
    """``(host, port)`` of a fresh real server on a free loopback port."""
    return server.address


class Starter(Protocol):
    def __call__(self, *flags: str) -> ServerProcess: ...


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Starter]:
    """Start a server with extra flags (each on its own SQLite file); all are stopped after the test."""
    started: list[ServerProcess] = []

    def run(*flags: str) -> ServerProcess:
        proc = ServerProcess(["--store", sqlite_url(tmp_path / f"chat{len(started)}.db"), *flags])
        proc.start()
        started.append(proc)
        return proc

    yield run
    for proc in started:
        proc.stop()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    """A scripted peer on 127.0.0.1:0 playing the server's side, for what a real server never sends."""
    server = await ScriptedServer().start()
    yield server
    await server.close()


@pytest.fixture(autouse=True, scope="session")
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Log files and default stores of every client and server the tests start (in-process or as
    children, which inherit the environment) go under a temporary folder, never the user's own."""
    root = tmp_path_factory.mktemp("user-dirs")
    saved = {name: os.environ.get(name) for name in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")}
    for name in saved:
        os.environ[name] = str(root / name.lower())
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
