"""Keys typed fast into the real client in tmux keep their order: a newline inside a paste stays where it
was typed, and a password manager's ``name Tab pw Tab pw Enter`` fills each field of a dialog.

Pilot hides both defects (it waits after every key); only a burst through a real terminal shows them.
"""

from __future__ import annotations

import pytest

from tests.e2e.terminal import Tmux, connect

pytestmark = pytest.mark.tmux


def test_dialog_fields_typed_in_one_burst_each_get_their_part(server_address: tuple[str, int], tmux: Tmux) -> None:
    connect(tmux, "alice", server_address)
    tmux.keys("alice", "c")
    tmux.wait_for("alice", "Create a group")
    tmux.burst("alice", "Book club", "Tab", "s3cret", "Tab", "s3cret", "Enter")
    group_id = tmux.wait_for("alice", r"group ID (\d+)").group(1)

    connect(tmux, "bob", server_address)
    tmux.keys("bob", "j")
    tmux.wait_for("bob", "Join a group")
    tmux.burst("bob", group_id, "Tab", "s3cret", "Enter")
    tmux.wait_for("bob", rf"You joined .*group ID {group_id}")


def test_a_newline_in_a_fast_paste_stays_where_it_was_typed(server_address: tuple[str, int], tmux: Tmux) -> None:
    connect(tmux, "alice", server_address)
    tmux.keys("alice", "c")
    tmux.wait_for("alice", "Create a group")
    for part in ("Book club", "Tab", "s3cret", "Tab", "s3cret", "Enter"):
        tmux.keys("alice", part)
    tmux.wait_for("alice", r"group ID \d+")

    tmux.paste("alice", "first line\nsecond line")
    tmux.wait_for("alice", r"│ first line +│\n│ second line +│")  # the composer, before sending
    tmux.keys("alice", "Enter")
    tmux.wait_for("alice", r"first line[^\n]*\n[ │]+second line")
