"""Searching a group's stored history: newest first, case-insensitive, in pages of bounded cost.

Why no FTS5 index: measured on 1M messages (``bench/search_fts.py``), an FTS5 trigram index makes each
stored message cost 35 µs of CPU instead of 1.5 (unicode61 words: 16 µs), on the hot path of every
message, to speed up a rare request. A plain scan of the newest-first seq range costs about 0.2 µs a row,
so each page scans at most ``scan_rows`` rows (the group's seqs are dense, so a seq range is a row count)
and says where to go on: a miss in a million messages is ten cheap pages, never one long stall.

Matching: a needle of ASCII characters uses SQLite's ``LIKE`` (ASCII case-insensitive, in C); any other
needle is matched with ``str.casefold`` in Python ("STRASSE" finds "Straße").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from chat_server.store.base import SearchPage, StoredMessage

SCAN_ROWS = 100_000
"""Rows one page may scan at most: measured 21-28 ms of CPU for an ASCII needle, 52 ms for another, on this machine."""
MAX_NEEDLE = 200
"""Characters in a search text at most."""


def _contains_folded(text: str | None, needle: str) -> bool:
    return text is not None and needle in text.casefold()


def search_messages(
    db: sqlite3.Connection, group_id: int, needle: str, before_seq: int, limit: int, *, scan_rows: int = SCAN_ROWS
) -> SearchPage:
    """Up to ``limit`` messages of the group with seq < ``before_seq`` whose text holds ``needle``."""
    if not needle or limit <= 0 or before_seq <= 1:
        return SearchPage([], 0)
    newest = db.execute("SELECT MAX(seq) FROM messages WHERE group_id = ?", (group_id,)).fetchone()[0] or 0
    floor, before_seq = scan_range(before_seq, newest, scan_rows)
    if needle.isascii():
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        condition, argument = "text LIKE ? ESCAPE '\\'", f"%{escaped}%"
    else:
        db.create_function("groupchat_contains", 2, _contains_folded, deterministic=True)
        condition, argument = "groupchat_contains(text, ?)", needle.casefold()
    rows = db.execute(
        "SELECT group_id, seq, ts, sender, text, client_msg_id, action FROM messages"
        f" WHERE group_id = ? AND seq < ? AND seq >= ? AND {condition} ORDER BY seq DESC LIMIT ?",
        (group_id, before_seq, floor, argument, limit),
    ).fetchall()
    hits = [StoredMessage(*row) for row in rows]
    if len(hits) == limit:
        return SearchPage(hits, hits[-1].seq)
    return SearchPage(hits, floor if floor > 1 else 0)


def scan_range(before_seq: int, newest: int, scan_rows: int) -> tuple[int, int]:
    """The seqs one page looks at, as ``(floor, before)``: ``floor <= seq < before``."""
    before = min(before_seq, newest + 1)  # a client may start from "the end" with a huge bound
    return max(1, before - scan_rows), before


def search_rows(rows: Iterable[StoredMessage], needle: str, limit: int, floor: int) -> SearchPage:
    """The same page from ``rows`` (the scanned range, newest first) for a store without SQL (memory, Redis)."""
    folded = needle.casefold()
    hits = []
    for message in rows:
        if folded in message.text.casefold():
            hits.append(message)
            if len(hits) == limit:
                return SearchPage(hits, message.seq)
    return SearchPage(hits, floor if floor > 1 else 0)
