"""OutputBuffer: bytes waiting to go to one client, written with as few syscalls as possible."""

from __future__ import annotations

import os
import socket
import ssl
from collections import deque
from itertools import islice

# sendmsg() takes at most IOV_MAX buffers (1024 on Linux): a client that fell a few turns behind gets
# all its queued chunks in one call.
_MAX_IOVECS = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16
# Frames smaller than this are copied into a shared tail chunk instead of queued one by one (redis keeps
# a 16 KiB per-client buffer for the same reason): copying 60 bytes is cheaper than one more object,
# and the socket gets fewer, larger writes. Larger frames (big broadcasts) are queued by reference.
_COPY_BELOW = 512
_TAIL_SIZE = 16 * 1024


class OutputBuffer:
    """A queue of byte chunks; a broadcast's large frame is shared by reference between many buffers.

    Bytes appended as ``bulk`` (a catch-up replay, history and member-list pages: replies the server
    streams as the socket drains) are counted apart, so slow-consumer limits can look at :attr:`live`.
    """

    __slots__ = ("_bulk", "_bulk_runs", "_chunks", "_tail", "_written", "size")

    def __init__(self) -> None:
        # The deques are made on first use and dropped once empty: an empty deque is 760 bytes, and
        # most connections are idle most of the time (issue 11: 2 KiB per idle member).
        self._chunks: deque[bytes | bytearray | memoryview] | None = None
        self._tail: bytearray | None = None  # the last chunk, if it is ours to extend
        self.size = 0
        # Bulk runs as [start, end) offsets in the stream of every byte ever appended; runs queued back
        # to back are merged, so there are few. ``_written`` is the stream offset already sent.
        self._bulk_runs: deque[list[int]] | None = None
        self._bulk = 0
        self._written = 0

    def __len__(self) -> int:
        return self.size

    @property
    def live(self) -> int:
        """Pending bytes that are not bulk: what a slow consumer is judged by."""
        return self.size - self._bulk

    def append(self, data: bytes | memoryview, *, bulk: bool = False) -> None:
        size = len(data)
        if not size:
            return
        if bulk:
            self._add_bulk_run(self._written + self.size, size)
        self.size += size
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = deque()
        if size < _COPY_BELOW:
            tail = self._tail
            if tail is None or len(tail) + size > _TAIL_SIZE:
                tail = self._tail = bytearray()
                chunks.append(tail)
            tail += data
        else:
            self._tail = None
            chunks.append(data)

    def write_to(self, sock: socket.socket, budget: int, not_now: tuple[type[BaseException], ...]) -> int:
        """Send up to about ``budget`` bytes without blocking; return how many were sent.

        Plain sockets get up to 64 chunks per ``sendmsg`` call; TLS sockets have no ``sendmsg`` and get
        one ``send`` per chunk (a retried TLS write offers the same bytes again: the unsent head stays
        at the front). An exception in ``not_now`` just ends the write until the next readiness.

        Raises:
            OSError: the peer is gone.
        """
        vectored = not isinstance(sock, ssl.SSLSocket)
        sent_total = 0
        while (chunks := self._chunks) and sent_total < budget:
            self._tail = None  # a chunk handed to the kernel may be partly sent: never extend it again
            try:
                sent = sock.sendmsg(list(islice(chunks, _MAX_IOVECS))) if vectored else sock.send(chunks[0])
            except not_now:
                break
            sent_total += sent
            self._consume(sent)
            if sent == 0:
                break
        return sent_total

    def clear(self) -> None:
        """Forget everything pending (the client is being dropped)."""
        self._chunks = None
        self._tail = None
        self._written += self.size
        self.size = 0
        self._bulk_runs = None
        self._bulk = 0

    def _add_bulk_run(self, start: int, size: int) -> None:
        self._bulk += size
        runs = self._bulk_runs
        if runs is None:
            runs = self._bulk_runs = deque()
        if runs and runs[-1][1] == start:
            runs[-1][1] += size
        else:
            runs.append([start, start + size])

    def _forget_bulk_sent(self, runs: deque[list[int]], written: int) -> None:
        """Bulk bytes below stream offset ``written`` have been sent: stop counting them."""
        while runs and runs[0][0] < written:
            start, end = runs[0]
            self._bulk -= min(end, written) - start
            if end <= written:
                runs.popleft()
            else:
                runs[0][0] = written
        if not runs:
            self._bulk_runs = None

    def _consume(self, count: int) -> None:
        self.size -= count
        self._written += count
        if self._bulk_runs:
            self._forget_bulk_sent(self._bulk_runs, self._written)
        chunks = self._chunks
        assert chunks is not None  # count > 0 bytes were sent from it
        while count:
            head = chunks[0]
            if len(head) <= count:
                count -= len(head)
                chunks.popleft()
            else:
                chunks[0] = memoryview(head)[count:]  # the unsent rest, without copying it
                count = 0
        if not chunks:
            self._chunks = None
