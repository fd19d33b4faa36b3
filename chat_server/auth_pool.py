"""AuthPool: password hashing on worker threads, results handed back to the loop thread.

The loop submits HashPassword/VerifyPassword actions; each result is queued and the loop is woken
(through the callable it gives, which writes to its socketpair); the loop then collects the results
on its own thread with :meth:`AuthPool.finished`.
"""

from __future__ import annotations

import ctypes
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from chat_server import auth
from chat_server.outgoing import HashPassword, VerifyPassword

AuthJob = HashPassword | VerifyPassword
# What a finished job gives: the hash for a HashPassword, whether it matched for a VerifyPassword,
# or the exception if hashing itself failed.
AuthOutcome = str | bool | Exception

# glibc's mallopt(M_MMAP_THRESHOLD): blocks from this size up are mapped on their own and unmapped when
# freed. Left alone, glibc raises its threshold to the size of the first large block freed, after
# which every scrypt hash's 16 MiB (auth.SCRYPT_N * SCRYPT_R * 128) stays in the worker's heap for
# good: +16 MiB of RSS per worker (measured). 1 MiB is far above anything else the server allocates.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024


def return_hash_memory_to_the_os() -> bool:
    """Pin glibc's mmap threshold so password hashing leaves no memory behind; False where not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):  # another C library: nothing to tune
        return False


class AuthPool:
    """A fixed number of hashing threads; ``wake`` is called (from a worker) after each result."""

    def __init__(self, workers: int, wake: Callable[[], None]) -> None:
        return_hash_memory_to_the_os()
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
