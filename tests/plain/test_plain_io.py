"""The plain client's stdin splitter on a real pipe, and the drawing of a printed line above the line
being typed on a terminal (checked on a small terminal model)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from chat_tui.plain_io import split_lines
from chat_tui.plain_terminal import TerminalLine, cells, print_above_edit


def test_split_lines_handles_partial_utf8_and_a_last_line_without_newline() -> None:
    read_end, write_end = os.pipe()
    try:
        data = "café\r\n\nnaïve line\nlast".encode()
        os.write(write_end, data[:4])  # ends inside the two bytes of "é"
        os.write(write_end, data[4:] + b"\xff")  # and an undecodable byte at the end
        os.close(write_end)
        assert list(split_lines(read_end, "utf-8")) == ["café\r", "", "naïve line", "last\ufffd"]
    finally:
        os.close(read_end)


class Screen:
    """Just enough of a terminal for the sequences :func:`print_above_edit` writes: text with auto-wrap
    (the cursor waits past the last column until the next character), CR, LF, CUU, CUF and ED."""

    def __init__(self, columns: int, rows: int) -> None:
        self.columns = columns
        self.rows = [[" "] * columns for _ in range(rows)]
        self.row = self.column = 0

    def write(self, data: str) -> None:
        for match in re.finditer(r"\x1b\[(\d*)([ACJ])|(.)", data, re.DOTALL):
            count, command, char = match.groups()
            if command == "A":
                self.row -= int(count or 1)
            elif command == "C":
                self.column = min(self.columns - 1, self.column + int(count or 1))
            elif command == "J":
                self.rows[self.row][self.column :] = [" "] * (self.columns - self.column)
                for row in self.rows[self.row + 1 :]:
                    row[:] = [" "] * self.columns
            else:
                self._char(char)

    def _char(self, char: str) -> None:
        if char == "\r":
            self.column = 0
        elif char == "\n":
            self._down()
        else:
            if self.column == self.columns:  # the wrap waits for a character to print
                self.column = 0
                self._down()
            self.rows[self.row][self.column] = char
            self.column += 1

    def _down(self) -> None:
        self.row += 1
        if self.row == len(self.rows):
            self.rows.append([" "] * self.columns)

    def text(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.rows if "".join(row).strip()]


def drawn_edit(columns: int, prompt: str, buffer: str, point: int) -> Screen:
    """A screen where readline has drawn ``prompt + buffer`` on row 1 (a line above it) with the cursor
    after ``point`` characters."""
    screen = Screen(columns, 2)
    screen.write("earlier line\r\n" + prompt + buffer)
    row, column = divmod(cells(prompt + buffer[:point]), columns)
    screen.row, screen.column = 1 + row, column
    return screen


@pytest.mark.parametrize(
    ("buffer", "point"),
    [
        ("", 0),
        ("half typed", 10),
        ("half typed", 5),
        ("a line that wraps over two rows", 31),  # 2 + 31 cells on 20 columns
        ("a line that wraps over two rows", 3),
        ("exactly eighteen c", 18),  # 2 + 18 = 20 cells: the cursor at the start of the next row
        ("日本語のテキスト", 4),  # wide characters take two cells each
    ],
)
def test_a_line_printed_above_the_edit_leaves_it_and_its_cursor_as_they_were(buffer: str, point: int) -> None:
    columns = 20
    screen = drawn_edit(columns, "> ", buffer, point)
    screen.write(print_above_edit("Bob: hi there", "> ", buffer, point, columns))
    edit = "> " + buffer
    edit_rows = [edit[i : i + columns] for i in range(0, len(edit), columns)] if cells(edit) == len(edit) else None
    shown = screen.text()
    assert shown[:2] == ["earlier line", "Bob: hi there"]
    if edit_rows is not None:
        assert shown[2:] == [row.rstrip() for row in edit_rows]
    first_edit_row = 2
    row, column = divmod(cells("> " + buffer[:point]), columns)
    assert (screen.row, screen.column) == (first_edit_row + row, column)


def test_cells_counts_as_readline_draws() -> None:
    assert cells("abc") == 3
    assert cells("日本") == 4  # wide
    assert cells("e\u0301") == 1  # a combining mark
    assert cells("> a\tb") == 9  # a tab runs to column 8
    assert cells("\x01") == 2  # shown as ^A


def test_pipes_and_in_memory_streams_get_no_line_editor() -> None:
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, closefd=False) as pipe:
            assert TerminalLine.open(pipe) is None
        assert TerminalLine.open(io.StringIO("1\n")) is None
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.fixture
def readline() -> Iterator[ModuleType]:
    """The real readline module with an empty history, emptied again afterwards (it is process-wide)."""
    module = pytest.importorskip("readline")
    module.clear_history()
    yield module
    module.clear_history()


def typed(terminal: TerminalLine, readline: ModuleType, line: str) -> None:
    """What ``TerminalLine.lines`` does with a line ``input()`` returned: input() adds it to the history."""
    readline.add_history(line)
    terminal._keep_history(line)


def history(readline: ModuleType) -> list[str]:
    return [readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1)]


def test_a_line_typed_after_a_password_prompt_stays_out_of_the_history(readline: ModuleType) -> None:
    terminal = TerminalLine(readline, 1)
    typed(terminal, readline, "1")
    terminal.print_above("Please enter the password for the desired chat:")
    typed(terminal, readline, "s3cret")
    terminal.print_above("You have joined the chat with ID 1.")
    typed(terminal, readline, "hello")
    assert history(readline) == ["1", "hello"]


def test_the_history_keeps_only_the_newest_lines(readline: ModuleType) -> None:
    terminal = TerminalLine(readline, 1, history_length=3)
    for line in ("one", "two", "three", "four", "five"):
        typed(terminal, readline, line)
    assert history(readline) == ["three", "four", "five"]
