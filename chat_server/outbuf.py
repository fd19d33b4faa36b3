"""OutputBuffer: bytes waiting to go to one client, written with as few syscalls as possible."""

from __future__ import annotations

import socket
import ssl
from collections import deque
from itertools import islice

# sendmsg() takes at most IOV_MAX (1024 on Linux) buffers; 64 keeps each call cheap.
_MAX_IOVECS = 64
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

    def __init__(self) -> None:
        self._chunks: deque[bytes | bytearray | memoryview] = deque()
        self._tail: bytearray | None = None  # the last chunk, if it is ours to extend
        self.size = 0
        # Bulk runs as [start, end) offsets in the stream of every byte ever appended; runs queued back
        # to back are merged, so there are few. ``_written`` is the stream offset already sent.
        self._bulk_runs: deque[list[int]] = deque()
        self._bulk = 0
        self._written = 0

    def __len__(self) -> int:
        return self.size

    @property
    def live(self) -> int:
        """Pending bytes that are not bulk: what a slow consumer is judged by."""
        return self.size - self._bulk

    def append(self, data: bytes, *, bulk: bool = False) -> None:
        size = len(data)
        if not size:
            return
        if bulk:
            self._add_bulk_run(self._written + self.size, size)
        self.size += size
        if size < _COPY_BELOW:
            tail = self._tail
            if tail is None or len(tail) + size > _TAIL_SIZE:
                tail = self._tail = bytearray()
                self._chunks.append(tail)
            tail += data
        else:
            self._tail = None
            self._chunks.append(data)

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
        while self._chunks and sent_total < budget:
            self._tail = None  # a chunk handed to the kernel may be partly sent: never extend it again
            try:
                sent = sock.sendmsg(list(islice(self._chunks, _MAX_IOVECS))) if vectored else sock.send(self._chunks[0])
            except not_now:
                break
            sent_total += sent
            self._consume(sent)
            if sent == 0:
                break
        return sent_total

    def clear(self) -> None:
        """Forget everything pending (the client is being dropped)."""
        self._chunks.clear()
        self._tail = None
        self._written += self.size
        self.size = 0
        self._bulk_runs.clear()
        self._bulk = 0

    def _add_bulk_run(self, start: int, size: int) -> None:
        self._bulk += size
        if self._bulk_runs and self._bulk_runs[-1][1] == start:
            self._bulk_runs[-1][1] += size
        else:
            self._bulk_runs.append([start, start + size])

    def _forget_bulk_sent(self, written: int) -> None:
        """Bulk bytes below stream offset ``written`` have been sent: stop counting them."""
        runs = self._bulk_runs
        while runs and runs[0][0] < written:
            start, end = runs[0]
            self._bulk -= min(end, written) - start
            if end <= written:
                runs.popleft()
            else:
                runs[0][0] = written

    def _consume(self, count: int) -> None:
        self.size -= count
        self._written += count
        if self._bulk_runs:
            self._forget_bulk_sent(self._written)
        while count:
            head = self._chunks[0]
            if len(head) <= count:
                count -= len(head)
                self._chunks.popleft()
            else:
                self._chunks[0] = memoryview(head)[count:]
                count = 0
