"""SettingsScreen: theme, timestamps, bell, typing and name colours, saved to the user's settings file.

A modal over whatever screen opened it. The theme applies as it is chosen (a preview) and goes back if
the dialog is cancelled. Save writes the file (:func:`chat_tui.settings.save`, atomic) and dismisses with
the new :class:`~chat_tui.settings.Settings`; Cancel or Escape dismisses with None and writes nothing.
It needs no session and no other screen, so it is tested (and snapshotted) alone.

:class:`SettingsKeeper` is what an app holds: the settings read at start, the theme applied, a theme chosen
anywhere else (the command palette's "Change theme") saved too, and this screen opened on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.widgets import Button, Footer, Label, Select, Switch

from chat_tui import settings as settings_file
from chat_tui.settings import LoadedSettings, Settings

log = logging.getLogger("chat_tui.settings")

SWITCHES: dict[str, str] = {
    "timestamps": "Show the time of each message",
    "bell": "Ring the bell when someone names you",
    "typing": "Send and show “is typing”",
    "name_colours": "A colour for each name",
}
"""Each on/off setting (a :class:`Settings` field) and what its switch says."""


class SettingsScreen(ModalScreen[Settings | None]):
    """Edit ``settings``; Save writes them to ``path`` (None: write nothing, only dismiss with them)."""

    DEFAULT_CSS = """
    SettingsScreen {
        align: center middle;
        background: $background 60%;
    }
    SettingsScreen #settings-form {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        overflow-y: auto;
        border: round $primary;
        padding: 1 2;
        background: $surface;
    }
    SettingsScreen .form-title {
        text-style: bold;
        color: $accent;
        width: 100%;
        content-align: center middle;
        margin-bottom: 1;
    }
    SettingsScreen #theme {
        margin-bottom: 1;
    }
    SettingsScreen .setting {
        height: 1;
    }
    SettingsScreen .setting Switch {
        border: none;
        padding: 0;
        height: 1;
    }
    SettingsScreen .setting Label {
        padding: 0 1;
    }
    SettingsScreen .setting:focus-within Label {
        text-style: reverse;
    }
    SettingsScreen #error {
        color: $error;
        width: 100%;
        display: none;
    }
    SettingsScreen #error.-visible {
        display: block;
    }
    SettingsScreen .buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    SettingsScreen .buttons Button {
        margin-left: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: Settings, path: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.path = path
        self._theme_before = ""

    def compose(self) -> ComposeResult:
        """The theme picker, one switch per on/off setting, the error line and the buttons."""
        themes = sorted(self.app.available_themes)
        theme = self.settings.theme if self.settings.theme in themes else self.app.theme
        with Vertical(id="settings-form"):
            yield Label(Content("Settings"), classes="form-title")
            yield Label("Theme")
            options = [(name, name) for name in themes]
            yield Select(options, value=theme, allow_blank=False, compact=True, id="theme")
            for field, text in SWITCHES.items():
                with Horizontal(classes="setting"):
                    yield Switch(getattr(self.settings, field), id=field)
                    yield Label(Content(text))
            yield Label("", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        """Remember the theme to go back to on Cancel; start at the theme picker."""
        self._theme_before = self.app.theme
        self.query_one("#theme", Select).focus()

    @property
    def chosen(self) -> Settings:
        """The settings as the form shows them now."""
        theme = self.query_one("#theme", Select).value
        switched = {field: self.query_one(f"#{field}", Switch).value for field in SWITCHES}
        return replace(self.settings, theme=str(theme) if isinstance(theme, str) else self.settings.theme, **switched)

    @on(Select.Changed, "#theme")
    def _preview_theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value in self.app.available_themes:
            self.app.theme = event.value

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Write the file (when there is one) and dismiss with the settings; a failed write stays open."""
        chosen = self.chosen
        if self.path is not None:
            try:
                settings_file.save(self.path, chosen)
            except OSError as exc:
                error = self.query_one("#error", Label)
                error.update(Content(f"Cannot save {self.path}: {exc}"))
                error.add_class("-visible")
                return
        self.dismiss(chosen)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Put the theme back and dismiss with None."""
        if self.app.theme != self._theme_before:
            self.app.theme = self._theme_before
        self.dismiss(None)


class SettingsKeeper:
    """An app's settings for its lifetime: read from ``path`` at construction, applied by :meth:`attach`
    (from the app's on_mount), edited with :meth:`open`, saved whenever they change.

    Args:
        app: the app whose theme this applies and keeps.
        path: the settings file; None keeps the settings in memory only (tests; a ``--web`` visitor,
            who must not write the serving machine's file).
        changed: called with the new settings after the settings screen saved them (e.g. to turn
            the bell off); the theme is applied already.
    """

    def __init__(self, app: App[Any], path: Path | None, changed: Callable[[Settings], None] | None = None) -> None:
        self.app = app
        self.path = path
        self._changed = changed
        loaded = settings_file.load(path) if path is not None else LoadedSettings(Settings())
        self.settings = loaded.settings
        self.problems = loaded.problems
        """What in the file was ignored; :meth:`attach` shows each once."""

    def attach(self) -> None:
        """Apply the theme, say what was wrong with the file, and start keeping theme changes."""
        if self.settings.theme in self.app.available_themes:
            self.app.theme = self.settings.theme
        for problem in self.problems:
            log.warning("%s", problem)
            self.app.notify(problem, title="Settings", severity="warning", markup=False)
        self.app.theme_changed_signal.subscribe(self.app, self._theme_changed)

    def open(self) -> None:
        """Show the settings screen over the current one."""
        self.app.push_screen(SettingsScreen(self.settings, self.path), self._chosen)

    def _chosen(self, chosen: Settings | None) -> None:
        if chosen is None:  # cancelled: the screen put the theme back itself
            return
        self.settings = chosen  # the screen saved the file
        if self._changed is not None:
            self._changed(chosen)

    def _theme_changed(self, theme: Theme) -> None:
        if isinstance(self.app.screen, SettingsScreen):
            return  # a preview: the screen's Save or Cancel decides
        if theme.name != self.settings.theme:
            self.settings = replace(self.settings, theme=theme.name)
            self.save()

    def save(self) -> None:
        """Write the settings (nothing without a path); a failure is a warning, never a crash."""
        if self.path is None:
            return
        try:
            settings_file.save(self.path, self.settings)
        except OSError as exc:
            log.warning("cannot save the settings to %s: %s", self.path, exc)
            self.app.notify(f"Cannot save {self.path}: {exc}", title="Settings", severity="warning", markup=False)
