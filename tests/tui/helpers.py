"""Helpers for the TUI tests: a fixed clock, bounded waits, and reading what a widget shows."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC

from textual.app import App
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Label

from chat_tui.app import ChatApp
from chat_tui.screens import ChatScreen, CreateDialog, HomeScreen, JoinDialog
from chat_tui.session import SCROLLBACK
from chat_tui.widgets import MessagePane

FIXED_NOW = 1_700_000_000.0
"""2023-11-14 22:13:20 UTC: every local notice shows 22:13."""
SIZE = (100, 30)


def make_app(
    host: str = "127.0.0.1",
    port: int = 7030,
    name: str = "",
    *,
    ssl_context: ssl.SSLContext | None = None,
    reconnect_timeout: float | None = None,
    reconnect_wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
    scrollback: int = SCROLLBACK,
) -> ChatApp:
    """The real app with a fixed clock and UTC times, so output is deterministic."""
    return ChatApp(
        host=host,
        port=port,
        name=name,
        clock=lambda: FIXED_NOW,
        tz=UTC,
        ssl_context=ssl_context,
        reconnect_timeout=reconnect_timeout,
        reconnect_wait=reconnect_wait,
        scrollback=scrollback,
    )


async def wait_until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds of polling."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"condition never held: {condition}")


def pane_text(pane: MessagePane) -> str:
    """Every rendered row of the pane's whole scrollback, as plain text (through the render path)."""
    return "\n".join(pane.render_row(row).text.rstrip() for row in range(pane.row_count))


def label_text(app: App[int], selector: str) -> str:
    """The plain text a Label currently shows."""
    return str(app.screen.query_one(selector, Label).render())


async def fill(pilot: Pilot[int], selector: str, text: str) -> None:
    """Replace an Input's value by typing, so validation runs as it would for a user."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)


async def connect(pilot: Pilot[int]) -> None:
    """From the connect screen (prefilled by the app's arguments), connect and reach home."""
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))


async def create_group(pilot: Pilot[int], group_name: str, password: str) -> ChatScreen:
    """From home: ``c``, fill the create dialog with Tab between fields, Enter; returns the chat."""
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CreateDialog))
    await pilot.press(*group_name, "tab", *password, "tab", *password, "enter")
    return await chat_screen(pilot)


async def chat_screen(pilot: Pilot[int]) -> ChatScreen:
    """Wait until the chat screen is up and laid out, and return it."""

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, ChatScreen) and screen.is_mounted and screen.pane.size.width > 0

    await wait_until(pilot, ready)
    chat = pilot.app.screen
    assert isinstance(chat, ChatScreen)
    return chat


async def join_group(pilot: Pilot[int], group_id: int, password: str) -> None:
    """From home: ``j``, fill the join dialog, Enter (the dialog may stay open on a refusal)."""
    await pilot.press("j")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, JoinDialog))
    await pilot.press(*str(group_id), "tab", *password, "enter")


async def say(pilot: Pilot[int], text: str) -> None:
    """Type ``text`` into the chat composer and press Enter."""
    await pilot.press(*text, "enter")


def gap_asks(asked: list[MessagePane.GapShown], message: Message) -> None:
    """A message hook recording each GapShown once (the hook sees it again as it bubbles)."""
    if isinstance(message, MessagePane.GapShown) and message not in asked:
        asked.append(message)
