"""The embedded default store: one SQLite file in WAL mode, schema versioned by ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chat_server.store.base import GroupRecord, StoredMessage, StoreError

# Each entry upgrades the schema from version i to i + 1; a database is brought up to the newest on
# open, inside one transaction per step. Never edit a released step: add a new one.
MIGRATIONS: list[str] = [
    # 1: groups and their message logs.
    """
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an id is never reused, even after a delete
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_ts INTEGER NOT NULL
    );
    CREATE TABLE messages (
        group_id INTEGER NOT NULL REFERENCES groups(id),
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (group_id, seq)
    ) WITHOUT ROWID;
    """,
    # 2: client message ids, so a resend after a reconnect is stored once.
    """
    ALTER TABLE messages ADD COLUMN client_msg_id TEXT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages (group_id, sender, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
SYNC_MODES = ("normal", "full")


class SqliteStore:
    """Implements :class:`chat_server.store.base.Store` on one SQLite database file.

    Args:
        path: the database file; its directory is created if missing.
        sync: ``normal`` (a commit survives a crash of this process) or ``full`` (also a power loss).
    """

    def __init__(self, path: Path, sync: str = "normal") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}")
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per batch.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync.upper()}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {version}; this server knows up to {SCHEMA_VERSION}")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={target}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def load_groups(self) -> list[GroupRecord]:
        rows = self._db.execute(
            "SELECT g.id, g.name, g.password_hash, COALESCE(MAX(m.seq), 0)"
            " FROM groups g LEFT JOIN messages m ON m.group_id = g.id GROUP BY g.id ORDER BY g.id"
        ).fetchall()
        return [GroupRecord(*row) for row in rows]

    def create_group(self, name: str, name_key: str, password_hash: str, ts: int) -> int:
        try:
            cursor = self._db.execute(
                "INSERT INTO groups (name, name_key, password_hash, created_ts) VALUES (?, ?, ?, ?)",
                (name, name_key, password_hash, ts),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create group {name!r}: {exc}") from exc
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def append(self, messages: list[StoredMessage]) -> None:
        rows = [(m.group_id, m.seq, m.ts, m.sender, m.text, m.client_msg_id) for m in messages]
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO messages (group_id, seq, ts, sender, text, client_msg_id) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"cannot store {len(rows)} message(s): {exc}") from exc

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT group_id, seq, ts, sender, text, client_msg_id FROM messages"
            " WHERE group_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (group_id, before_seq, limit),
        ).fetchall()
        return [StoredMessage(*row) for row in reversed(rows)]

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT group_id, seq, ts, sender, text, client_msg_id FROM messages"
            " WHERE group_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (group_id, after_seq, limit),
        ).fetchall()
        return [StoredMessage(*row) for row in rows]

    def find_by_client_id(self, group_id: int, sender: str, client_msg_id: str) -> StoredMessage | None:
        row = self._db.execute(
            "SELECT group_id, seq, ts, sender, text, client_msg_id FROM messages"
            " WHERE group_id = ? AND sender = ? AND client_msg_id = ?",
            (group_id, sender, client_msg_id),
        ).fetchone()
        return StoredMessage(*row) if row else None

    def close(self) -> None:
        self._db.close()
