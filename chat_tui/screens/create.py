"""CreateDialog: group name and password (twice); dismisses with the server's GroupCreated."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Input, Label

from chat_tui.screens import form
from chat_tui.screens.dialog import Request, RequestDialog
from shared import Event, GroupCreated, fields


class CreateDialog(RequestDialog[GroupCreated]):
    """Create a group; the server makes us its first member and tells us its ID."""

    AUTO_FOCUS = "#group-name"
    TITLE_TEXT = "Create a group"
    SUBMIT_LABEL = "Create"
    REPLY: ClassVar[type[Event]] = GroupCreated

    def make_fields(self) -> ComposeResult:
        """Group name, password, password again."""
        yield Label("Group name")
        yield form.field(fields.group_name, id="group-name", placeholder="e.g. book club")
        yield Label("Password")
        yield form.field(fields.password, id="password", placeholder="group password", password=True)
        yield Label("Password again")
        yield form.field(fields.password, id="confirm", placeholder="the same password", password=True)

    def extra_problem(self) -> tuple[Input, str] | None:
        """The two passwords must match (only once the second one has been typed)."""
        confirm = self.query_one("#confirm", Input)
        if confirm.value and confirm.value != self.query_one("#password", Input).value:
            return confirm, "The passwords do not match."
        return None

    def make_request(self) -> Request:
        """Create a group with the entered name and password, under our name."""
        group_name = self.query_one("#group-name", Input).value
        password = self.query_one("#password", Input).value
        name = self.you
        return lambda session: session.create_group(group_name, password, name)
