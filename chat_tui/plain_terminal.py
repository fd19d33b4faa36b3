"""The ``--plain`` client on a terminal: the typed line is edited with the standard ``readline`` (←/→,
Home/End, Ctrl+W, ↑/↓ history…) and a line printed while one is being typed goes above it.

Only used when stdin and stdout are both a terminal (:meth:`TerminalLine.open`); through pipes and
files :mod:`chat_tui.plain_io` reads and prints plain lines. No Textual import here either.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar, TextIO

if TYPE_CHECKING:
    import ctypes

PROMPT = "> "
"""Shown before the line being typed on a terminal, so a printed line never looks typed and back."""
HISTORY_LENGTH = 1000
"""Typed lines that ↑ recalls; older ones are dropped (readline's own history is unbounded)."""
SECRET_PROMPT = re.compile(r"\bpassword\b[^\n]*:\s*$", re.IGNORECASE)
"""A printed line asking for a password: the line typed after it is kept out of the history, so ↑
in a chat never brings a group's password back to be sent by mistake. (A password pasted ahead of its
prompt is not recognised; the plain client asks its questions one line at a time.)"""


class TerminalLine:
    """The line being typed on a terminal, edited with the standard ``readline``, and lines printed above it.

    The reader thread blocks in ``input()`` (which uses readline when stdin and stdout are a terminal);
    a line printed meanwhile clears the edit, prints, and draws the prompt and the partial line again
    with the cursor where it was, so readline's idea of the screen stays true. The draw only reads
    readline's state (the buffer, ``rl_point``, ``rl_readline_state``) and never calls into readline
    from the printing thread. A key handled in the very instant a line is drawn can still leave the
    edit drawn out of place; Ctrl+L (readline's redraw) puts it right.
    """

    current: ClassVar[TerminalLine | None] = None
    """The terminal being read, if any: :class:`LineOutput` prints above its line."""

    def __init__(self, readline: ModuleType, fd: int, *, history_length: int = HISTORY_LENGTH) -> None:
        self._readline = readline
        self._fd = fd
        self._history_length = history_length
        self._library = _LibraryState(readline)
        self._editing = False  # the prompt is on screen: set by readline's pre-input hook
        self._last_printed = ""

    @classmethod
    def open(cls, stream: TextIO) -> TerminalLine | None:
        """A line editor when ``stream`` is the process's stdin, both stdin and stdout are a terminal and
        ``readline`` exists; else None (pipes, files, tests: plain reads)."""
        try:
            interactive = stream is sys.stdin and stream.fileno() == 0 and os.isatty(0) and os.isatty(1)
        except (OSError, AttributeError, ValueError):
            interactive = False
        if not interactive:
            return None
        try:
            import readline  # noqa: PLC0415  # only on a terminal; absent on some platforms
        except ImportError:
            return None
        readline.parse_and_bind("tab: tab-insert")  # Tab types a tab (messages keep it), no completion
        terminal = cls(readline, 1)
        readline.set_pre_input_hook(terminal._prompt_shown)
        terminal._restore_at_exit()
        cls.current = terminal
        return terminal

    def lines(self) -> Iterator[str]:
        """Typed lines, each read with line editing, until end of input (Ctrl+D on an empty line)."""
        while True:
            try:
                line = input(PROMPT)
            except EOFError:
                return
            finally:
                self._editing = False
            self._keep_history(line)
            yield line

    def shows_on(self, stream: TextIO) -> bool:
        """Whether ``stream`` writes to this terminal, so a printed line must go above the edit."""
        try:
            return stream.fileno() == self._fd
        except (OSError, AttributeError, ValueError):
            return False

    def print_above(self, text: str) -> str:
        """What to write for one printed line: above the line being typed, if one is on screen."""
        self._last_printed = text
        if not (self._editing and self._library.reading()):
            return text + "\n"
        buffer = self._readline.get_line_buffer()
        point = self._library.cursor(buffer)
        try:
            columns = max(1, os.get_terminal_size(self._fd).columns)
        except OSError:  # no longer a terminal: nothing to draw again
            return text + "\n"
        return print_above_edit(text, PROMPT, buffer, point, columns)

    def _prompt_shown(self) -> None:
        self._editing = True

    def _restore_at_exit(self) -> None:
        """At exit, put the terminal's modes back and erase a prompt left on screen: the reader thread
        may still be inside readline (which set the terminal to raw mode) when the process ends, after
        the menu's Exit, an error or Ctrl+C."""
        try:
            import termios  # noqa: PLC0415  # POSIX only, and only needed on a terminal
        except ImportError:
            return
        try:
            modes = termios.tcgetattr(0)
        except termios.error:
            return

        def restore() -> None:
            with contextlib.suppress(OSError, termios.error):  # the terminal is gone
                termios.tcsetattr(0, termios.TCSADRAIN, modes)
                if self._editing:
                    os.write(self._fd, b"\r\x1b[K")

        atexit.register(restore)

    def _keep_history(self, line: str) -> None:
        """Called with each line ``input()`` returned (it added the line to readline's history)."""
        readline = self._readline
        length = readline.get_current_history_length()
        if length and line.strip() and SECRET_PROMPT.search(self._last_printed):
            readline.remove_history_item(length - 1)  # input() added it; a password stays out
            length -= 1
        while length > self._history_length:
            readline.remove_history_item(0)
            length -= 1


def print_above_edit(text: str, prompt: str, buffer: str, point: int, columns: int) -> str:
    """Terminal output that prints ``text`` above the line being edited and puts the edit back as it was.

    The edit (``prompt + buffer``, cursor after ``point`` characters) may wrap over several rows of
    ``columns`` cells: go up to its first row, clear to the end of the screen, print the line, draw the
    edit again and move the cursor back to the row and column readline believes it is at.
    """
    cursor_row, cursor_column = divmod(cells(prompt + buffer[:point]), columns)
    # "\r\n", not "\n": the line must start at column 0 whatever the terminal's output modes are.
    out = [f"\x1b[{cursor_row}A" if cursor_row else "", "\r\x1b[J", text, "\r\n", prompt, buffer]
    end = cells(prompt + buffer)
    end_row = end // columns
    if end and end % columns == 0:
        out.append(" \r")  # the cursor waits past the last column: step onto the next row, as readline does
    if end_row > cursor_row:
        out.append(f"\x1b[{end_row - cursor_row}A")
    out.append("\r" + (f"\x1b[{cursor_column}C" if cursor_column else ""))
    return "".join(out)


def cells(text: str) -> int:
    """Terminal cells ``text`` takes as readline draws it from the start of a row: a tab runs to the next
    multiple of 8, another control character shows as ``^X`` (two cells), a wide East Asian character
    takes two and a combining mark none."""
    width = 0
    for char in text:
        if char == "\t":
            width += 8 - width % 8
        elif char < " " or char == "\x7f":
            width += 2
        elif not unicodedata.combining(char):
            width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


RL_STATE_CALLBACK = 0x0080000
"""GNU readline's ``rl_readline_state`` bit for "a line is being read" (readline.h); Python's line
handler clears it the moment a line is accepted, before ``input()`` returns."""


class _LibraryState:
    """The two facts the ``readline`` module does not expose, read from the library it links (GNU
    readline; libedit has the same names): the cursor position and whether a line is being read.

    Either is None where the library does not export it: the cursor is then taken to be at the end of
    the line, and a line to be read while ``input()`` runs.
    """

    def __init__(self, readline: ModuleType) -> None:
        import ctypes  # noqa: PLC0415  # only on a terminal: pipes never pay for it

        self.point: ctypes.c_int | None = None
        self.state: ctypes.c_ulong | None = None
        try:
            library = ctypes.CDLL(readline.__file__)
        except (OSError, AttributeError, TypeError):
            return
        with contextlib.suppress(ValueError):
            self.point = ctypes.c_int.in_dll(library, "rl_point")
        with contextlib.suppress(ValueError):
            self.state = ctypes.c_ulong.in_dll(library, "rl_readline_state")

    def reading(self) -> bool:
        """False once the line has been accepted (its newline is on screen), though ``input()`` has not
        returned yet: a line printed then must not draw the accepted line again."""
        return self.state is None or bool(self.state.value & RL_STATE_CALLBACK)

    def cursor(self, buffer: str) -> int:
        """Characters of ``buffer`` before the cursor (``rl_point`` counts bytes of the encoded line)."""
        if self.point is None:
            return len(buffer)
        encoding = sys.stdin.encoding or "utf-8"
        head = buffer.encode(encoding, "replace")[: max(0, self.point.value)]
        return min(len(buffer), len(head.decode(encoding, "ignore")))
