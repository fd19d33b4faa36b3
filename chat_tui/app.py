"""ChatApp: screens, the chat session's lifetime, and the connection's state.

Each chat screen follows its group's timeline in the session by itself; the app only hears the
session's own events (connection lost, reconnecting, back, gave up)."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from chat_tui import messages
from chat_tui.activity import Activity
from chat_tui.mentions import Bell
from chat_tui.read_positions import ReadPositions, positions_path
from chat_tui.sanitize import sanitize_line
from chat_tui.screens import ChatScreen, ConnectScreen, HomeScreen, form
from chat_tui.screens.help import HelpScreen
from chat_tui.screens.palette import GroupSwitcher
from chat_tui.screens.settings import SettingsKeeper
from chat_tui.session import (
    SCROLLBACK,
    Backoff,
    ChatSession,
    GroupTimeline,
    LinkError,
    RequestRefused,
    clock_time,
)
from chat_tui.session.events import Disconnected, GaveUp, Reconnected, Reconnecting
from chat_tui.settings import Settings
from chat_tui.widgets import LinkStatus, MessagePane
from shared import GroupCreated, GroupJoined, InvalidField

log = logging.getLogger("chat_tui.app")

IDLE_AWAY = 600.0
"""Seconds without a key or a click before we mark ourselves away (the issue's "idle for 10 minutes")."""
IDLE_CHECK = 30.0
"""Seconds between idle checks: being marked away up to this late does not matter."""
IDLE_REASON = "idle"

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
        scrollback: messages each group's timeline keeps in memory (others are paged back in on scroll).
    """

    CSS_PATH = "chat.tcss"
    # chat.tcss: "-short" gives forms one-row fields (the home menu fits 60x18); "-narrow" hides the member list.
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    TITLE = "groupchat"
    # Ctrl+L redraws, as in every terminal program (it used to leave the chat, one slip from losing it).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "redraw", "Redraw", show=False),
        Binding("f1", "help", "Help", priority=True),
        Binding("question_mark", "help", "Help", show=False),  # not while typing: the composer takes it
        Binding("f3", "settings", "Settings", show=False),
    ]
    COMMANDS = App.COMMANDS | {GroupSwitcher}  # Textual's system commands stay
    # Ctrl+P and Ctrl+N walk the groups (as in irssi and weechat); the palette takes Ctrl+K, the
    # channel picker's key in gomuks and discordo.
    COMMAND_PALETTE_BINDING = "ctrl+k"

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
        settings_path: Path | None = None,
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
        self.bell_seam = Bell(self.bell, clock)
        """Rings for mentions, rate-limited; tests read ``rung``, settings turn it off (``enabled``)."""
        self.preferences = SettingsKeeper(self, settings_path, self._apply_settings)
        """The user's settings file (None: kept for this run only, as for a browser visitor)."""
        self._apply_settings(self.preferences.settings)
        self.activity: Activity | None = None
        """Unread counts and mentions of the open groups (one per session)."""
        self._lost_reason = ""
        self.idle_after, self.idle_check = IDLE_AWAY, IDLE_CHECK
        self._last_input = time.monotonic()
        self._idle_away = False
        self._status_timer: Timer | None = None

    @property
    def settings(self) -> Settings:
        """The settings in force: theme, timestamps, bell, typing, name colours."""
        return self.preferences.settings

    def action_settings(self) -> None:
        """Open the settings screen."""
        self.preferences.open()

    def _apply_settings(self, settings: Settings) -> None:
        self.bell_seam.enabled = settings.bell
        for chat in getattr(self, "chats", {}).values():
            for pane in chat.query(MessagePane):
                pane.display_changed()  # timestamps and name colours are read when a row is rendered

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Settings", "Theme, timestamps, bell, typing, name colours (F3)", self.action_settings)

    def on_mount(self) -> None:
        """Start at the connect screen; check for idleness from now on."""
        self.preferences.attach()
        self.push_screen(ConnectScreen(self.host, self.port, self.you))
        self.set_interval(self.idle_check, self._check_idle)

    def on_unmount(self) -> None:
        """Keep the read positions; hand the frozen startup objects back to the collector (another app
        may run in this process)."""
        if self.activity is not None:
            self.activity.save()
        gc.unfreeze()

    async def on_event(self, event: events.Event) -> None:
        """Every key and click reaches the app first: note it, and come back from an idle away."""
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
            if self._idle_away:
                self._idle_away = False
                self._presence(None)
        await super().on_event(event)

    def _check_idle(self) -> None:
        """Mark us away after ``idle_after`` seconds without input (unless already away by /away)."""
        session = self.session
        if self._idle_away or session is None or "presence" not in session.features:
            return
        if time.monotonic() - self._last_input < self.idle_after:
            return
        if any(chat.is_away() for chat in self.chats.values()):
            return  # the user said /away: theirs stands
        self._idle_away = True
        self._presence(IDLE_REASON)

    def _presence(self, reason: str | None) -> None:
        async def set_away() -> None:
            with suppress(RequestRefused, LinkError, InvalidField):
                if self.session is not None:
                    await self.session.set_away(reason)

        self.run_worker(set_away(), group="presence", exit_on_error=False)

    def action_help(self) -> None:
        """F1 or ?: the keys and commands (once: F1 on the help page closes it)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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
            scrollback=self.scrollback,
            clock=self.clock,
            time_format=clock_time(self.tz),
        )

    @work(exclusive=True, group="net", exit_on_error=False)
    async def _run_session(self, host: str, port: int) -> None:
        """Connect, then pass the session's own events (connection states) to the app until it gives up.

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
        positions = ReadPositions(positions_path())
        if positions.problem:
            log.warning("%s", positions.problem)
        self.activity = Activity(f"{self.host}:{self.port}", bell=self.bell_seam, positions=positions)
        self._set_status(LinkStatus())
        home = HomeScreen(message.session, self.you, f"{self.host}:{self.port}", self.chats)
        await self.switch_screen(home)
        self.call_after_refresh(_freeze_startup_objects)  # once the home screen is painted

    async def _drop_session(self) -> None:
        """Forget the session and every chat: back to one base screen, ready for the connect screen."""
        self.session = None
        if self.activity is not None:
            self.activity.save()
            self.activity = None
        self._set_status(LinkStatus())
        while len(self.screen_stack) > 2:  # [default screen, base screen, chats and dialogs...]
            await self.pop_screen()
        for chat in self.chats.values():
            self.uninstall_screen(chat)
            await chat.remove()
        self.chats.clear()

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
            # Each rejoined group's timeline says "Reconnected." itself, in its place before what was missed.
            self._set_status(LinkStatus("Reconnected", "back"), hide_after=RECONNECTED_SECONDS)

    def _tell_chats(self, text: str, *, error: bool = False) -> None:
        for chat in self.chats.values():
            chat.notice(text, error=error)

    # --- chats ------------------------------------------------------------------------------------

    @on(messages.GroupEntered)
    def _group_entered(self, message: messages.GroupEntered) -> None:
        self.open_chat(message.reply)

    @on(HomeScreen.GroupChosen)
    def _group_chosen(self, message: HomeScreen.GroupChosen) -> None:
        self.show_group(message.group_id)

    def show_group(self, group_id: int) -> None:
        """Show the chat of an open group: in place of the chat on screen, else over the home screen."""
        if group_id not in self.chats or self.screen is self.chats[group_id]:
            return
        if isinstance(self.screen, ChatScreen):
            self.switch_screen(_screen_name(group_id))
        else:
            self.push_screen(_screen_name(group_id))

    def action_group_number(self, number: int) -> None:
        """Alt+N: the Nth open group, in the order they were opened."""
        order = list(self.chats)
        if 1 <= number <= len(order):
            self.show_group(order[number - 1])

    def action_group_step(self, step: int) -> None:
        """Ctrl+N / Ctrl+P: the next or previous open group, round the end."""
        order = list(self.chats)
        if not order:
            return
        here = order.index(self.screen.group_id) if isinstance(self.screen, ChatScreen) else -1
        self.show_group(order[(here + step) % len(order)])

    def action_next_unread(self) -> None:
        """Alt+A: the next group with a mention, else with unread messages."""
        here = self.screen.group_id if isinstance(self.screen, ChatScreen) else None
        target = self.activity.next_unread(here) if self.activity is not None else None
        if target is None:
            self.notify("No unread messages in other groups.", timeout=2)
        else:
            self.show_group(target)

    def open_chat(self, reply: GroupJoined | GroupCreated) -> ChatScreen:
        """Show the chat screen for a group we just joined or created."""
        group_id = reply.group_id
        timeline = self._timeline(reply)
        if self.activity is None:  # no session (a screen shown without a network): nothing kept on disk
            self.activity = Activity(f"{self.host}:{self.port}", bell=self.bell_seam)
        self.activity.follow(timeline)
        chat = ChatScreen(self.session, timeline, self.activity)
        self.chats[group_id] = chat
        # Installed, so going back to the home screen keeps the chat (scrollback, draft) for later.
        self.install_screen(chat, _screen_name(group_id))
        self.push_screen(chat)
        self.call_after_refresh(gc.freeze)  # the chat's widgets live as long as it: out of the collector's walk
        return chat

    def _timeline(self, reply: GroupJoined | GroupCreated) -> GroupTimeline:
        if self.session is not None:
            return self.session.timeline(reply.group_id)
        # No session: a screen shown without a network (snapshot tests), fed by hand.
        joined = reply if isinstance(reply, GroupJoined) else None
        return GroupTimeline(
            reply.group_id,
            reply.group_name,
            reply.name,
            joined_at=joined.last_seq if joined else None,
            members=joined.members if joined else (reply.name,),
            scrollback=self.scrollback,
            clock=self.clock,
            time_format=clock_time(self.tz),
        )

    @on(ChatScreen.Left)
    async def _chat_left(self, message: ChatScreen.Left) -> None:
        chat = self.chats.pop(message.group_id, None)
        if chat is None:
            return
        if self.activity is not None:
            self.activity.forget(message.group_id)
        if self.screen is chat:
            await self.pop_screen()
        self.uninstall_screen(chat)
        await chat.remove()

    @on(messages.SessionNews)
    async def _session_news(self, message: messages.SessionNews) -> None:
        event = message.event
        if isinstance(event, GaveUp):
            await self._gave_up(event)
        elif isinstance(event, Disconnected | Reconnecting | Reconnected):
            self._link_news(event)
        # Rejoined and RejoinRefused are also in the group's timeline, which its screen shows.


def _freeze_startup_objects() -> None:
    """Startup made hundreds of thousands of objects that live as long as the app (widgets, styles,
    parsed CSS). Every full collection walks them all: 200-500 ms that a key typed meanwhile waits
    for (chat-tui-bench, ``gc_longest_ms``). Collected once now and frozen, later collections walk only
    what came after (~70 ms)."""
    gc.collect()
    gc.freeze()


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
