"""Is FTS5 worth it for /search? LIKE against an FTS5 trigram index on 1M stored messages (issue 10).

Builds two SQLite files with the server's message table shape, one plain and one with an external-content
FTS5 trigram index kept by triggers, and prints JSON: insert cost per message (CPU s, batches of 200 in one
transaction, as the server's group commit does), file sizes, and the CPU time of a newest-first page of 50
hits for a rare word, a common word, a 2-letter query (which no trigram index can serve) and a miss.

    python bench/search_fts.py --messages 1000000 --dir /tmp/fts
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

SCHEMA = """
CREATE TABLE messages (group_id INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
                       sender TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (group_id, seq));
"""
FTS = """
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='rowid',
                                             tokenize='trigram case_sensitive 0');
CREATE TRIGGER messages_fts_add AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
"""
WORDS = [f"w{n:04d}" for n in range(5000)] + ["deploy", "lunch", "release", "incident", "coffee"] * 200
RARE = "zanzibar"


def build(path: Path, count: int, *, fts: bool, seed: int) -> float:
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA + (FTS if fts else ""))
    cpu = 0.0
    batch = 200
    for start in range(0, count, batch):
        rows = []
        for seq in range(start + 1, min(count, start + batch) + 1):
            words = rng.choices(WORDS, k=rng.randint(3, 14))
            if seq % 100_000 == 0:
                words.append(RARE)
            rows.append((1, seq, seq, f"user{seq % 50}", " ".join(words)))
        began = time.process_time()
        db.execute("BEGIN")
        db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        cpu += time.process_time() - began
    db.close()
    return cpu


def page_like(db: sqlite3.Connection, query: str) -> list[int]:
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = db.execute(
        "SELECT seq FROM messages WHERE group_id = 1 AND text LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT 50",
        (pattern,),
    ).fetchall()
    return [r[0] for r in rows]


def page_fts(db: sqlite3.Connection, query: str) -> list[int]:
    if len(query) < 3:  # a trigram index cannot answer fewer than 3 characters
        return page_like(db, query)
    phrase = '"' + query.replace('"', '""') + '"'
    rows = db.execute(
        "SELECT m.seq FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
        " WHERE messages_fts MATCH ? AND m.group_id = 1 ORDER BY f.rowid DESC LIMIT 50",
        (phrase,),
    ).fetchall()
    return [r[0] for r in rows]


def timed(
    fn: Callable[[sqlite3.Connection, str], list[int]], db: sqlite3.Connection, query: str, reps: int = 3
) -> tuple[float, int]:
    best = float("inf")
    hits = 0
    for _ in range(reps):
        began = time.process_time()
        hits = len(fn(db, query))
        best = min(best, time.process_time() - began)
    return best, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/groupchat-fts"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    plain, indexed = args.dir / "plain.db", args.dir / "fts.db"
    for path in (plain, indexed):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    result: dict[str, object] = {"messages": args.messages, "sqlite": sqlite3.sqlite_version}
    result["insert_cpu_us_per_message"] = {
        "plain": round(build(plain, args.messages, fts=False, seed=1) / args.messages * 1e6, 2),
        "fts5_trigram": round(build(indexed, args.messages, fts=True, seed=1) / args.messages * 1e6, 2),
    }
    result["file_mb"] = {
        "plain": round(plain.stat().st_size / 2**20, 1),
        "fts5_trigram": round(indexed.stat().st_size / 2**20, 1),
    }
    queries = {"rare": RARE, "common": "deploy", "two_letters": "w0", "miss": "qqqqq", "mixed_case": "LuNcH"}
    searches: dict[str, object] = {}
    with sqlite3.connect(plain) as p_db, sqlite3.connect(indexed) as f_db:
        for label, query in queries.items():
            like_cpu, like_hits = timed(page_like, p_db, query)
            fts_cpu, fts_hits = timed(page_fts, f_db, query)
            searches[label] = {
                "query": query,
                "like_ms": round(like_cpu * 1e3, 2),
                "fts5_ms": round(fts_cpu * 1e3, 2),
                "hits": [like_hits, fts_hits],
            }
    result["first_page_cpu"] = searches
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
