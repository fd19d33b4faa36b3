"""ChatScreen: one group's scrollback, members and composer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from chat_tui.net import LinkError, RequestRefused, ServerLink
from chat_tui.sanitize import sanitize_line
from chat_tui.widgets import Composer, MemberList, MessagePane
from shared import (
    Event,
    InvalidField,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessageAccepted,
    MessagePosted,
    SendMessage,
    ServerClosing,
    fields,
)

LEAVE_COMMANDS = frozenset({"qqq", "/leave"})
"""Lines that leave the group instead of being sent."""


class ChatScreen(Screen[None]):
    """Chat in group ``group_id``; dismissed (back to home) when we leave."""

    AUTO_FOCUS = "#composer"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+l", "leave", "Leave group (or type qqq)")]

    def __init__(
        self,
        link: ServerLink | None,
        you: str,
        group_id: int,
        group_name: str,
        members: Iterable[str],
        *,
        created: bool = False,
        clock: Callable[[], float],
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.link = link
        self.you = you
        self.group_id = group_id
        self.group_name = group_name
        self._members = tuple(members) or (you,)
        self._created = created
        self._clock = clock
        self._tz = tz
        self._backlog: list[Event] = []  # events routed here before the screen was mounted

    def compose(self) -> ComposeResult:
        """Title bar, messages beside members, composer, footer."""
        yield Static(self._title(), id="chat-title")
        with Horizontal(id="chat-body"):
            yield MessagePane(id="messages")
            yield MemberList(self.you, id="members")
        yield Composer(id="composer", placeholder="Message (Enter sends; qqq or /leave leaves)")
        yield Footer()

    def _title(self) -> Content:
        return Content.assemble(
            (sanitize_line(self.group_name), "bold"),
            ("  ·  group ID ", "dim"),
            (str(self.group_id), "bold $accent"),
            ("  ·  you are ", "dim"),
            (sanitize_line(self.you), "bold"),
        )

    def on_mount(self) -> None:
        """Fill the member list and say where we are."""
        self.query_one(MemberList).set_members(self._members)
        name = sanitize_line(self.group_name)
        if self._created:
            self._notice(
                f"You created “{name}”. Its group ID is {self.group_id}: share it and the password so others can join."
            )
        else:
            self._notice(f"You joined “{name}” (group ID {self.group_id}).")
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            self._show(event)

    @property
    def pane(self) -> MessagePane:
        """The scrollback."""
        return self.query_one(MessagePane)

    def _time(self, seconds: float) -> str:
        try:
            return datetime.fromtimestamp(seconds, self._tz).strftime("%H:%M")
        except (OverflowError, OSError, ValueError):  # a server's ts may lie anywhere in 0..2**53 ms
            return "--:--"

    def _notice(self, text: str, *, error: bool = False) -> None:
        self.pane.add_notice(self._time(self._clock()), text, error=error)

    def apply(self, event: Event) -> None:
        """Show a server notification about this group (the app routes them by group_id)."""
        if self.is_mounted:
            self._show(event)
        else:  # is_mounted turns true only after on_mount, which shows the backlog
            self._backlog.append(event)

    def _show(self, event: Event) -> None:
        members = self.query_one(MemberList)
        if isinstance(event, MessagePosted):
            self.pane.add_message(self._time(event.ts / 1000), event.sender, event.text)
        elif isinstance(event, MemberJoined):
            members.add(event.name)
            self._notice(f"{event.name} has joined the chat!")
        elif isinstance(event, MemberLeft):
            members.discard(event.name)
            self._notice(f"{event.name} has left the chat!")
        elif isinstance(event, ServerClosing):
            self._notice(f"The server is shutting down: {event.reason}", error=True)

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        if event.text.strip() in LEAVE_COMMANDS:
            self.action_leave()
            return
        try:
            text = fields.message_text(event.text)
        except InvalidField as exc:
            self._notice(f"Not sent: {exc.message}", error=True)
            return
        index = self.pane.add_pending(self.you, text)
        self.run_worker(self._send(index, text), group="send", exit_on_error=False)

    async def _send(self, index: int, text: str) -> None:
        if self.link is None:
            self.pane.fail(index)
            return
        group_id = self.group_id
        try:
            reply = await self.link.request(lambda rid: SendMessage(rid, group_id, text))
        except RequestRefused as exc:
            self.pane.fail(index)
            self._notice(f"Not sent: {exc.error.message}", error=True)
        except LinkError:
            self.pane.fail(index)  # the disconnect itself is reported by the app
        else:
            if isinstance(reply, MessageAccepted):
                self.pane.confirm(index, self._time(reply.ts / 1000))

    def action_leave(self) -> None:
        """Tell the server we leave, then go back to the home screen."""
        self.run_worker(self._leave(), exclusive=True, group="leave", exit_on_error=False)

    async def _leave(self) -> None:
        if self.link is not None:
            group_id = self.group_id
            with suppress(RequestRefused, LinkError):  # we are out of the group either way
                await self.link.request(lambda rid: LeaveGroup(rid, group_id))
        self.dismiss(None)
