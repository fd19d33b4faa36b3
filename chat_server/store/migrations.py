"""The SQLite schema, as the steps that build it: ``PRAGMA user_version`` says how many have run.

A database is brought up to the newest version when it is opened, one transaction per step, so a
crash mid-upgrade leaves it at the last whole version. Never edit a released step: add a new one.
"""

from __future__ import annotations

import sqlite3

from chat_server.store.base import StoreError
from shared import fields

_V1_GROUPS_AND_LOGS = """
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
"""

_V2_CLIENT_MSG_IDS = """
    ALTER TABLE messages ADD COLUMN client_msg_id TEXT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages (group_id, sender, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
"""

# v3 keys dedup on the sender's name key: "BOB" resending Bob's client_msg_id is Bob resending, not a
# new message. v2 let such resends in as second copies; those copies keep their text and seq but lose
# the client id (the first message with it keeps it), so the unique index can be built.
_V3_SENDER_KEY = """
    ALTER TABLE messages ADD COLUMN sender_key TEXT;
    UPDATE messages SET sender_key = name_key(sender);
    UPDATE messages SET client_msg_id = NULL WHERE (group_id, seq) IN (
        SELECT group_id, seq FROM (
            SELECT group_id, seq, row_number() OVER (PARTITION BY group_id, sender_key, client_msg_id ORDER BY seq) AS n
            FROM messages WHERE client_msg_id IS NOT NULL
        ) WHERE n > 1
    );
    DROP INDEX messages_by_client_id;
    CREATE UNIQUE INDEX messages_by_sender_key ON messages (group_id, sender_key, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
"""

# v4: the key of resume tokens, kept with the data so tokens survive a restart. One row at most.
_V4_SERVER_SECRET = """
    CREATE TABLE server_secret (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret BLOB NOT NULL
    );
"""


# v5: /me lines (feature "action"). 0 for every message stored before.
_V5_ACTION = """
    ALTER TABLE messages ADD COLUMN action INTEGER NOT NULL DEFAULT 0;
"""


# Each step is SQL statements separated by ";" (none inside a literal).
MIGRATIONS: list[str] = [_V1_GROUPS_AND_LOGS, _V2_CLIENT_MSG_IDS, _V3_SENDER_KEY, _V4_SERVER_SECRET, _V5_ACTION]
SCHEMA_VERSION = len(MIGRATIONS)


def _run_sql(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, and each step must stay inside its own transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def schema_version(db: sqlite3.Connection) -> int:
    """The number of steps this database has had."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, name: str) -> None:
    """Bring the database up to :data:`SCHEMA_VERSION`, one transaction per step.

    Args:
        db: a connection in autocommit mode (``isolation_level=None``).
        name: the file, for the error message.

    Raises:
        StoreError: the database was made by a newer server.
        sqlite3.Error: a step failed; the database is left at the last whole version.
    """
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{name} has schema version {version}; this server knows up to {SCHEMA_VERSION}")
    if version < SCHEMA_VERSION:
        # Backfills key names with the very function the server uses, so it is lent to SQL for the upgrade.
        db.create_function("name_key", 1, fields.name_key, deterministic=True)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            _run_sql(db, MIGRATIONS[target - 1])
            db.execute(f"PRAGMA user_version={target}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
