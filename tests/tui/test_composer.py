"""Composer: Enter sends and clears, Ctrl+J / Alt+Enter add a line, blank input is not sent."""

from __future__ import annotations

from textual import events, on
from textual.app import App, ComposeResult

from chat_tui.widgets import Composer


class ComposerApp(App[int]):
    """A composer that records what it submits."""

    AUTO_FOCUS = "Composer"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def compose(self) -> ComposeResult:
        yield Composer(id="composer")

    @on(Composer.Submitted)
    def _record(self, event: Composer.Submitted) -> None:
        self.sent.append(event.text)


async def test_enter_submits_and_clears() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press(*"hello", "enter")
        assert app.sent == ["hello"]
        assert app.query_one(Composer).text == ""


async def test_ctrl_j_inserts_a_newline_and_the_message_stays_whole() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("a", "ctrl+j", "b", "enter")
        assert app.sent == ["a\nb"]


async def test_blank_input_is_not_sent() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("space", "space", "enter", "enter")
        assert app.sent == []


async def test_a_multi_line_paste_is_kept() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.insert("line one\nline two")
        await pilot.press("enter")
        assert app.sent == ["line one\nline two"]


def _burst(app: App[int], keys: str) -> None:
    """Queue every key on the app at once, as a terminal delivers a fast paste or a script's keys
    (``pilot.press`` waits after each key, which hides reordering)."""
    for char in keys:
        key = "ctrl+j" if char == "\n" else char
        app.post_message(events.Key(key, char))


async def test_a_newline_in_a_fast_burst_lands_where_it_was_typed() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        _burst(app, "aaa\nbbb\nccc")
        await pilot.pause()
        assert app.query_one(Composer).text == "aaa\nbbb\nccc"
        await pilot.press("enter")
        assert app.sent == ["aaa\nbbb\nccc"]
