"""HomeScreen: connected; join a group, create one, disconnect, or quit."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, OptionList
from textual.widgets.option_list import Option

from chat_tui import messages
from chat_tui.sanitize import sanitize_line
from chat_tui.screens.chat import ChatScreen
from chat_tui.screens.confirm import ConfirmDialog
from chat_tui.screens.create import CreateDialog
from chat_tui.screens.join import JoinDialog
from chat_tui.session import ChatSession
from chat_tui.widgets import ConnectionBanner
from shared import GroupCreated, GroupJoined


class HomeScreen(Screen[None]):
    """Four choices; ``j``, ``c``, ``d`` and ``q`` are their keys. Above them, the groups we are in.

    ``q`` and ``d`` ask first while groups are open (leaving them all is one slip otherwise).

    ``session`` is None only when the screen is shown without a network (snapshot tests); the dialogs
    then say "not connected" on submit. ``chats`` is the app's live map of open chats.
    """

    AUTO_FOCUS = "#join"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "join", "Join group", priority=True),
        Binding("c", "create", "Create group", priority=True),
        Binding("d", "disconnect", "Disconnect", priority=True),
        Binding("q", "quit", "Quit", priority=True),
    ]

    GroupEntered = messages.GroupEntered
    """A dialog succeeded: we are now a member of the group in ``reply``."""

    class DisconnectRequested(Message):
        """The user chose to disconnect: close the session, back to the connect screen."""

    class GroupChosen(Message):
        """The user picked one of the groups we are in: show its chat again."""

        def __init__(self, group_id: int) -> None:
            super().__init__()
            self.group_id = group_id

    def __init__(
        self, session: ChatSession | None, name: str, server: str, chats: dict[int, ChatScreen] | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.you = name
        self.server = server
        self._chats = chats if chats is not None else {}

    def compose(self) -> ComposeResult:
        """The connection banner, a greeting, the groups we are in and three buttons."""
        yield ConnectionBanner(id="banner")
        with Vertical(id="home-menu", classes="form"):
            yield Label(Content("groupchat"), classes="form-title")
            yield Label(
                Content.assemble("Connected to ", (self.server, "bold"), " as ", (sanitize_line(self.you), "bold"))
            )
            yield OptionList(id="groups")
            yield Button("Join group", id="join", variant="primary")
            yield Button("Create group", id="create")
            yield Button("Disconnect (change name)", id="disconnect")
            yield Button("Quit", id="quit", variant="error")
        yield Footer()

    def on_screen_resume(self) -> None:
        """Back from a chat (or a dialog): list the groups we are in now."""
        groups = self.query_one("#groups", OptionList)
        groups.clear_options()
        for group_id, chat in sorted(self._chats.items()):
            label = Content.assemble((sanitize_line(chat.group_name), "bold"), (f"  group ID {group_id}", "dim"))
            groups.add_option(Option(label, id=str(group_id)))
        groups.border_title = f"Your groups ({len(self._chats)}) · Enter opens"
        groups.set_class(bool(self._chats), "-visible")
        if self._chats:  # coming back from a chat: going back to one is the likely next step
            groups.highlighted = 0
            groups.focus()

    @on(OptionList.OptionSelected, "#groups")
    def _group_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(self.GroupChosen(int(event.option.id)))

    @on(Button.Pressed, "#join")
    def action_join(self) -> None:
        """Open the join dialog."""
        self.app.push_screen(JoinDialog(self.session, self.you), self._entered)

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        """Open the create dialog."""
        self.app.push_screen(CreateDialog(self.session, self.you), self._entered)

    @on(Button.Pressed, "#quit")
    def action_quit(self) -> None:
        """Quit; with groups open, only after the user confirms."""
        self._confirmed("Quit", self.app.exit)

    @on(Button.Pressed, "#disconnect")
    def action_disconnect(self) -> None:
        """Disconnect, back to the connect screen (to change the name); with groups open, after confirming."""
        self._confirmed("Disconnect", lambda: self.post_message(self.DisconnectRequested()))

    def _confirmed(self, verb: str, then: Callable[[], object]) -> None:
        if not self._chats:
            then()
            return
        count = len(self._chats)
        question = f"{verb}? You will leave the {count} group{'s' if count != 1 else ''} you have open."

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question, verb), answered)

    def _entered(self, reply: GroupJoined | GroupCreated | None) -> None:
        if reply is not None:
            self.post_message(self.GroupEntered(reply))
