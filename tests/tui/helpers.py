"""Helpers for the TUI tests: a fixed clock, bounded waits, and reading what a widget shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Label

from chat_tui.app import ChatApp
from chat_tui.widgets import MessagePane

FIXED_NOW = 1_700_000_000.0
"""2023-11-14 22:13:20 UTC: every local notice shows 22:13."""
SIZE = (100, 30)


def make_app(host: str = "127.0.0.1", port: int = 7030, name: str = "") -> ChatApp:
    """The real app with a fixed clock and UTC times, so output is deterministic."""
    return ChatApp(host=host, port=port, name=name, clock=lambda: FIXED_NOW, tz=UTC)


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
