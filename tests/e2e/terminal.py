"""A private tmux server for the end-to-end tests: run the real programs in a real terminal, type real
keys (paced, or in one burst as a password manager or a paste does) and read the screen."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid

TIMEOUT = 30.0
"""Seconds to wait for one screen state; a cold Textual start on a slow machine takes a few."""
KEY_PAUSE = 0.3
"""Between paced groups of keys: tmux delivers keys faster than a just-opened modal takes focus, and a
key sent in that gap goes to the screen beneath (notes/tui.md §3.3)."""
SIZE = (100, 30)
"""Columns and rows of a new session unless a test asks for another size."""


class Tmux:
    """A private tmux server (its own socket, no user config) holding one session per client."""

    def __init__(self) -> None:
        self.socket = f"groupchat-test-{uuid.uuid4().hex[:12]}"

    def _tmux(self, *args: str) -> str:
        command = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=TIMEOUT).stdout

    def start(self, session: str, command: str, size: tuple[int, int] = SIZE) -> None:
        """Run ``command`` in a new session of ``size``; keep the pane after exit to show any traceback."""
        width, height = size
        # The pane's shell may export COLUMNS/LINES, which Textual (through shutil.get_terminal_size)
        # prefers to the terminal's real size, even after a resize: unset them. And the pane can start
        # at tmux's default 80x24 and take the asked size an instant later: wait for it.
        settled = f'unset COLUMNS LINES; while [ "$(stty size)" != "{height} {width}" ]; do sleep 0.05; done; {command}'
        self._tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), settled)
        self._tmux("set-option", "-t", session, "remain-on-exit", "on")

    def keys(self, session: str, *keys: str) -> None:
        """Send key names such as ``Enter`` or ``Tab``, then pause."""
        self._tmux("send-keys", "-t", session, *keys)
        time.sleep(KEY_PAUSE)

    def type(self, session: str, text: str) -> None:
        """Type ``text`` literally, then pause."""
        self._tmux("send-keys", "-t", session, "-l", text)
        time.sleep(KEY_PAUSE)

    def burst(self, session: str, *keys: str) -> None:
        """Send keys in ONE tmux command with no pause: text and key names (``Tab``) mixed, arriving as
        fast as a password manager types them. A literal part goes with ``-l``-free send-keys, so only
        pass words tmux does not take for key names."""
        self._tmux("send-keys", "-t", session, *keys)

    def paste(self, session: str, text: str) -> None:
        """Type ``text`` literally in one go, with no pause (``send-keys -l``: a newline is sent as LF)."""
        self._tmux("send-keys", "-t", session, "-l", text)

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
                size = self._tmux("display-message", "-p", "-t", session, "#{window_width}x#{window_height}").strip()
                raise AssertionError(f"{pattern!r} not on {session}'s {size} screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        """Stop the private server and every client in it."""
        # check=False: the server is already gone when every session ended on its own.
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True, timeout=TIMEOUT)


def client_command(host: str, port: int, *flags: str) -> str:
    """The shell command running the real ``python -m chat_tui`` against ``host:port`` with ``flags``."""
    app = shlex.join([sys.executable, "-m", "chat_tui", "--host", host, "--port", str(port), *flags])
    return f"TERM=xterm-256color TEXTUAL_ANIMATIONS=none {app}"


def connect(tmux: Tmux, session: str, address: tuple[str, int], size: tuple[int, int] = SIZE) -> None:
    """Start the full-screen client named after ``session`` and connect it (all flags given: Connect
    has the focus)."""
    tmux.start(session, client_command(*address, "--name", session.capitalize()), size)
    tmux.wait_for(session, "Connect to a groupchat server")
    tmux.keys(session, "Enter")
    tmux.wait_for(session, "Connected to")
