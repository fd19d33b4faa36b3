"""AuthPool: password hashing on worker threads, results handed back to the loop thread.

The loop submits HashPassword/VerifyPassword actions; each result is queued and the loop is woken
(through the callable it gives, which writes to its socketpair); the loop then collects the results
on its own thread with :meth:`AuthPool.finished`.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from chat_server import auth
from chat_server.outgoing import HashPassword, VerifyPassword

AuthJob = HashPassword | VerifyPassword
# What a finished job gives: the hash for a HashPassword, whether it matched for a VerifyPassword,
# or the exception if hashing itself failed.
AuthOutcome = str | bool | Exception


class AuthPool:
    """A fixed number of hashing threads; ``wake`` is called (from a worker) after each result."""

    def __init__(self, workers: int, wake: Callable[[], None]) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="auth")
        self._finished: queue.SimpleQueue[tuple[AuthJob, Future[str] | Future[bool]]] = queue.SimpleQueue()
        self._wake = wake

    def submit(self, job: AuthJob) -> None:
        future: Future[str] | Future[bool]
        if isinstance(job, HashPassword):
            future = self._executor.submit(auth.hash_password, job.request.password)
        else:
            future = self._executor.submit(auth.verify_password, job.password, job.stored_hash)

        def done(_: object) -> None:  # on the worker thread: hand over and wake the loop
            self._finished.put((job, future))
            self._wake()

        future.add_done_callback(done)

    def finished(self) -> Iterator[tuple[AuthJob, AuthOutcome]]:
        """The jobs finished since the last call, with their outcomes (on the loop thread)."""
        while not self._finished.empty():
            job, future = self._finished.get_nowait()
            try:
                yield job, future.result()
            except Exception as exc:  # a failed hash must not take the loop down; the client gets an answer
                yield job, exc

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
