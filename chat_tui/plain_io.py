"""Terminal-side plumbing of the ``--plain`` client: stdin lines onto the event loop, safe lines out.

Kept apart from :mod:`chat_tui.plain` (the menu and chat logic) because it is about file descriptors
and threads, not about the protocol. No Textual import here either.

When stdin and stdout are both a terminal, typed lines are read with the standard library's
``readline`` (line editing, ↑/↓ history) and every printed line goes above the line being typed
(:mod:`chat_tui.plain_terminal`). Through pipes and files nothing of that happens: the transcript is
exactly the lines printed.
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TextIO

from chat_tui.plain_terminal import TerminalLine
from chat_tui.sanitize import sanitize

READ_CHUNK = 64 * 1024

# Everything str.splitlines() splits on: a script reading our output line by line must see exactly
# one line per event, so each of these becomes a visible mark instead.
_LINE_BREAKS = str.maketrans(dict.fromkeys("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "↵"))

Deliver = Callable[[str | None], Coroutine[Any, Any, None]]
"""Puts one stdin line (None at end of input) on the loop's side, waiting while the consumer is full."""


class OutputClosed(Exception):
    """Stdout is gone (a closed pipe): nobody can read us any more."""


def printable(text: str) -> str:
    """``text`` as the plain client prints it: one line, no terminal controls (tab survives).

    Line breaks become ``↵``; the rest goes through :func:`chat_tui.sanitize.sanitize`, which turns
    ESC, other C0 controls, DEL, C1 controls and bidi overrides/isolates into visible placeholders.
    """
    return sanitize(text.translate(_LINE_BREAKS))


class LineOutput:
    """Writes whole lines, each flushed at once so a reader on a pipe sees it without delay."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def line(self, text: str) -> None:
        """Print one line of possibly hostile text.

        Raises:
            OutputClosed: stdout cannot be written any more.
        """
        text = printable(text)
        terminal = TerminalLine.current
        if terminal is not None and terminal.shows_on(self._stream):
            text = terminal.print_above(text)  # the line being typed is drawn again below it
        else:
            text += "\n"
        try:
            try:
                self._stream.write(text)
            except UnicodeEncodeError:  # e.g. an ASCII-only locale: show '?' rather than crash
                encoding = getattr(self._stream, "encoding", None) or "ascii"
                self._stream.write(text.encode(encoding, "replace").decode(encoding))
            self._stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            raise OutputClosed from exc

    def error(self, message: str) -> None:
        """Print the one ``Error:`` line for a failure."""
        self.line(f"Error: {message}")

    def silence(self) -> None:
        """Point a broken stdout at /dev/null so the interpreter's final flush cannot fail loudly."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass  # no descriptor to redirect: nothing will be flushed to one either


class StdinReader:
    """Reads stdin on a daemon thread and delivers each line, then None, to the running loop.

    A thread works alike for a tty, a pipe and a regular file; ``connect_read_pipe`` refuses regular
    files and would set O_NONBLOCK on a tty the shell shares with us. It reads the raw descriptor
    with ``os.read`` so a read still blocked at exit holds no lock the interpreter needs.

    Args:
        stream: stdin; one without a descriptor (StringIO) is read with ``readline``.
        deliver: a coroutine function run on the loop for each line, e.g. a bounded queue's ``put``,
            so a fast producer (``cat big.txt |``) waits instead of filling memory.
    """

    def __init__(self, stream: TextIO, deliver: Deliver) -> None:
        self._stream = stream
        self._deliver_on_loop = deliver
        self._loop = asyncio.get_running_loop()

    def start(self) -> None:
        """Start the thread; it ends at end of input or when the loop is gone."""
        threading.Thread(target=self._pump, name="plain-stdin", daemon=True).start()

    def _pump(self) -> None:
        try:
            for line in self._lines():
                if not self._deliver(line.removesuffix("\r")):
                    return
        except (OSError, ValueError):
            pass  # an unreadable or closed stdin is the end of input
        self._deliver(None)

    def _deliver(self, item: str | None) -> bool:
        delivery = self._deliver_on_loop(item)
        try:
            asyncio.run_coroutine_threadsafe(delivery, self._loop).result()
        except RuntimeError:  # the loop is closed: nobody wants more input
            delivery.close()  # never scheduled; closing it spares a "never awaited" warning
            return False
        except concurrent.futures.CancelledError:
            return False  # the loop is shutting down
        return True

    def _lines(self) -> Iterator[str]:
        terminal = TerminalLine.open(self._stream)
        if terminal is not None:
            yield from terminal.lines()
            return
        try:
            fd = self._stream.fileno()
        except (OSError, AttributeError, ValueError):
            fd = None  # an in-memory stream (tests, embedding): its readline takes no shared lock
        if fd is None:
            while line := self._stream.readline():
                yield line.removesuffix("\n")
            return
        yield from split_lines(fd, getattr(self._stream, "encoding", None) or "utf-8")


def split_lines(fd: int, encoding: str) -> Iterator[str]:
    """Lines (without ``\\n``) read from ``fd`` until end of file; undecodable bytes become U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    partial: list[str] = []  # pieces of the unfinished line: joined once, so long lines stay O(n)
    while chunk := os.read(fd, READ_CHUNK):
        *complete, rest = decoder.decode(chunk).split("\n")
        if complete:
            yield "".join([*partial, complete[0]])
            yield from complete[1:]
            partial = []
        partial.append(rest)
    last = "".join([*partial, decoder.decode(b"", final=True)])
    if last:
        yield last  # a last line without a newline still counts
