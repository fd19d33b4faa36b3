"""Length-prefixed framing: a 4-byte big-endian body length, then the body.

The length is checked the moment the header is complete, before any of the body is buffered, so a
peer cannot make us hold more than ``max_frame_size`` + header bytes of one frame.
"""

from __future__ import annotations

import struct

from shared.errors import FrameTooLarge, MalformedFrame
from shared.limits import HEADER_SIZE

_HEADER = struct.Struct(">I")


def frame(body: bytes) -> bytes:
    """Prefix ``body`` with its length."""
    return _HEADER.pack(len(body)) + body


class FrameReader:
    """Collects received bytes and yields complete frame bodies."""

    __slots__ = ("_buffer", "_start", "max_frame_size")

    def __init__(self, max_frame_size: int) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._start = 0  # consumed prefix of _buffer; compacted lazily to keep feeding O(n)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame (a partial frame)."""
        return len(self._buffer) - self._start

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        if self._start and self._start * 2 >= len(self._buffer):
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete frame body, or None if more bytes are needed.

        Raises:
            FrameTooLarge: the header announces more than ``max_frame_size``.
            MalformedFrame: the header announces an empty body.
        """
        if self.buffered < HEADER_SIZE:
            return None
        (length,) = _HEADER.unpack_from(self._buffer, self._start)
        if length > self.max_frame_size:
            raise FrameTooLarge(f"frame of {length} bytes exceeds the limit of {self.max_frame_size}")
        if length == 0:
            raise MalformedFrame("empty frame")
        end = self._start + HEADER_SIZE + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[self._start + HEADER_SIZE : end])
        if end == len(self._buffer):  # all consumed: let go of it, so an idle connection holds no old frames
            self._buffer, self._start = bytearray(), 0
        else:
            self._start = end
        return body
