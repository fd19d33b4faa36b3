"""The Store interface both back ends share: location, the server secret, and dedup by the sender's name key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_server.store import MemoryStore, SqliteStore, Store, StoredMessage, StoreError, open_store
from chat_server.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from shared.fields import name_key


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each back end, with one group (id 1) in it."""
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "chat.db")
    opened.create_group("team", "team", "hash", 0)
    yield opened
    opened.close()


def test_a_relative_sqlite_url_is_located_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/chat.db")
    try:
        assert store.location == str(tmp_path.resolve() / "data" / "chat.db")
        assert Path(store.location).is_file()
    finally:
        store.close()
    assert open_store("memory:").location == "memory"


def test_the_server_secret_survives_a_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "chat.db")
    secret = store.server_secret()
    assert len(secret) == 32
    assert store.server_secret() == secret
    store.close()
    store = SqliteStore(tmp_path / "chat.db")
    assert store.server_secret() == secret
    store.close()
    other = SqliteStore(tmp_path / "other.db")
    assert other.server_secret() != secret  # random per file, never a constant
    other.close()


def test_the_memory_secret_is_random_per_store() -> None:
    first, second = MemoryStore(), MemoryStore()
    assert len(first.server_secret()) == 32
    assert first.server_secret() == first.server_secret() != second.server_secret()


def test_a_client_id_is_found_by_the_senders_name_key(store: Store) -> None:
    store.append([StoredMessage(1, 1, 1000, "Bob", "hello", "m-1")])
    found = store.find_by_client_id(1, name_key("BOB"), "m-1")
    assert found == StoredMessage(1, 1, 1000, "Bob", "hello", "m-1")
    assert store.find_by_client_id(1, name_key("\uff22\uff4f\uff42"), "m-1") == found  # fullwidth: same NFKC key
    assert store.find_by_client_id(1, name_key("Alice"), "m-1") is None
    assert store.find_by_client_id(2, name_key("Bob"), "m-1") is None


def test_a_second_message_under_one_name_key_and_client_id_is_refused_whole(store: Store) -> None:
    store.append([StoredMessage(1, 1, 1000, "Bob", "hello", "m-1")])
    with pytest.raises(StoreError):
        store.append([StoredMessage(1, 2, 1001, "Ann", "fine", "m-1"), StoredMessage(1, 3, 1002, "BOB", "re", "m-1")])
    assert store.messages_after(1, 0, 10) == [StoredMessage(1, 1, 1000, "Bob", "hello", "m-1")]  # all or nothing
    store.append([StoredMessage(1, 2, 1001, "Ann", "fine", "m-1")])  # another sender may use the same id
    assert [m.seq for m in store.messages_after(1, 0, 10)] == [1, 2]


def test_a_taken_seq_or_an_unknown_group_is_refused(store: Store) -> None:
    store.append([StoredMessage(1, 1, 1000, "Bob", "hello")])
    with pytest.raises(StoreError):
        store.append([StoredMessage(1, 1, 1001, "Ann", "same seq")])
    with pytest.raises(StoreError):
        store.append([StoredMessage(99, 1, 1001, "Ann", "no such group")])
    assert store.messages_after(1, 0, 10) == [StoredMessage(1, 1, 1000, "Bob", "hello")]


def test_seq_bounds_beyond_64_bits_mean_no_bound(store: Store) -> None:
    store.append([StoredMessage(1, 1, 1000, "Bob", "hello")])
    assert [m.seq for m in store.messages_before(1, 2**64 - 1, 2**64)] == [1]
    assert store.messages_after(1, 2**64 - 1, 10) == []


def make_version_2_file(db: Path) -> None:
    """A database as the v2 server left it, with a resend under another spelling of one name stored twice."""
    old = sqlite3.connect(db)
    for step in MIGRATIONS[:2]:
        old.executescript(step)
    old.execute("PRAGMA user_version=2")
    old.execute("INSERT INTO groups (name, name_key, password_hash, created_ts) VALUES ('team', 'team', 'h', 0)")
    rows = [
        (1, 1, 1000, "Bob", "first", "m-1"),
        (1, 2, 1001, "BOB", "first", "m-1"),  # v2 keyed on the exact name: this resend became a second message
        (1, 3, 1002, "Ann", "mine", "m-1"),
        (1, 4, 1003, "Ann", "no id", None),
    ]
    old.executemany("INSERT INTO messages (group_id, seq, ts, sender, text, client_msg_id) VALUES (?,?,?,?,?,?)", rows)
    old.commit()
    old.close()


def test_migration_from_version_2_keys_client_ids_on_the_name_key(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    make_version_2_file(db)
    store = SqliteStore(db)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert store.find_by_client_id(1, "bob", "m-1") == StoredMessage(1, 1, 1000, "Bob", "first", "m-1")
        assert store.find_by_client_id(1, "ann", "m-1") == StoredMessage(1, 3, 1002, "Ann", "mine", "m-1")
        # Both copies stay in the log; the later one gives up its client id so the key is unique.
        assert [(m.seq, m.sender, m.client_msg_id) for m in store.messages_after(1, 0, 10)] == [
            (1, "Bob", "m-1"),
            (2, "BOB", None),
            (3, "Ann", "m-1"),
            (4, "Ann", None),
        ]
        with pytest.raises(StoreError):
            store.append([StoredMessage(1, 5, 1004, "bob", "resend", "m-1")])
        store.append([StoredMessage(1, 5, 1004, "bob", "new", "m-2")])
        assert store.find_by_client_id(1, "bob", "m-2") is not None
    finally:
        store.close()


def test_an_action_keeps_its_flag_and_search_pages_alike(store: Store) -> None:
    """/me lines and history search (issue 10) behave the same in every back end."""
    texts = ["Deploy one", "x", "y", "z", "w", "deploy TWO", "v", "waves DEPLOY"]
    store.append([StoredMessage(1, seq, seq, "Bob", text, None, seq == 8) for seq, text in enumerate(texts, 1)])
    assert [bool(m.action) for m in store.messages_after(1, 0, 10)] == [False] * 7 + [True]
    first = store.search(1, "deploy", 2**53, 10, 4)
    assert ([m.seq for m in first.hits], first.next_before_seq, bool(first.hits[0].action)) == ([8, 6], 5, True)
    second = store.search(1, "DEPLOY", first.next_before_seq, 10, 4)
    assert ([m.seq for m in second.hits], second.next_before_seq) == ([1], 0)
    assert store.search(1, "deploy", 9, 1, 100).next_before_seq == 8
