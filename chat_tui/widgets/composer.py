"""Composer: the chat input line, a TextArea so a pasted multi-line message stays whole."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea


class Composer(TextArea):
    """A TextArea where Enter sends and Alt+Enter (or Ctrl+J) inserts a newline.

    ``Input`` would keep only the first line of a paste (notes/tui.md §0.5).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown in the footer; the key itself is intercepted in _on_key, before TextArea inserts "\n".
        Binding("enter", "submit", "Send"),
        Binding("alt+enter,ctrl+j", "newline", "New line", show=False),
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

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = placeholder

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        """Post :class:`Submitted` with the text and clear, unless it is blank."""
        text = self.text.strip("\n")
        if not text.strip():
            return
        self.clear()
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")
