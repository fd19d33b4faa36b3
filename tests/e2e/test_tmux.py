"""The real ``python -m chat_tui`` (Textual) in tmux: create a group in one terminal, join it in another
and see a message cross. Pilot and a real terminal disagree about focus, so this one test types real
keys (notes/tui.md)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

TIMEOUT = 30.0
"""Seconds to wait for one screen state; a cold Textual start on a slow machine takes a few."""
KEY_PAUSE = 0.3
"""Between groups of keys: tmux delivers keys faster than a just-opened modal takes focus, and a Tab
sent in that gap is lost."""

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """A private tmux server (its own socket, no user config) holding one session per client."""

    def __init__(self) -> None:
        self.socket = f"groupchat-test-{uuid.uuid4().hex[:12]}"

    def _tmux(self, *args: str) -> str:
        command = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=TIMEOUT).stdout

    def start(self, session: str, command: str) -> None:
        """Run ``command`` in a new 100x30 session; keep the pane after exit to show any traceback."""
        self._tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
        self._tmux("set-option", "-t", session, "remain-on-exit", "on")

    def keys(self, session: str, *keys: str) -> None:
        """Send key names such as ``Enter`` or ``Tab``."""
        self._tmux("send-keys", "-t", session, *keys)
        time.sleep(KEY_PAUSE)

    def type(self, session: str, text: str) -> None:
        """Type ``text`` literally."""
        self._tmux("send-keys", "-t", session, "-l", text)
        time.sleep(KEY_PAUSE)

    def screen(self, session: str) -> str:
        """What the pane shows now."""
        return self._tmux("capture-pane", "-p", "-t", session)

    def wait_for(self, session: str, pattern: str) -> re.Match[str]:
        """Poll the pane until ``pattern`` matches; fail with the last screen after TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            screen = self.screen(session)
            if match := re.search(pattern, screen):
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on {session}'s screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        """Stop the private server and every client in it."""
        # check=False: the server is already gone when every session ended on its own.
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True, timeout=TIMEOUT)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server, killed after the test whatever happened."""
    server = Tmux()
    try:
        yield server
    finally:
        server.kill()


def _client_command(host: str, port: int, name: str) -> str:
    app = shlex.join([sys.executable, "-m", "chat_tui", "--host", host, "--port", str(port), "--name", name])
    return f"TERM=xterm-256color TEXTUAL_ANIMATIONS=none {app}"


def _connect(tmux: Tmux, session: str, address: tuple[str, int]) -> None:
    tmux.start(session, _client_command(*address, session.capitalize()))
    tmux.wait_for(session, "Connect to a groupchat server")
    tmux.keys(session, "Enter")  # all flags given: the Connect button has focus
    tmux.wait_for(session, "Connected to")


def test_a_message_typed_in_one_terminal_shows_in_the_other(server_address: tuple[str, int], tmux: Tmux) -> None:
    _connect(tmux, "alice", server_address)
    tmux.keys("alice", "c")
    tmux.wait_for("alice", "Create a group")
    tmux.type("alice", "Book club")
    tmux.keys("alice", "Tab")
    tmux.type("alice", "s3cret")
    tmux.keys("alice", "Tab")
    tmux.type("alice", "s3cret")
    tmux.keys("alice", "Enter")
    group_id = tmux.wait_for("alice", r"group ID (\d+)").group(1)

    _connect(tmux, "bob", server_address)
    tmux.keys("bob", "j")
    tmux.wait_for("bob", "Join a group")
    tmux.type("bob", group_id)
    tmux.keys("bob", "Tab")
    tmux.type("bob", "s3cret")
    tmux.keys("bob", "Enter")
    tmux.wait_for("bob", rf"You joined .*group ID {group_id}")
    tmux.wait_for("alice", "Bob has joined the chat!")

    tmux.type("bob", "hello from bob")
    tmux.keys("bob", "Enter")
    tmux.wait_for("alice", "hello from bob")

    tmux.type("alice", "hi bob")
    tmux.keys("alice", "Enter")
    tmux.wait_for("bob", "hi bob")
