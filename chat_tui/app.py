"""ChatApp: screens, the network link's lifetime, and routing of server events to chat screens."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import tzinfo

from textual import on, work
from textual.app import App

from chat_tui import messages
from chat_tui.net import ConnectionLost, LinkError, ServerLink
from chat_tui.screens import ChatScreen, ConnectScreen, HomeScreen
from shared import Event, GroupCreated, GroupJoined, ServerClosing

EARLY_EVENTS = 1000
"""Events kept for a group whose chat screen is not open yet: a message can overtake the reply to
our join on its way through the app's queue, and must not be lost."""


class ChatApp(App[int]):
    """The groupchat Textual client.

    Args:
        host, port, name: prefill the connect screen; with all three it starts focused on Connect.
        clock: seconds since the epoch for local notices (tests pass a fixed clock).
        tz: time zone for displayed times; None is the local zone.
    """

    CSS_PATH = "chat.tcss"
    TITLE = "groupchat"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7030,
        name: str = "",
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.host, self.port, self.you = host, port, name
        self.clock = clock
        self.tz = tz
        self.link: ServerLink | None = None
        self.chats: dict[int, ChatScreen] = {}
        self._early: deque[Event] = deque(maxlen=EARLY_EVENTS)

    def on_mount(self) -> None:
        """Start at the connect screen."""
        self.push_screen(ConnectScreen(self.host, self.port, self.you, focus_connect=bool(self.you)))

    @on(ConnectScreen.ConnectRequested)
    def _connect(self, request: ConnectScreen.ConnectRequested) -> None:
        self.host, self.port, self.you = request.host, request.port, request.name
        self._run_link(request.host, request.port)

    @work(exclusive=True, group="net", exit_on_error=False)
    async def _run_link(self, host: str, port: int) -> None:
        """Open the link, then pump its notifications into the DOM until it ends."""
        try:
            link = await ServerLink.open(host, port)
        except LinkError as exc:
            self.post_message(messages.ConnectFailed(str(exc)))
            return
        self.post_message(messages.Connected(link))
        try:
            while not isinstance(item := await link.notifications.get(), ConnectionLost):
                self.post_message(messages.ServerEvent(item))
            self.post_message(messages.Disconnected(item.reason))
        finally:
            await link.close()  # also on cancellation, when the app exits

    @on(messages.ConnectFailed)
    def _connect_failed(self, message: messages.ConnectFailed) -> None:
        if isinstance(self.screen, ConnectScreen):
            self.screen.set_status(message.reason, error=True)

    @on(messages.Connected)
    async def _connected(self, message: messages.Connected) -> None:
        self.link = message.link
        await self.switch_screen(HomeScreen(message.link, self.you, f"{self.host}:{self.port}"))

    @on(messages.Disconnected)
    async def _disconnected(self, message: messages.Disconnected) -> None:
        self.link = None
        self.chats.clear()
        self._early.clear()
        self.notify(f"Disconnected: {message.reason}", severity="error", markup=False)
        while len(self.screen_stack) > 2:  # [default screen, base screen, overlays...]
            await self.pop_screen()
        status = f"Disconnected: {message.reason}"
        await self.switch_screen(ConnectScreen(self.host, self.port, self.you, focus_connect=True, status=status))

    @on(HomeScreen.GroupEntered)
    def _group_entered(self, message: HomeScreen.GroupEntered) -> None:
        self.open_chat(message.reply)

    def open_chat(self, reply: GroupJoined | GroupCreated) -> ChatScreen:
        """Show the chat screen for a group we just joined or created."""
        members = reply.members if isinstance(reply, GroupJoined) else (reply.name,)
        chat = ChatScreen(
            self.link,
            reply.name,
            reply.group_id,
            reply.group_name,
            members,
            created=isinstance(reply, GroupCreated),
            clock=self.clock,
            tz=self.tz,
        )
        group_id = reply.group_id
        self.chats[group_id] = chat
        for event in [e for e in self._early if getattr(e, "group_id", None) == group_id]:
            self._early.remove(event)
            chat.apply(event)
        self.push_screen(chat, lambda _: self._chat_closed(group_id))
        return chat

    def _chat_closed(self, group_id: int) -> None:
        self.chats.pop(group_id, None)
        self._early = deque((e for e in self._early if getattr(e, "group_id", None) != group_id), EARLY_EVENTS)

    @on(messages.ServerEvent)
    def _server_event(self, message: messages.ServerEvent) -> None:
        self.route(message.event)

    def route(self, event: Event) -> None:
        """Hand a notification to the chat screen of its group (all of them if it has none)."""
        if isinstance(event, ServerClosing):
            self.notify(f"The server is shutting down: {event.reason}", severity="warning", markup=False)
        group_id = getattr(event, "group_id", None)
        if group_id is None:
            targets = list(self.chats.values())
        elif group_id in self.chats:
            targets = [self.chats[group_id]]
        else:
            self._early.append(event)
            targets = []
        for chat in targets:
            chat.apply(event)
