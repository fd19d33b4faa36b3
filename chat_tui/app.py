"""ChatApp: screens, the chat session's lifetime, and routing of session events to chat screens."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.timer import Timer

from chat_tui import messages
from chat_tui.sanitize import sanitize_line
from chat_tui.screens import ChatScreen, ConnectScreen, HomeScreen
from chat_tui.session import Backoff, ChatSession
from chat_tui.session.events import (
    Disconnected,
    GaveUp,
    MessageAcknowledged,
    MessageDelayed,
    MessagePending,
    MessageRefused,
    Reconnected,
    Reconnecting,
    Rejoined,
    RejoinRefused,
    SessionEvent,
)
from chat_tui.session.link import LinkError
from chat_tui.widgets import LinkStatus
from chat_tui.widgets.message_pane import SCROLLBACK
from shared import GroupCreated, GroupJoined

log = logging.getLogger("chat_tui.app")

EARLY_EVENTS = 2000
"""Events kept for a group whose chat screen is not open yet: the replay right behind our join reply
(up to 1000 messages on a catch-up) reaches the app before the dialog's result opens the screen."""
RECONNECTED_SECONDS = 5.0
"""How long the "Reconnected" banner stays before it hides itself."""


class ChatApp(App[int]):
    """The groupchat Textual client.

    Args:
        host, port, name: prefill the connect screen; with all three it starts focused on Connect.
        clock: seconds since the epoch for local notices (tests pass a fixed clock).
        tz: time zone for displayed times; None is the local zone.
        ssl_context: speak TLS with this context; None for plain TCP.
        reconnect_timeout: seconds of failed reconnecting before giving up; None retries forever.
        backoff, reconnect_wait: the session's reconnect delays and how it waits them (tests pass a gate).
        scrollback: messages each chat's pane keeps in memory (older ones are paged back in on scroll).
    """

    CSS_PATH = "chat.tcss"
    TITLE = "groupchat"
    # Ctrl+L redraws, as in every terminal program (it used to leave the chat, one slip from losing it).
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+l", "redraw", "Redraw", show=False)]

    connection_status: reactive[LinkStatus] = reactive(LinkStatus(), init=False)
    """What the connection is doing; every ConnectionBanner shows it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7030,
        name: str = "",
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        ssl_context: ssl.SSLContext | None = None,
        reconnect_timeout: float | None = None,
        backoff: Backoff | None = None,
        reconnect_wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
        scrollback: int = SCROLLBACK,
    ) -> None:
        super().__init__()
        self.scrollback = scrollback
        self.host, self.port, self.you = host, port, name
        self.clock = clock
        self.tz = tz
        self.ssl_context = ssl_context
        self.reconnect_timeout = reconnect_timeout
        self._backoff = backoff
        self._reconnect_wait = reconnect_wait
        self.session: ChatSession | None = None
        self.chats: dict[int, ChatScreen] = {}
        self._early: deque[SessionEvent] = deque(maxlen=EARLY_EVENTS)
        self._lost_reason = ""
        self._status_timer: Timer | None = None

    def on_mount(self) -> None:
        """Start at the connect screen."""
        self.push_screen(ConnectScreen(self.host, self.port, self.you))

    def action_redraw(self) -> None:
        """Paint the whole screen again, over whatever another program wrote to the terminal."""
        self.refresh(repaint=True)

    # --- the session's lifetime -------------------------------------------------------------------

    @on(ConnectScreen.ConnectRequested)
    def _connect(self, request: ConnectScreen.ConnectRequested) -> None:
        self.host, self.port, self.you = request.host, request.port, request.name
        self._run_session(request.host, request.port)

    def make_session(self, host: str, port: int) -> ChatSession:
        """A new session for ``host:port`` with this app's TLS and reconnect settings."""
        return ChatSession(
            host,
            port,
            backoff=self._backoff,
            give_up_after=self.reconnect_timeout,
            wait=self._reconnect_wait,
            ssl=self.ssl_context,
        )

    @work(exclusive=True, group="net", exit_on_error=False)
    async def _run_session(self, host: str, port: int) -> None:
        """Connect, then pump the session's events into the DOM until it gives up.

        Every error becomes a state on screen (a worker's exception would otherwise end the app).
        """
        session = self.make_session(host, port)
        try:
            try:
                await session.connect()
            except LinkError as exc:
                log.warning("%s", sanitize_line(str(exc)))  # server text: one line, no escapes
                self.post_message(messages.ConnectFailed(str(exc)))
                return
            except Exception as exc:  # e.g. a bad TLS setting: still a sentence, never a traceback
                log.exception("cannot connect to %s:%d", host, port)  # the traceback goes to the log file only
                self.post_message(messages.ConnectFailed(f"cannot connect to {host}:{port}: {exc}"))
                return
            log.info("connected to %s:%d", host, port)
            self.post_message(messages.Connected(session))
            while not isinstance(event := await session.next_event(), GaveUp):
                self.post_message(messages.SessionNews(event))
            log.warning("gave up on %s:%d: %s", host, port, sanitize_line(event.reason))
            self.post_message(messages.SessionNews(event))
        except Exception as exc:
            log.exception("the session with %s:%d failed", host, port)
            self.post_message(messages.SessionNews(GaveUp(f"internal error: {exc}", 0)))
        finally:
            await session.close()  # also on cancellation, when the app exits

    @on(messages.ConnectFailed)
    def _connect_failed(self, message: messages.ConnectFailed) -> None:
        if isinstance(self.screen, ConnectScreen):
            self.screen.set_status(message.reason, error=True)

    @on(messages.Connected)
    async def _connected(self, message: messages.Connected) -> None:
        self.session = message.session
        self._set_status(LinkStatus())
        home = HomeScreen(message.session, self.you, f"{self.host}:{self.port}", self.chats)
        await self.switch_screen(home)

    async def _drop_session(self) -> None:
        """Forget the session and every chat: back to one base screen, ready for the connect screen."""
        self.session = None
        self._set_status(LinkStatus())
        while len(self.screen_stack) > 2:  # [default screen, base screen, chats and dialogs...]
            await self.pop_screen()
        for chat in self.chats.values():
            self.uninstall_screen(chat)
            await chat.remove()
        self.chats.clear()
        self._early.clear()

    @on(HomeScreen.DisconnectRequested)
    async def disconnect(self) -> None:
        """Close the session (the worker's ``finally`` closes it) and show the connect screen with host,
        port and name filled in, so the user can change the name and connect again."""
        self.workers.cancel_group(self, "net")
        await self._drop_session()
        log.info("disconnected from %s:%d by the user", self.host, self.port)
        await self.switch_screen(ConnectScreen(self.host, self.port, self.you, focus="name"))

    async def _gave_up(self, event: GaveUp) -> None:
        await self._drop_session()
        unsent = f" ({event.unsent} unsent messages were not delivered)" if event.unsent else ""
        status = f"Disconnected: {sanitize_line(event.reason)}{unsent}"  # server text: the toast is a terminal too
        self.notify(status, severity="error", markup=False)
        await self.switch_screen(ConnectScreen(self.host, self.port, self.you, status=status))

    # --- connection state -------------------------------------------------------------------------

    def _set_status(self, status: LinkStatus, *, hide_after: float | None = None) -> None:
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        self.connection_status = status
        if hide_after is not None:
            self._status_timer = self.set_timer(hide_after, lambda: self._set_status(LinkStatus()))

    def _link_news(self, event: Disconnected | Reconnecting | Reconnected) -> None:
        if isinstance(event, Disconnected):
            self._lost_reason = _lost(event.reason)
            log.warning("%s", sanitize_line(self._lost_reason))
            self._set_status(LinkStatus(f"{self._lost_reason} · reconnecting…", "lost"))
            self._tell_chats(self._lost_reason, error=True)
        elif isinstance(event, Reconnecting):
            wait = f"reconnecting in {_seconds(event.delay)} s… (attempt {event.attempt})"
            self._set_status(LinkStatus(f"{self._lost_reason} · {wait}", "lost"))
        else:
            log.info("reconnected to %s:%d", self.host, self.port)
            self._set_status(LinkStatus("Reconnected", "back"), hide_after=RECONNECTED_SECONDS)
            self._tell_chats("Reconnected.")

    def _tell_chats(self, text: str, *, error: bool = False) -> None:
        for chat in self.chats.values():
            chat.notice(text, error=error)

    # --- chats ------------------------------------------------------------------------------------

    @on(HomeScreen.GroupEntered)
    def _group_entered(self, message: HomeScreen.GroupEntered) -> None:
        self.open_chat(message.reply)

    @on(HomeScreen.GroupChosen)
    def _group_chosen(self, message: HomeScreen.GroupChosen) -> None:
        if message.group_id in self.chats:
            self.push_screen(_screen_name(message.group_id))

    def open_chat(self, reply: GroupJoined | GroupCreated) -> ChatScreen:
        """Show the chat screen for a group we just joined or created."""
        joined = reply if isinstance(reply, GroupJoined) else None
        chat = ChatScreen(
            self.session,
            reply.name,
            reply.group_id,
            reply.group_name,
            joined.members if joined else (reply.name,),
            last_seq=joined.last_seq if joined else None,
            more_members=joined.more_members if joined else False,
            clock=self.clock,
            tz=self.tz,
            scrollback=self.scrollback,
        )
        group_id = reply.group_id
        self.chats[group_id] = chat
        for event in [e for e in self._early if _group_of(e) == group_id]:
            self._early.remove(event)
            chat.apply(event)
        # Installed, so going back to the home screen keeps the chat (scrollback, draft) for later.
        self.install_screen(chat, _screen_name(group_id))
        self.push_screen(chat)
        return chat

    @on(ChatScreen.Left)
    async def _chat_left(self, message: ChatScreen.Left) -> None:
        chat = self.chats.pop(message.group_id, None)
        if chat is None:
            return
        if self.screen is chat:
            await self.pop_screen()
        self.uninstall_screen(chat)
        await chat.remove()
        self._early = deque((e for e in self._early if _group_of(e) != message.group_id), EARLY_EVENTS)

    @on(messages.SessionNews)
    async def _session_news(self, message: messages.SessionNews) -> None:
        event = message.event
        if isinstance(event, GaveUp):
            await self._gave_up(event)
        elif isinstance(event, Disconnected | Reconnecting | Reconnected):
            self._link_news(event)
        else:
            self.route(event)

    def route(self, event: SessionEvent) -> None:
        """Hand a group's event to its chat screen (kept for later if the screen is not open yet)."""
        group_id = _group_of(event)
        if group_id is None:
            return
        if group_id in self.chats:
            self.chats[group_id].apply(event)
        else:
            self._early.append(event)


def _group_of(event: SessionEvent) -> int | None:
    if isinstance(event, MessagePending | MessageDelayed | MessageAcknowledged | MessageRefused):
        return event.message.group_id
    if isinstance(event, Rejoined):
        return event.joined.group_id
    if isinstance(event, RejoinRefused):
        return event.group_id
    group_id = getattr(event, "group_id", None)
    return group_id if isinstance(group_id, int) else None


def _screen_name(group_id: int) -> str:
    return f"group-{group_id}"


def _lost(reason: str) -> str:
    """ "Connection lost: <reason>", without saying it twice when the reason already does."""
    prefix = "connection lost"
    if reason.lower().startswith(prefix):
        return "Connection lost" + reason[len(prefix) :]
    return f"Connection lost: {reason}"


def _seconds(delay: float) -> str:
    return str(max(1, round(delay)))
