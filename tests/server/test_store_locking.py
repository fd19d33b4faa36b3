"""Locks: one server per database file (item 6), and a lock held elsewhere never makes the loop wait (item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_server.store import SqliteStore, StoreBusy, StoredMessage, StoreError, StoreLocked

# Another process takes SQLite's write lock, says so, and keeps it until its stdin closes.
_HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


class WriteLockHolder:
    """Another process holding the write lock of an SQLite file until :meth:`release`."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD_WRITE_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == "locked\n"

    def release(self) -> None:
        if self.process.returncode is None:
            self.process.communicate(timeout=10)  # closes its stdin: it rolls back and exits


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "chat.db")
    yield opened
    opened.close()


@pytest.fixture
def lock_holder(store: SqliteStore, tmp_path: Path) -> Iterator[WriteLockHolder]:
    holder = WriteLockHolder(tmp_path / "chat.db")
    yield holder
    holder.release()


def test_a_second_store_on_one_file_is_refused_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "chat.db")
    with pytest.raises(StoreLocked) as refused:
        SqliteStore(tmp_path / "chat.db")
    db = tmp_path.resolve() / "chat.db"
    assert str(refused.value) == f"{db} is in use by another chat-server (pid {os.getpid()})"
    assert isinstance(refused.value, StoreError)  # so chat-server says "cannot start: ..."
    assert (tmp_path / "chat.db.lock").read_text() == f"{os.getpid()}\n"
    first.close()
    SqliteStore(tmp_path / "chat.db").close()  # released on close


def test_the_lock_follows_the_file_not_the_spelling_of_its_path(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "data")
    first = SqliteStore(tmp_path / "data" / "chat.db")
    try:
        with pytest.raises(StoreLocked):
            SqliteStore(tmp_path / "alias" / ".." / "data" / ".." / "alias" / "chat.db")
    finally:
        first.close()


def test_a_write_meeting_another_process_lock_raises_store_busy_and_stores_nothing(
    store: SqliteStore, lock_holder: WriteLockHolder
) -> None:
    with pytest.raises(StoreBusy):
        store.create_group("team", "team", "hash", 0)
    assert store.load_groups() == []  # reads go on (WAL readers never wait for the writer)
    assert len(store.server_secret()) == 32  # read at open: never needs the lock
    lock_holder.release()
    assert store.create_group("team", "team", "hash", 0) == 1


def test_a_batch_meeting_the_lock_is_refused_whole_and_stored_on_a_later_try(
    store: SqliteStore, tmp_path: Path
) -> None:
    store.create_group("team", "team", "hash", 0)
    batch = [StoredMessage(1, seq, seq, "Ann", f"m{seq}", f"id-{seq}") for seq in (1, 2, 3)]
    holder = WriteLockHolder(tmp_path / "chat.db")
    try:
        with pytest.raises(StoreBusy, match="another process holds the database lock"):
            store.append(batch)
        assert store.messages_after(1, 0, 10) == []
    finally:
        holder.release()
    store.append(batch)  # the next turn's retry
    assert store.messages_after(1, 0, 10) == batch
