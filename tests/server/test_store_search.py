"""History search on a real SQLite file: newest first, case-insensitive, pages of bounded scan."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chat_server.store import SqliteStore, StoredMessage
from chat_server.store.search import search_messages


def _store(tmp_path: Path, texts: list[str]) -> Path:
    store = SqliteStore(tmp_path / "chat.db")
    group = store.create_group("team", "team", "h", 0)
    other = store.create_group("ops", "ops", "h", 0)
    store.append([StoredMessage(group, seq, seq, "Bob", text) for seq, text in enumerate(texts, 1)])
    store.append([StoredMessage(other, 1, 1, "Eve", "deploy elsewhere")])
    store.close()
    return tmp_path / "chat.db"


def test_hits_come_newest_first_in_pages_that_continue(tmp_path: Path) -> None:
    texts = [f"line {n}" + (" DEPLOY now" if n % 3 == 0 else "") for n in range(1, 31)]
    with sqlite3.connect(_store(tmp_path, texts)) as db:
        first = search_messages(db, 1, "deploy", 2**31, 4)
        assert [m.seq for m in first.hits] == [30, 27, 24, 21]
        second = search_messages(db, 1, "deploy", first.next_before_seq, 100)
        assert [m.seq for m in second.hits] == [18, 15, 12, 9, 6, 3]
        assert second.next_before_seq == 0


def test_a_page_scans_a_bounded_range_and_says_where_to_go_on(tmp_path: Path) -> None:
    texts = ["needle here"] + [f"filler {n}" for n in range(2, 101)]
    with sqlite3.connect(_store(tmp_path, texts)) as db:
        page = search_messages(db, 1, "needle", 101, 10, scan_rows=40)
        assert (page.hits, page.next_before_seq) == ([], 61)
        page = search_messages(db, 1, "needle", 61, 10, scan_rows=40)
        assert (page.hits, page.next_before_seq) == ([], 21)
        page = search_messages(db, 1, "needle", 21, 10, scan_rows=40)
        assert [m.seq for m in page.hits] == [1]
        assert page.next_before_seq == 0


def test_matching_ignores_case_and_takes_wildcards_literally(tmp_path: Path) -> None:
    texts = ["Straße gesperrt", "100% done", "a_b c", "plain", "ÉCOLE fermée"]
    with sqlite3.connect(_store(tmp_path, texts)) as db:
        assert [m.seq for m in search_messages(db, 1, "STRAẞE", 100, 10).hits] == [1]
        assert [m.seq for m in search_messages(db, 1, "école", 100, 10).hits] == [5]
        assert [m.seq for m in search_messages(db, 1, "100%", 100, 10).hits] == [2]
        assert [m.seq for m in search_messages(db, 1, "%", 100, 10).hits] == [2]
        assert [m.seq for m in search_messages(db, 1, "_", 100, 10).hits] == [3]
        assert [m.seq for m in search_messages(db, 1, "PLAIN", 100, 10).hits] == [4]
        assert search_messages(db, 1, "deploy", 100, 10).hits == []  # another group's message
        assert search_messages(db, 1, "", 100, 10).hits == []
