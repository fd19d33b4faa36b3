"""HelpScreen (F1 or ?): every key and every slash command on one page.

The commands come from the one table (:mod:`chat_tui.commands`); the keys from :data:`KEYS` below,
which a test checks against the bindings the screens really have, so the page cannot drift.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from chat_tui.commands import help_lines
from chat_tui.screens import form

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Anywhere",
        (
            ("F1, ?", "this help (? when not typing)"),
            ("Ctrl+K", "command palette: commands, groups, themes"),
            ("Ctrl+L", "redraw the screen"),
            ("Ctrl+Q", "quit"),
        ),
    ),
    (
        "Between groups",
        (
            ("Alt+1 … Alt+9", "the first nine groups in the list"),
            ("Ctrl+N, Ctrl+P", "the next, the previous group"),
            ("Alt+A", "the next group with a mention, else with unread messages"),
            ("click", "a group in the list on the left"),
            ("Esc", "back to the home screen (the chats stay open)"),
        ),
    ),
    (
        "Writing",
        (
            ("Enter", "send"),
            ("Ctrl+J, Shift+Enter", "a new line in the message"),
            ("Up, Down", "on the first or last line: your earlier lines in this group"),
            ("Tab", "complete a member's name or a /command; again for the next"),
            ("//text", "send text that starts with a /"),
        ),
    ),
    (
        "Reading",
        (
            ("Page Up, Page Down", "scroll the messages (at the top: older ones load)"),
            ("Ctrl+End", "jump to the newest message"),
            ("Tab", "move between the composer, the messages and the lists"),
        ),
    ),
)
"""Every key the app answers to, by where it acts."""


def help_content() -> Content:
    """The page: keys by section, then the commands."""
    parts: list[Content] = []
    width = max(len(key) for _, rows in KEYS for key, _ in rows)
    for section, rows in KEYS:
        parts.append(Content.styled(section, "bold $accent"))
        parts += [Content.assemble(("  " + key.ljust(width), "bold"), "  ", what) for key, what in rows]
        parts.append(Content(""))
    parts.append(Content.styled("Commands (type them in the composer, or pick them in the palette)", "bold $accent"))
    parts += [Content("  " + line) for line in help_lines()]
    return Content("\n").join(parts)


class HelpScreen(ModalScreen[None]):
    """The keys and the commands; Escape, F1, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close"),
    ]
    VERTICAL_BREAKPOINTS = form.HEIGHT_BREAKPOINTS
    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    def compose(self) -> ComposeResult:
        """A bordered page that scrolls when the terminal is short."""
        with Vertical(classes="form dialog help"):
            yield Label(Content("Keys and commands"), classes="form-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_content(), id="help-text")
            yield Label("Esc: close", classes="hint")
        yield Footer()

    def text(self) -> str:
        """The page as plain text (for tests)."""
        return help_content().plain
