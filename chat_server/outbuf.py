"""OutputBuffer: bytes waiting to go to one client, written with as few syscalls as possible."""

from __future__ import annotations

import socket
from collections import deque
from itertools import islice

# sendmsg() takes at most IOV_MAX (1024 on Linux) buffers; 64 keeps each call cheap.
_MAX_IOVECS = 64


class OutputBuffer:
    """A queue of frames shared by reference: a broadcast appends the same bytes object to many buffers."""

    def __init__(self) -> None:
        self._chunks: deque[memoryview] = deque()
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, data: bytes) -> None:
        if data:
            self._chunks.append(memoryview(data))
            self.size += len(data)

    def write_to(self, sock: socket.socket, budget: int) -> int:
        """Send up to ``budget`` bytes without blocking; return how many were sent.

        Raises:
            OSError: the peer is gone (other than EAGAIN, which just stops the write).
        """
        sent_total = 0
        while self._chunks and sent_total < budget:
            try:
                sent = sock.sendmsg(list(islice(self._chunks, _MAX_IOVECS)))
            except (BlockingIOError, InterruptedError):
                break
            sent_total += sent
            self._consume(sent)
            if sent == 0:
                break
        return sent_total

    def _consume(self, count: int) -> None:
        self.size -= count
        while count:
            head = self._chunks[0]
            if len(head) <= count:
                count -= len(head)
                self._chunks.popleft()
            else:
                self._chunks[0] = head[count:]
                count = 0
