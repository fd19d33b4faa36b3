"""HomeScreen: connected; join a group, create one, or quit."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Label

from chat_tui.net import ServerLink
from chat_tui.sanitize import sanitize_line
from chat_tui.screens.create import CreateDialog
from chat_tui.screens.join import JoinDialog
from shared import GroupCreated, GroupJoined


class HomeScreen(Screen[None]):
    """Three choices; ``j``, ``c`` and ``q`` are their keys.

    ``link`` is None only when the screen is shown without a network (snapshot tests); the dialogs then
    say "not connected" on submit.
    """

    AUTO_FOCUS = "#join"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "join", "Join group"),
        Binding("c", "create", "Create group"),
        Binding("q", "app.quit", "Quit"),
    ]

    class GroupEntered(Message):
        """A dialog succeeded: we are now a member of the group in ``reply``."""

        def __init__(self, reply: GroupJoined | GroupCreated) -> None:
            super().__init__()
            self.reply = reply

    def __init__(self, link: ServerLink | None, name: str, server: str) -> None:
        super().__init__()
        self.link = link
        self.you = name
        self.server = server

    def compose(self) -> ComposeResult:
        """A greeting and three buttons."""
        with Vertical(id="home-menu", classes="form"):
            yield Label(Content("groupchat"), classes="form-title")
            yield Label(
                Content.assemble("Connected to ", (self.server, "bold"), " as ", (sanitize_line(self.you), "bold"))
            )
            yield Button("Join group", id="join", variant="primary")
            yield Button("Create group", id="create")
            yield Button("Quit", id="quit", variant="error")
        yield Footer()

    @on(Button.Pressed, "#join")
    def action_join(self) -> None:
        """Open the join dialog."""
        self.app.push_screen(JoinDialog(self.link, self.you), self._entered)

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        """Open the create dialog."""
        self.app.push_screen(CreateDialog(self.link, self.you), self._entered)

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit()

    def _entered(self, reply: GroupJoined | GroupCreated | None) -> None:
        if reply is not None:
            self.post_message(self.GroupEntered(reply))
