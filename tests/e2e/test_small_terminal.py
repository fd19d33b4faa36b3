"""The real client in a 60x18 tmux window: the connect form and the create dialog show every field and
button, and a group can be created there with the keyboard alone."""

from __future__ import annotations

import pytest

from tests.e2e.terminal import Tmux, client_command

pytestmark = pytest.mark.tmux

SMALL = (60, 18)


def test_forms_fit_and_work_in_a_60x18_terminal(server_address: tuple[str, int], tmux: Tmux) -> None:
    tmux.start("alice", client_command(*server_address, "--name", "Alice"), SMALL)
    screen = tmux.wait_for("alice", r"(?s)Connect to a groupchat server.*").group(0)
    for shown in ("Host", "127.0.0.1", "Port", "Your name", "Alice", " Connect "):
        assert shown in screen
    tmux.keys("alice", "Enter")
    tmux.wait_for("alice", "Create group")  # the home screen (its status line may be scrolled away)
    tmux.keys("alice", "c")
    screen = tmux.wait_for("alice", r"(?s)Create a group.*").group(0)
    for shown in ("Group name", "Password again", "Create ", "Cancel"):
        assert shown in screen
    tmux.burst("alice", "Book club", "Tab", "s3cret", "Tab", "s3cret", "Enter")
    tmux.wait_for("alice", r"group ID \d+")
