"""The plain client's stdin splitter on a real pipe."""

from __future__ import annotations

import os

from chat_tui.plain_io import split_lines


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
