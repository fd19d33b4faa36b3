"""Snapshots of each screen, fed without a network so they are deterministic (fixed clock, UTC).

These are sync tests: snap_compare runs the app itself and cannot run inside an event loop.
Update with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from chat_tui.app import ChatApp
from chat_tui.messages import SessionNews
from chat_tui.screens import ChatScreen, HomeScreen
from chat_tui.session.events import (
    Disconnected,
    MessageAcknowledged,
    MessagePending,
    OutgoingMessage,
    Reconnecting,
)
from shared import GroupJoined, MemberJoined, MemberLeft, MessagePosted
from tests.tui.helpers import FIXED_NOW, SIZE, make_app

T0 = int(FIXED_NOW * 1000)


class SnapCompare(Protocol):
    """The snap_compare fixture's call signature (the plugin is untyped)."""

    def __call__(
        self,
        app: ChatApp,
        *,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = ...,
        run_before: Callable[[Pilot[int]], Awaitable[None]] | None = None,
    ) -> bool: ...


async def _steady(pilot: Pilot[int]) -> None:
    """No blinking cursors and no animations: a snapshot must not depend on timing."""
    pilot.app.animation_level = "none"
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


def _app() -> ChatApp:
    app = make_app(name="Alice")
    app.animation_level = "none"
    return app


async def _home(pilot: Pilot[int]) -> None:
    await pilot.app.switch_screen(HomeScreen(None, "Alice", "127.0.0.1:7030"))
    await _steady(pilot)


def test_connect_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_steady)


def test_home_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_home)


def test_join_dialog(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _home(pilot)
        await pilot.press("j", *"12x")  # invalid as typed: the error shows under the fields
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_create_dialog(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _home(pilot)
        await pilot.press("c", *"book club", "tab", *"secret", "tab", *"secreT")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_chat_screen(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        await _home(pilot)
        app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob", "Carol")))
        await pilot.pause()
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        app.route(MessagePosted(4242, 1, T0, "Bob", "hi everyone! [bold]this is not bold[/]"))
        chat.pane.add_message("22:13", "Alice", "hello Bob", own=True)
        app.route(MemberJoined(4242, "Dave"))
        long = "a long message that wraps onto the next row with a hanging indent so it reads well " * 2
        app.route(MessagePosted(4242, 2, T0 + 60_000, "Carol", long.strip()))
        app.route(MessagePosted(4242, 3, T0 + 120_000, "Dave", "first line\nsecond line"))
        app.route(MemberLeft(4242, "Carol"))
        app.route(MessagePosted(4242, 9, T0 + 99_000, "Dave", "ping"))
        app.route(MessagePending(OutgoingMessage(4242, "m1", "Alice", "on its way")))
        app.route(MessagePosted(4999, 1, T0, "Eve", "another group: must not show"))
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_chat_with_history_marker_and_reconnecting_banner(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        await _home(pilot)
        app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob", "Carol"), last_seq=3))
        await pilot.pause()
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        app.route(MessagePosted(4242, 2, T0 - 3_600_000, "Bob", "see you all tomorrow"))
        app.route(MessagePosted(4242, 3, T0 - 3_000_000, "Alice", "good night!"))
        app.route(MessagePosted(4242, 4, T0, "Carol", "morning, everyone"))
        sent = OutgoingMessage(4242, "m1", "Alice", "morning Carol")
        app.route(MessagePending(sent))
        app.route(MessageAcknowledged(sent, 5, T0 + 60_000))
        app.route(MessagePending(OutgoingMessage(4242, "m2", "Alice", "typed while the server was away")))
        app.post_message(SessionNews(Disconnected("connection lost: Connection reset by peer")))
        app.post_message(SessionNews(Reconnecting(3, 4.0)))
        await pilot.pause()
        chat.composer.insert("half a thought")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)
