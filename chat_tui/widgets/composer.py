"""Composer: the chat input line, a TextArea so a pasted multi-line message stays whole."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from chat_tui.commands import complete
from shared import InvalidField

NEWLINE_KEYS = ("ctrl+j", "alt+enter", "shift+enter")
"""Keys that insert a line break. Ctrl+J is the LF byte, so it works in every terminal, and a terminal
sends it for a scripted newline (``tmux send-keys -l $'a\\nb'``), which must land where it was typed.
Alt+Enter and Shift+Enter arrive only from terminals that report them apart from Enter (the kitty
keyboard protocol): in xterm and tmux, Textual 8.2.8 reads ESC CR as a plain Enter."""

HISTORY_SIZE = 100
"""Lines each composer remembers for Up/Down (irssi's ``max_command_history`` is 100 too)."""
PASTE_ASK_LINES = 10
"""A paste of more lines than this asks first (weechat asks from ``paste_max_lines``): one slip of the
clipboard would otherwise put a whole file in front of the group."""

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

    class PasteAsked(Message):
        """A paste of more than :data:`PASTE_ASK_LINES` lines, held back: call :meth:`Composer.paste` to
        put it in after the user agrees."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.lines = text.count("\n") + 1

        @property
        def control(self) -> Composer:
            """The composer the paste was for."""
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

    def __init__(
        self,
        *,
        id: str | None = None,
        placeholder: str = "",
        check: TextCheck | None = None,
        names: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = placeholder
        self.check = check
        self.names = names
        """Who Tab completes (the group's members); None completes commands only."""
        self.sent = InputHistory()
        self._completion: Completion | None = None

    async def _on_key(self, event: events.Key) -> None:
        # Both keys are handled here, in the composer's own queue, not through BINDINGS: a non-priority
        # binding runs only after the key has bubbled up to the App, by which time the characters
        # typed after it (already queued here) are in, so "aaa\nbbb" typed fast became "aaabbb\n".
        completion, self._completion = self._completion, None
        handled = False
        if event.key == "enter":
            self.action_submit()
            handled = True
        elif event.key == "tab":
            handled = self._complete(completion)
        elif event.key == "up" and self.cursor_at_first_line:
            handled = self._recall(self.sent.older(self.text))
        elif event.key == "down" and self.cursor_at_last_line:
            handled = self._recall(self.sent.newer())
        if handled:
            event.stop()
            event.prevent_default()
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
        self.sent.add(text)
        self.post_message(self.Submitted(self, text))

    def restore(self, text: str) -> None:
        """Put back a message that could not be sent: as it was if the composer is empty, else above
        what was typed since (which stays, with the cursor where it is)."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)
        else:
            self.insert(text + "\n", (0, 0))

    async def _on_paste(self, event: events.Paste) -> None:
        # Textual runs TextArea's own _on_paste after this one (each class's handler in turn) unless
        # prevented: a short paste is left to it.
        if event.text.count("\n") + 1 > PASTE_ASK_LINES:
            event.stop()
            event.prevent_default()
            self.post_message(self.PasteAsked(self, event.text))

    def paste(self, text: str) -> None:
        """Insert ``text`` at the cursor as a paste would (after the user agreed to a long one)."""
        self.insert(text)
        self.focus()

    def _recall(self, text: str | None) -> bool:
        """Show a line from the history (None: there is none further that way)."""
        if text is None:
            return False
        self.load_text(text)
        self.move_cursor(self.document.end)
        return True

    def _complete(self, previous: Completion | None) -> bool:
        """Tab: complete the word before the cursor (a command at the start, else a member's name);
        Tab again cycles through the other candidates. False when there is nothing to complete."""
        row, column = self.cursor_location
        completion: Completion | None
        if previous is not None and previous.row == row and previous.end == column:
            completion = previous.next()
        else:
            names = list(self.names()) if self.names is not None else []
            completion = Completion.for_word(self.document[row][:column], row, names)
        if completion is None:
            return False
        start = (row, completion.start)
        self.replace(completion.text, start, (row, column))
        self._completion = completion.moved(completion.start + len(completion.text))
        return True

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")


class InputHistory:
    """What was sent from one composer, newest last, walked with Up/Down; the draft comes back at the end."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._lines: deque[str] = deque(maxlen=size)
        self._at: int | None = None  # index into _lines while walking; None: at the draft
        self._draft = ""

    def add(self, line: str) -> None:
        """Remember a sent line (the same line twice in a row is kept once); the walk starts again."""
        if not self._lines or self._lines[-1] != line:
            self._lines.append(line)
        self._at = None

    def older(self, current: str) -> str | None:
        """The line before the one shown (from the draft ``current``: the newest), or None."""
        if self._at is None:
            if not self._lines:
                return None
            self._draft, self._at = current, len(self._lines)
        if self._at == 0:
            return None
        self._at -= 1
        return self._lines[self._at]

    def newer(self) -> str | None:
        """The line after the one shown, the draft after the newest, or None when at the draft."""
        if self._at is None:
            return None
        self._at += 1
        if self._at >= len(self._lines):
            self._at = None
            return self._draft
        return self._lines[self._at]


@dataclass(frozen=True, slots=True)
class Completion:
    """A Tab completion in progress: the candidates for the word at ``start`` and which one is shown."""

    row: int
    start: int
    candidates: tuple[str, ...]
    index: int = 0
    end: int = 0

    @property
    def text(self) -> str:
        """The candidate shown."""
        return self.candidates[self.index]

    @classmethod
    def for_word(cls, before: str, row: int, names: list[str]) -> Completion | None:
        """The completions of the word ending ``before`` (the line up to the cursor), or None."""
        begin = len(before) - len(before.rsplit(" ", maxsplit=1)[-1])
        word = before[begin:]
        first = row == 0 and begin == 0
        if first and word.startswith("/"):
            found = [f"{name} " for name in complete(word)]
        else:
            bare = word.removeprefix("@")
            wanted = bare.casefold()
            after = ": " if first and not word.startswith("@") else " "
            found = [
                f"{word[: len(word) - len(bare)]}{name}{after}"
                for name in sorted(names, key=str.casefold)
                if wanted and name.casefold().startswith(wanted)
            ]
        return cls(row, begin, tuple(found)) if found else None

    def next(self) -> Completion:
        """The next candidate, round the end."""
        return replace(self, index=(self.index + 1) % len(self.candidates))

    def moved(self, end: int) -> Completion:
        """The same, with the cursor after the inserted text at ``end``."""
        return replace(self, end=end)
