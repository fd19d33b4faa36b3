"""Two real ``chat-tui`` processes in tmux: two groups side by side, a multi-line message, an unread
count and a mention marker in the group list, switching groups with a key (issue 10)."""

from __future__ import annotations

import pytest

from tests.e2e.terminal import Tmux, connect

pytestmark = pytest.mark.tmux


def create(tmux: Tmux, session: str, name: str) -> str:
    tmux.keys(session, "c")
    tmux.wait_for(session, "Create a group")
    tmux.type(session, name)
    for _ in range(2):
        tmux.keys(session, "Tab")
        tmux.type(session, "s3cret")
    tmux.keys(session, "Enter")
    return tmux.wait_for(session, rf"You created “{name}”. Its group ID is (\d+)").group(1)


def test_unread_and_mention_in_the_group_list_then_switch(server_address: tuple[str, int], tmux: Tmux) -> None:
    connect(tmux, "alice", server_address)
    club = create(tmux, "alice", "Book club")
    tmux.keys("alice", "Escape")
    tmux.wait_for("alice", "Your groups")
    create(tmux, "alice", "Garden")
    tmux.wait_for("alice", r"1 Book club\s.*\n.*2 Garden")

    connect(tmux, "bob", server_address)
    tmux.keys("bob", "j")
    tmux.wait_for("bob", "Join a group")
    tmux.type("bob", club)
    tmux.keys("bob", "Tab")
    tmux.type("bob", "s3cret")
    tmux.keys("bob", "Enter")
    tmux.wait_for("bob", rf"You joined .*group ID {club}")

    tmux.type("bob", "line one")
    tmux.keys("bob", "C-j")
    tmux.type("bob", "line two")
    tmux.keys("bob", "Enter")
    tmux.wait_for("alice", r"1 Book club 1\b")
    tmux.type("bob", "Alice: lunch?")
    tmux.keys("bob", "Enter")
    tmux.wait_for("alice", r"1 Book club 2 @")

    tmux.keys("alice", "C-p")  # the previous group: Book club, which is read on sight
    tmux.wait_for("alice", r"Bob: line one[ │]*\n[ │]*line two")  # one message, two rows
    tmux.wait_for("alice", "Bob: Alice: lunch?")
    tmux.wait_for("alice", r"1 Book club\s+│")
