"""Composer: Enter sends and clears, Ctrl+J / Alt+Enter add a line, blank input is not sent."""

from __future__ import annotations

from textual import on
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
