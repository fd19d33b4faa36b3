"""One server per database file: an exclusive advisory lock on ``<db>.lock``, held while the store is open.

Two servers on one file would hand out the same seqs and refuse each other's posts (issue 8, item 6).
SQLite's own locks cannot say *who* holds a file and are released between transactions, so the store
takes a ``flock`` on a side file first and writes its PID there for the refusal message. The kernel
drops a ``flock`` when its holder exits, even by kill -9, so a stale lock file never blocks a restart;
the file is therefore left in place on close (removing it would race a server opening it).
``flock`` is POSIX (Linux, macOS), where the server runs; like WAL, it is not for network file systems.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from chat_server.store.base import StoreError, StoreLocked


class FileLock:
    """An exclusive ``flock`` on ``path``, taken at once or refused with :class:`StoreLocked`.

    Args:
        path: the lock file, created if missing.
        what: the file the lock protects, as named in the refusal.

    Raises:
        StoreLocked: another process (or another open store in this one) holds the lock.
        StoreError: the lock file cannot be created or written.
    """

    def __init__(self, path: Path, what: Path) -> None:
        self.path = path
        try:
            self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create lock file {path}: {exc.strerror}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # NB: a second server must not wait
        except BlockingIOError:
            holder = self._read_holder()
            self.release()
            raise StoreLocked(f"{what} is in use by another chat-server (pid {holder})") from None
        except OSError as exc:
            self.release()
            raise StoreError(f"cannot lock {path}: {exc.strerror}") from exc
        # Written only once the lock is ours, so the PID in the file is always the holder's.
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            self.release()
            raise StoreError(f"cannot write lock file {path}: {exc.strerror}") from exc

    def _read_holder(self) -> str:
        """The holder's PID as written in the file; "unknown" if it has not written it yet."""
        assert self._fd is not None
        text = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip()
        return text if text.isdigit() else "unknown"

    def release(self) -> None:
        """Drop the lock; another server may now open the store. Safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None
