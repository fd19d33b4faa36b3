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
from chat_tui.session.events import Disconnected, Reconnecting
from shared import GroupJoined
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
        chat = app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob", "Carol")))
        await pilot.pause()
        assert isinstance(chat, ChatScreen)
        timeline = chat.timeline
        timeline.posted(1, T0, "Bob", "hi everyone! [bold]this is not bold[/]")
        timeline.pending("m0", "Alice", "hello Bob")
        timeline.acknowledged("m0", "Alice", "hello Bob", 2, T0)
        timeline.member_joined("Dave")
        long = "a long message that wraps onto the next row with a hanging indent so it reads well " * 2
        timeline.posted(3, T0 + 60_000, "Carol", long.strip())
        timeline.posted(4, T0 + 120_000, "Dave", "first line\nsecond line")
        timeline.member_left("Carol")
        timeline.posted(9, T0 + 99_000, "Dave", "ping")
        timeline.pending("m1", "Alice", "on its way")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_chat_with_history_marker_and_reconnecting_banner(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        await _home(pilot)
        joined = GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob", "Carol"), last_seq=3)
        chat = app.open_chat(joined)
        await pilot.pause()
        assert isinstance(chat, ChatScreen)
        timeline = chat.timeline
        timeline.posted(2, T0 - 3_600_000, "Bob", "see you all tomorrow")
        timeline.posted(3, T0 - 3_000_000, "Alice", "good night!")
        timeline.posted(4, T0, "Carol", "morning, everyone")
        timeline.pending("m1", "Alice", "morning Carol")
        timeline.acknowledged("m1", "Alice", "morning Carol", 5, T0 + 60_000)
        timeline.pending("m2", "Alice", "typed while the server was away")
        app.post_message(SessionNews(Disconnected("connection lost: Connection reset by peer")))
        app.post_message(SessionNews(Reconnecting(3, 4.0)))
        await pilot.pause()
        chat.composer.insert("half a thought")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_chat_scrolled_up_counts_new_messages(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        await _home(pilot)
        chat = app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob")))
        await pilot.pause()
        assert isinstance(chat, ChatScreen)
        for seq in range(1, 41):
            chat.timeline.posted(seq, T0 + seq * 1000, "Bob", f"message {seq}")
        await pilot.pause()
        chat.pane.scroll_to(y=5, animate=False, immediate=True)
        await pilot.pause()
        for seq in range(41, 44):
            chat.timeline.posted(seq, T0 + seq * 1000, "Bob", f"arrived while reading {seq}")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)
