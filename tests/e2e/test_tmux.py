"""The real ``python -m chat_tui`` (Textual) in tmux: create a group in one terminal, join it in another
and see a message cross. Pilot and a real terminal disagree about focus, so this one test types real
keys (notes/tui.md)."""

from __future__ import annotations

import pytest

from tests.e2e.terminal import Tmux, connect

pytestmark = pytest.mark.tmux


def test_a_message_typed_in_one_terminal_shows_in_the_other(server_address: tuple[str, int], tmux: Tmux) -> None:
    connect(tmux, "alice", server_address)
    tmux.keys("alice", "c")
    tmux.wait_for("alice", "Create a group")
    tmux.type("alice", "Book club")
    tmux.keys("alice", "Tab")
    tmux.type("alice", "s3cret")
    tmux.keys("alice", "Tab")
    tmux.type("alice", "s3cret")
    tmux.keys("alice", "Enter")
    group_id = tmux.wait_for("alice", r"group ID (\d+)").group(1)

    connect(tmux, "bob", server_address)
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
