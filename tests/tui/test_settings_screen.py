"""The settings screen alone (no server, no other screen): it saves what is switched, previews the theme
and puts it back on Cancel, stays open when the file cannot be written; snapshots in a light and a dark theme."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Label, Select, Switch

from chat_tui.screens.settings import SWITCHES, SettingsKeeper, SettingsScreen
from chat_tui.settings import Settings, load, save

SIZE = (80, 24)


class Host(App[None]):
    """An app that opens the settings screen at start and keeps what it was dismissed with."""

    def __init__(self, settings: Settings, path: Path | None, theme: str = "textual-dark") -> None:
        super().__init__()
        self.start_settings, self.path = settings, path
        self.results: list[Settings | None] = []
        self.theme = theme

    def on_mount(self) -> None:
        self.push_screen(SettingsScreen(self.start_settings, self.path), self.results.append)


def test_every_setting_has_a_control() -> None:
    assert set(SWITCHES) | {"theme"} == {field.name for field in fields(Settings)}


async def test_save_writes_what_is_switched_and_dismisses_with_it(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    app = Host(Settings(), path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert await pilot.click("#bell")
        screen.query_one("#typing", Switch).focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    expected = Settings(bell=False, typing=False)
    assert app.results == [expected]
    assert load(path).settings == expected
    assert load(path).problems == ()


async def test_the_theme_applies_as_chosen_and_goes_back_on_cancel(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = Host(Settings(), path)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#theme", Select).value = "nord"
        await pilot.pause()
        assert app.theme == "nord"
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == "textual-dark"
    assert app.results == [None]
    assert not path.exists()


async def test_a_saved_theme_stays(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = Host(Settings(), path)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#theme", Select).value = "gruvbox"
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
        assert app.theme == "gruvbox"
    assert load(path).settings.theme == "gruvbox"


async def test_a_theme_this_textual_lacks_shows_the_current_one(tmp_path: Path) -> None:
    app = Host(Settings(theme="no-such-theme"), None, theme="nord")
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#theme", Select).value == "nord"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [Settings(theme="nord")]


async def test_a_file_that_cannot_be_written_keeps_the_screen_open_and_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    app = Host(Settings(), blocker / "settings.toml")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        error = app.screen.query_one("#error", Label)
        assert error.has_class("-visible")
        assert "Cannot save" in str(error.render())
    assert app.results == []


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
def test_snapshot(theme: str, snap_compare: Any) -> None:
    settings = Settings(theme=theme, bell=False, name_colours=False)
    assert snap_compare(Host(settings, None, theme=theme), terminal_size=SIZE)


class KeeperHost(App[None]):
    """An app holding a SettingsKeeper the way ChatApp does: attached on mount, opened with F2."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "settings", "Settings")]

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.changes: list[Settings] = []
        self.keeper = SettingsKeeper(self, path, self.changes.append)

    def on_mount(self) -> None:
        self.keeper.attach()

    def action_settings(self) -> None:
        self.keeper.open()


async def test_the_saved_theme_applies_at_start(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    save(path, Settings(theme="nord"))
    app = KeeperHost(path)
    async with app.run_test(size=SIZE):
        assert app.theme == "nord"


async def test_a_theme_chosen_in_the_palette_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = KeeperHost(path)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "gruvbox"  # what the palette's "Change theme" does on Enter
        await pilot.pause()
    assert load(path).settings == Settings(theme="gruvbox")
    assert app.keeper.settings.theme == "gruvbox"


async def test_the_screen_opened_from_the_app_saves_and_tells_the_app(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    app = KeeperHost(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#bell", Switch).focus()
        await pilot.press("space", "ctrl+s")
        await pilot.pause()
    assert app.changes == [Settings(bell=False)]
    assert app.keeper.settings == Settings(bell=False)
    assert load(path).settings == Settings(bell=False)


async def test_a_damaged_file_is_reported_once_and_the_defaults_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("bell = 3\nvolume = 11\n")
    seen: list[Message] = []
    app = KeeperHost(path)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
    notes = [m.notification.message for m in seen if isinstance(m, Notify)]
    assert len(notes) == 2
    assert any("bell must be true or false" in note for note in notes)
    assert any("unknown setting 'volume'" in note for note in notes)
    assert app.keeper.settings == Settings()


async def test_without_a_path_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = KeeperHost(None)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.keeper.settings.theme == "nord"
    assert list(tmp_path.iterdir()) == []
