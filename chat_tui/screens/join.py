"""JoinDialog: group ID and password; dismisses with the server's GroupJoined."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Input, Label

from chat_tui.screens import form
from chat_tui.screens.dialog import Request, RequestDialog
from shared import Event, GroupJoined, fields


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
