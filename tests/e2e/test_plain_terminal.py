"""``chat-tui --plain`` on a real terminal (tmux): the typed line is edited with readline (arrow keys move
the cursor instead of typing ESC, ↑ recalls sent lines but never a password), a line that arrives while
one is being typed prints above it and leaves it intact, and the terminal's modes are back at exit."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.e2e.terminal import TIMEOUT, Tmux

pytestmark = pytest.mark.tmux

SESSION = "alice"


def _plain(host: str, port: int) -> str:
    """The plain client in a shell that prints its exit status and the terminal's modes afterwards."""
    client = shlex.join([sys.executable, "-m", "chat_tui", "--plain", "--host", host, "--port", str(port)])
    return f"TERM=xterm-256color {client}; echo exit=$?; stty -a | tr ' ' '\\n' | grep -x -e '-\\?icanon' -e '-\\?echo'"


def _enter(tmux: Tmux, line: str) -> None:
    tmux.type(SESSION, line)
    tmux.keys(SESSION, "Enter")


def _last_line(tmux: Tmux) -> str:
    return tmux.screen(SESSION).rstrip("\n").splitlines()[-1]


@pytest.fixture
def in_group(server_address: tuple[str, int], tmux: Tmux) -> str:
    """Alice's plain client on a terminal, in a new group; the group ID."""
    tmux.start(SESSION, _plain(*server_address))
    tmux.wait_for(SESSION, "3 - Exit")
    for line in ("2", "Alice", "Book club"):
        _enter(tmux, line)
    tmux.wait_for(SESSION, "password for the new chat:")
    _enter(tmux, "s3cret")
    return tmux.wait_for(SESSION, r"You have joined the chat with ID (\d+)\.").group(1)


def test_arrow_keys_edit_the_line_and_up_recalls_it_but_not_the_password(tmux: Tmux, in_group: str) -> None:
    tmux.type(SESSION, "hello wrld")
    tmux.keys(SESSION, "Left", "Left", "Left")
    _enter(tmux, "o")
    tmux.wait_for(SESSION, r"\nAlice: hello world\n")
    assert "Error" not in tmux.screen(SESSION)

    recalled = []
    for _ in range(4):  # history: 2, Alice, Book club, hello world (the password was kept out)
        tmux.keys(SESSION, "Up")
        recalled.append(_last_line(tmux))
    assert recalled == ["> hello world", "> Book club", "> Alice", "> 2"]


def test_a_line_arriving_while_typing_prints_above_the_partial_line(
    server_address: tuple[str, int], tmux: Tmux, in_group: str
) -> None:
    tmux.type(SESSION, "half typed")
    tmux.keys(SESSION, "Left", "Left", "Left", "Left", "Left")  # the cursor inside the line: "half |typed"
    bob = subprocess.Popen(
        [sys.executable, "-m", "chat_tui", "--plain", "--host", server_address[0], "--port", str(server_address[1])],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert bob.stdin is not None
        bob.stdin.write(f"1\nBob\n{in_group}\ns3cret\nincoming from bob\n")
        bob.stdin.flush()
        tmux.wait_for(SESSION, r"\nBob: incoming from bob\n> half typed\n*$")
        bob.stdin.close()
        bob.wait(TIMEOUT)
    finally:
        bob.kill()
    _enter(tmux, "and ")  # typed where the cursor was before the lines arrived
    tmux.wait_for(SESSION, r"\nAlice: half and typed\n")


def test_the_terminal_is_back_in_line_mode_after_exit_and_after_ctrl_c(tmux: Tmux, in_group: str) -> None:
    _enter(tmux, "qqq")
    tmux.wait_for(SESSION, "3 - Exit")
    _enter(tmux, "3")
    screen = tmux.wait_for(SESSION, r"exit=0\n(.*\n.*)").group(1)
    assert re.findall(r"-?\w+", screen) == ["icanon", "echo"]  # not "-icanon" / "-echo"


def test_ctrl_c_exits_with_130_and_the_terminal_is_back_in_line_mode(
    server_address: tuple[str, int], tmux: Tmux
) -> None:
    tmux.start(SESSION, _plain(*server_address))
    tmux.wait_for(SESSION, "3 - Exit")
    tmux.type(SESSION, "partly typed")
    tmux.keys(SESSION, "C-c")
    screen = tmux.wait_for(SESSION, r"exit=130\n(.*\n.*)").group(1)
    assert re.findall(r"-?\w+", screen) == ["icanon", "echo"]
