"""A damaged database file or row fails as StoreError, never another exception (issue 8, item 3).

The files are really damaged: built by the store, closed (so every page is in the main file), then
bytes of one page are overwritten, as a bad sector or a stray write would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chat_server.store import SqliteStore, StoredMessage, StoreError

LONG = "Z" * 10_000  # longer than a 4 KiB page: stored on overflow pages
INDEX_LEAF = 0x0A  # b-tree page type of a WITHOUT ROWID table's (and an index's) leaf pages


def build(db: Path) -> None:
    """Group 1: 2,000 short messages (hundreds of b-tree pages); group 2: five long ones (overflow pages)."""
    store = SqliteStore(db)
    store.create_group("calm", "calm", "hash", 0)
    store.create_group("long", "long", "hash", 0)
    store.append([StoredMessage(1, seq, seq, "Ann", f"message {seq} " + "a" * 300) for seq in range(1, 2001)])
    store.append([StoredMessage(2, seq, seq, "Bob", LONG, f"z-{seq}") for seq in range(1, 6)])
    store.close()
    assert not db.with_name(db.name + "-wal").exists()  # checkpointed: every page is in the file


def pages(db: Path) -> list[bytes]:
    data = db.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    return [data[at : at + size] for at in range(0, len(data), size)]


def overwrite(db: Path, page_no: int, offset: int, data: bytes) -> None:
    """Write ``data`` at ``offset`` in the 0-based page ``page_no``, in place."""
    size = len(pages(db)[0])
    with db.open("r+b") as file:
        file.seek(page_no * size + offset)
        file.write(data)


def a_message_leaf_page(db: Path) -> int:
    # Group 1's rows fill hundreds of leaf pages; the only other index leaves are two one-page indexes.
    leaves = [no for no, page in enumerate(pages(db)) if no > 0 and page[0] == INDEX_LEAF]
    assert len(leaves) > 100
    return leaves[len(leaves) // 2]


def a_middle_overflow_page(db: Path) -> int:
    """An overflow page of group 2 that is full of text and points to the next page of its chain."""
    full = [no for no, page in enumerate(pages(db)) if page[4:] == b"Z" * (len(page) - 4)]
    assert full
    return full[0]


def test_a_damaged_btree_page_refuses_the_start_with_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    build(db)
    overwrite(db, a_message_leaf_page(db), 8, b"\xff" * 64)  # the cell pointers: every cell out of range
    with pytest.raises(sqlite3.DatabaseError):  # the damage is real: a plain read of the log fails
        sqlite3.connect(db).execute("SELECT max(seq) FROM messages").fetchall()
    with pytest.raises(StoreError) as refused:
        SqliteStore(db)
    message = str(refused.value)
    assert str(db.resolve()) in message
    assert "damaged" in message
    assert ".recover" in message
    assert "\n" not in message


def test_a_broken_overflow_chain_refuses_the_start(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    build(db)
    overwrite(db, a_middle_overflow_page(db), 0, b"\x7f\xff\xff\xff")  # next page: far beyond the file
    with pytest.raises(StoreError, match="damaged"):
        SqliteStore(db)


def test_a_damaged_overflow_page_fails_only_the_reads_of_its_group(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    build(db)
    overwrite(db, a_middle_overflow_page(db), 100, b"\xff" * 200)  # text bytes: no longer UTF-8
    store = SqliteStore(db)  # the b-trees are whole: it opens
    try:
        assert [g.last_seq for g in store.load_groups()] == [2000, 5]
        for read in (
            lambda: store.messages_after(2, 0, 10),
            lambda: store.messages_before(2, 10, 10),
            lambda: store.find_by_client_id(2, "bob", "z-1"),
        ):
            with pytest.raises(StoreError, match="not valid UTF-8"):
                read()
        assert len(store.messages_before(1, 2001, 100)) == 100  # the other group reads as before
        store.append([StoredMessage(1, 2001, 2001, "Ann", "still writable")])
    finally:
        store.close()


def raw_insert(db: Path, sql: str) -> None:
    raw = sqlite3.connect(db)
    raw.execute(sql)
    raw.commit()
    raw.close()


def test_an_invalid_utf8_row_fails_each_read_of_it_with_store_error(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    build(db)
    raw_insert(
        db,
        "INSERT INTO messages (group_id, seq, ts, sender, sender_key, text, client_msg_id)"
        " VALUES (1, 2001, 0, 'Eve', 'eve', CAST(x'41ff42' AS TEXT), 'bad')",
    )
    store = SqliteStore(db)
    try:
        with pytest.raises(StoreError) as refused:
            store.messages_after(1, 2000, 10)
        assert "A\ufffdB" not in str(refused.value)  # a stored text never reaches the log
        assert refused.value.__cause__ is None
        with pytest.raises(StoreError):
            store.messages_before(1, 2002, 1)
        with pytest.raises(StoreError):
            store.find_by_client_id(1, "eve", "bad")
        assert [m.seq for m in store.messages_after(1, 1990, 10)] == list(range(1991, 2001))  # rows before it
    finally:
        store.close()


def test_an_invalid_utf8_group_name_fails_load_groups_with_store_error(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    build(db)
    raw_insert(
        db,
        "INSERT INTO groups (name, name_key, password_hash, created_ts) VALUES (CAST(x'ff' AS TEXT), 'x', 'h', 0)",
    )
    store = SqliteStore(db)
    try:
        with pytest.raises(StoreError):
            store.load_groups()
    finally:
        store.close()
