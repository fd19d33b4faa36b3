"""StoreWorker: a shared store's calls (Redis round trips) on one thread, results handed back to the loop.

One thread, first in first out: the calls a loop turn makes reach the store in that order, and
their results come back in it, so a history page asked after a commit sees that commit's messages.
The loop is woken through the callable it gives (its wake-up socketpair), as with the hashing pool.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any

from chat_server.outgoing import StoreCall
from chat_server.store import StoreError

log = logging.getLogger("chat_server")

Outcome = Any  # what the work returned, or the StoreError it raised


def run(call: StoreCall) -> Outcome:
    """Run a call's work and give back what it returned or the StoreError it raised.

    Any other exception is a bug in the work; it is logged and turned into a StoreError so the
    ``then`` side always gets an answer and the request waiting for it is answered.
    """
    try:
        return call.work()
    except StoreError as exc:
        return exc
    except Exception as exc:
        log.exception("internal error in a store call")
        return StoreError(f"internal error: {exc!r}")


class StoreWorker:
    """A daemon thread running :class:`StoreCall` work in order; ``wake`` is called after each result."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._jobs: queue.SimpleQueue[StoreCall | None] = queue.SimpleQueue()
        self._finished: queue.SimpleQueue[tuple[StoreCall, Outcome]] = queue.SimpleQueue()
        self._wake = wake
        self._in_flight = 0  # submitted, not yet collected (loop thread only)
        self._ready: deque[tuple[StoreCall, Outcome]] = deque()  # taken off the queue by wait()
        self._waits: Counter[int] = Counter()  # calls in flight per client whose request waits for them
        self._thread = threading.Thread(target=self._run, name="store", daemon=True)
        self._thread.start()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def waits(self, client_id: int) -> bool:
        """Whether a request of this client waits for a call in flight (its next request waits too)."""
        return client_id in self._waits

    def submit(self, call: StoreCall) -> None:
        self._in_flight += 1
        if call.client_id is not None:
            self._waits[call.client_id] += 1
        self._jobs.put(call)

    def finished(self) -> Iterator[tuple[StoreCall, Outcome]]:
        """The calls finished since the last call, with their outcomes, in order (on the loop thread)."""
        while True:
            if self._ready:
                done = self._ready.popleft()
            else:
                try:
                    done = self._finished.get_nowait()
                except queue.Empty:
                    return
            self._in_flight -= 1
            if (client_id := done[0].client_id) is not None:
                self._waits[client_id] -= 1
                if self._waits[client_id] <= 0:
                    del self._waits[client_id]
            yield done

    def wait(self, timeout: float) -> bool:
        """Block until a result is ready or ``timeout`` passes (shutdown only); whether one is ready."""
        if self._ready:
            return True
        try:
            self._ready.append(self._finished.get(timeout=timeout))
        except queue.Empty:
            return False
        return True

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while (call := self._jobs.get()) is not None:
            self._finished.put((call, run(call)))
            self._wake()
