"""Composer: the chat input line, a TextArea so a pasted multi-line message stays whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from shared import InvalidField

NEWLINE_KEYS = ("ctrl+j", "alt+enter", "shift+enter")
"""Keys that insert a line break. Ctrl+J is the LF byte, so it works in every terminal, and a terminal
sends it for a scripted newline (``tmux send-keys -l $'a\\nb'``), which must land where it was typed.
Alt+Enter and Shift+Enter arrive only from terminals that report them apart from Enter (the kitty
keyboard protocol): in xterm and tmux, Textual 8.2.8 reads ESC CR as a plain Enter."""

TextCheck = Callable[[str], object]
"""A check that raises InvalidField when the text cannot be sent (e.g. ``shared.fields.message_text``)."""


class Composer(TextArea):
    """A TextArea where Enter sends and Ctrl+J (or Alt+Enter, see :data:`NEWLINE_KEYS`) inserts a newline.

    ``Input`` would keep only the first line of a paste (notes/tui.md §0.5).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # For the footer and the keys panel only: the keys themselves are acted on in _on_key (see there).
        Binding("enter", "submit", "Send"),
        Binding(",".join(NEWLINE_KEYS), "newline", "New line", show=False),
    ]

    DEFAULT_CSS = """
    Composer {
        height: auto;
        max-height: 8;
        min-height: 3;
    }
    """

    class Submitted(Message):
        """The user pressed Enter on non-blank text; the composer is already cleared."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

        @property
        def control(self) -> Composer:
            """The composer that sent the text (for ``@on(..., "#id")`` selectors)."""
            return self.composer

    class Refused(Message):
        """The user pressed Enter on text that ``check`` refuses; the text stays in the composer."""

        def __init__(self, composer: Composer, text: str, reason: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.reason = reason

        @property
        def control(self) -> Composer:
            """The composer holding the refused text."""
            return self.composer

    def __init__(self, *, id: str | None = None, placeholder: str = "", check: TextCheck | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = placeholder
        self.check = check

    async def _on_key(self, event: events.Key) -> None:
        # Both keys are handled here, in the composer's own queue, not through BINDINGS: a non-priority
        # binding runs only after the key has bubbled up to the App, by which time the characters
        # typed after it (already queued here) are in, so "aaa\nbbb" typed fast became "aaabbb\n".
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        """Post :class:`Submitted` with the text and clear; text ``check`` refuses stays, with
        :class:`Refused`; an empty composer does nothing."""
        text = self.text.strip("\n")
        if not text:
            return
        if self.check is not None:
            try:
                self.check(text)
            except InvalidField as exc:
                self.post_message(self.Refused(self, text, exc.message))
                return
        elif not text.strip():
            return
        self.clear()
        self.post_message(self.Submitted(self, text))

    def restore(self, text: str) -> None:
        """Put back a message that could not be sent: as it was if the composer is empty, else above
        what was typed since (which stays, with the cursor where it is)."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)
        else:
            self.insert(text + "\n", (0, 0))

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")
