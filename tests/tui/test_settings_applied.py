"""The settings screen's switches change what the app does: timestamps, name colours and the bell."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from textual.widgets import Switch

from chat_tui.app import ChatApp
from chat_tui.screens import HomeScreen
from chat_tui.screens.settings import SettingsScreen
from chat_tui.settings import load
from shared import GroupJoined
from tests.tui.helpers import FIXED_NOW


def _row_with(pane_text: list[str], needle: str) -> str:
    return next(row for row in pane_text if needle in row)


async def test_switching_timestamps_name_colours_and_bell_off_takes_effect_and_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = ChatApp(name="Alice", clock=lambda: FIXED_NOW, tz=UTC, settings_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.switch_screen(HomeScreen(None, "Alice", "127.0.0.1:7030"))
        chat = app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob")))
        await pilot.pause()
        chat.timeline.posted(1, int(FIXED_NOW * 1000), "Bob", "hello there")
        await pilot.pause()
        pane = chat.pane

        def rows() -> list[str]:
            return [pane.render_line(y).text for y in range(pane.size.height)]

        row = _row_with(rows(), "hello there")
        assert row.startswith(" 22:13 ") or row.startswith("22:13 ")
        coloured = [seg.style for seg in pane.render_line(rows().index(row)) if seg.text == "Bob"]
        assert app.bell_seam.enabled

        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        for switch_id in ("timestamps", "name_colours", "bell"):
            app.screen.query_one(f"#{switch_id}", Switch).value = False
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert not app.bell_seam.enabled
        row = _row_with(rows(), "hello there")
        assert "22:13" not in row
        plain = [seg.style for seg in pane.render_line(rows().index(row)) if seg.text == "Bob"]
        assert plain != coloured  # Bob's own colour is gone
    saved = load(path).settings
    assert (saved.timestamps, saved.name_colours, saved.bell) == (False, False, False)
