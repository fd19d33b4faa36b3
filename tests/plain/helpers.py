"""Drive real ``chat-tui --plain`` processes through pipes, and a raw peer that can send any frame."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import socket
import subprocess
import sys
import threading
from typing import Any

import msgpack

from shared import PROTOCOL_VERSION, Connection, Event, Hello, JoinGroup, Request, Role, Welcome
from shared.framing import frame

TIMEOUT = 15.0
"""Seconds to wait for one expected line; generous for a loaded CI machine, never hit when passing."""

MENU = [
    "Hello client, please choose an option:",
    " 1 - Connect to group chat",
    " 2 - Create a group chat",
    " 3 - Exit the server",
]
CREATE_PROMPTS = [
    "Please enter your name:",
    "Please enter the new chat's name:",
    "Please enter the password for the new chat:",
]
JOIN_PROMPTS = [
    "Please enter your name:",
    "Please enter the desired chat's ID:",
    "Please enter the password for the desired chat:",
]


def plain_command(host: str, port: int) -> list[str]:
    """The command line a user runs: ``python -m chat_tui --plain``."""
    return [sys.executable, "-m", "chat_tui", "--plain", "--host", host, "--port", str(port)]


class PlainProcess:
    """A ``--plain`` client subprocess; stdout lines are collected by a thread as they arrive."""

    def __init__(self, host: str, port: int, stdin: Any = subprocess.PIPE, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
        self.process = subprocess.Popen(
            plain_command(host, port), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self.raw = bytearray()  # every stdout byte, for the no-control-bytes checks
        self.lines: list[str] = []  # every line handed out by read_line, for failure messages
        self.stderr = bytearray()
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw_line in iter(self.process.stdout.readline, b""):
            self.raw += raw_line
            self._queue.put(raw_line)
        self._queue.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw_line in iter(self.process.stderr.readline, b""):
            self.stderr += raw_line

    def send(self, *lines: str) -> None:
        """Type ``lines`` into the client's stdin."""
        assert self.process.stdin is not None
        for line in lines:
            self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        """End the client's input (EOF)."""
        assert self.process.stdin is not None
        self.process.stdin.close()

    def read_line(self, timeout: float = TIMEOUT) -> str:
        """The next stdout line without its newline; fails after ``timeout`` or at end of output."""
        try:
            raw_line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; {self.describe()}") from None
        if raw_line is None:
            self._queue.put(None)  # keep reporting the end to later calls
            raise AssertionError(f"output ended; {self.describe()}")
        line = raw_line.decode("utf-8").removesuffix("\n")
        self.lines.append(line)
        return line

    def read_until(self, pattern: str, timeout: float = TIMEOUT) -> list[str]:
        """Lines up to and including the first that fully matches the regex ``pattern``."""
        seen: list[str] = []
        while True:
            seen.append(self.read_line(timeout))
            if re.fullmatch(pattern, seen[-1]):
                return seen

    def expect(self, *lines: str) -> None:
        """The next stdout lines are exactly ``lines``."""
        got = [self.read_line() for _ in lines]
        assert got == list(lines), self.describe()

    def expect_end(self, timeout: float = TIMEOUT) -> int:
        """Stdout ends with no further line and stderr holds no traceback; return the exit status."""
        raw_line = self._queue.get(timeout=timeout)
        assert raw_line is None, f"unexpected line {raw_line!r}; {self.describe()}"
        self._queue.put(None)
        status = self.process.wait(timeout)
        for thread in self._threads:
            thread.join(timeout)
        assert b"Traceback" not in self.stderr, self.describe()
        return status

    def describe(self) -> str:
        """Everything read so far and stderr, for assertion messages."""
        return f"stdout so far: {self.lines!r}; stderr: {bytes(self.stderr).decode(errors='replace')!r}"

    def kill(self) -> None:
        """Stop the process if it is still running."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def create_group(client: PlainProcess, name: str, group_name: str, password: str) -> int:
    """Walk ``client`` from the menu through option 2; return the new group's id."""
    client.send("2", name, group_name, password)
    lines = client.read_until(r"You have joined the chat with ID \d+\.")
    group_id = int(lines[-1].removeprefix("You have joined the chat with ID ").removesuffix("."))
    assert lines[-2:] == [f"Created the chat with ID {group_id}.", lines[-1]], client.describe()
    return group_id


def join_group(client: PlainProcess, name: str, group_id: int, password: str) -> None:
    """Walk ``client`` from the menu through option 1 into ``group_id``."""
    client.send("1", name, str(group_id), password)
    client.read_until(re.escape(f"You have joined the chat with ID {group_id}."))


class RawPeer:
    """A blocking socket client that can also send frames our own clients would never build."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.conn = Connection(Role.CLIENT)
        self._next_id = 1
        self._received: list[Event] = []
        assert isinstance(self.request(lambda rid: Hello(rid, PROTOCOL_VERSION)), Welcome)

    def request(self, make: Any) -> Event:
        """Send the request ``make(request_id)`` and return the frame answering it."""
        request: Request = make(self._next_id)
        self._next_id += 1
        self.sock.sendall(self.conn.send(request))
        while True:
            event = self.next_event()
            if getattr(event, "request_id", None) == request.request_id:
                return event

    def join(self, group_id: int, password: str, name: str) -> Event:
        """Join ``group_id``; returns the reply."""
        return self.request(lambda rid: JoinGroup(rid, group_id, password, name))

    def send_raw(self, wire: dict[str, Any]) -> None:
        """Send ``wire`` as one frame, bypassing every client-side check."""
        self.sock.sendall(frame(msgpack.packb(wire, use_bin_type=True)))

    def next_event(self) -> Event:
        """The next frame from the server; fails at end of stream."""
        while not self._received:
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            self._received.extend(self.conn.receive_data(data))
        return self._received.pop(0)

    def read_until_closed(self) -> None:
        """Discard frames until the server closes the connection (a reset counts: it closed with
        our later frames unread)."""
        with contextlib.suppress(ConnectionResetError):
            while self.sock.recv(65536):
                pass

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
