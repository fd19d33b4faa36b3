"""JoinDialog: group ID and password; dismisses with the server's GroupJoined."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Button, Input, Label

from chat_tui.screens import form
from chat_tui.screens.dialog import Request, RequestDialog
from shared import Error, Event, GroupJoined, fields

CHAT_SCREEN_NAME = "group-{group_id}"
"""How the app installs a group's chat screen (chat_tui/app.py ``_screen_name``)."""


class JoinDialog(RequestDialog[GroupJoined]):
    """Join an existing group by its ID (the creator shares it) and password."""

    AUTO_FOCUS = "#group-id"
    TITLE_TEXT = "Join a group"
    SUBMIT_LABEL = "Join"
    REPLY: ClassVar[type[Event]] = GroupJoined

    def make_fields(self) -> ComposeResult:
        """Group ID, then password."""
        yield Label("Group ID")
        yield form.field(form.group_id, id="group-id", placeholder="the number the creator shared")
        yield Label("Password")
        yield form.field(fields.password, id="password", placeholder="group password", password=True)

    def make_request(self) -> Request:
        """Join the entered group with the password, under our name."""
        group_id = int(self.query_one("#group-id", Input).value)
        password = self.query_one("#password", Input).value
        name = self.you
        return lambda session: session.join_group(group_id, password, name)

    def refused(self, error: Error) -> bool:
        """``already_member``: we are in that group already, so open its chat instead of refusing."""
        if error.code != "already_member":
            return False
        group_id = int(self.query_one("#group-id", Input).value)
        name = CHAT_SCREEN_NAME.format(group_id=group_id)
        if not self.app.is_screen_installed(name):
            self.show_error(f"You are already in group {group_id}.")
            self.query_one("#submit", Button).disabled = False
            return True
        app = self.app
        self.dismiss(None)
        app.push_screen(name)
        return True
