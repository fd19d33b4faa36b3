"""Where you stopped reading each group, kept per (server, group, name) across reconnects and restarts.

A JSON file in the user's data directory: ``{"version": 1, "positions": [[server, group_id, name, seq], ...]}``,
oldest update first, at most :data:`MAX_POSITIONS` of them (the least recently updated go first). A
damaged file is ignored, never fatal. Saved atomically. No Textual here.
"""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs

from chat_tui.atomic_file import write_atomically

MAX_POSITIONS = 1000
"""Groups remembered; at a few dozen bytes each the file stays under 100 KB."""
MAX_FILE_BYTES = 1024 * 1024

Key = tuple[str, int, str]


def positions_path() -> Path:
    return Path(platformdirs.user_data_dir("groupchat")) / "read-positions.json"


class ReadPositions:
    """The newest seq read per (server ``host:port``, group ID, your name key)."""

    def __init__(self, path: Path, *, limit: int = MAX_POSITIONS) -> None:
        self.path = path
        self._limit = limit
        self._positions: dict[Key, int] = {}
        self.problem: str | None = None
        """Why the file on disk was ignored, if it was."""
        self._load()

    def get(self, server: str, group_id: int, name: str) -> int:
        """The newest seq read, 0 if none."""
        return self._positions.get((server, group_id, name), 0)

    def advance(self, server: str, group_id: int, name: str, seq: int) -> bool:
        """Record ``seq`` as read if it is newer; whether anything changed (then :meth:`save` is due)."""
        key = (server, group_id, name)
        if seq <= self._positions.get(key, 0):
            return False
        self._positions.pop(key, None)  # re-insert: dict order is the update order, for eviction
        self._positions[key] = seq
        while len(self._positions) > self._limit:
            del self._positions[next(iter(self._positions))]
        return True

    def save(self) -> None:
        payload = {"version": 1, "positions": [[s, g, n, seq] for (s, g, n), seq in self._positions.items()]}
        write_atomically(self.path, json.dumps(payload, ensure_ascii=False))

    def _load(self) -> None:
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                self.problem = f"{self.path} is larger than {MAX_FILE_BYTES} bytes: ignored"
                return
            payload = json.loads(self.path.read_text(encoding="utf-8"))
            rows = payload["positions"] if payload.get("version") == 1 else None
            if not isinstance(rows, list):
                raise ValueError("not a version 1 file")
            for row in rows[-self._limit :]:
                server, group_id, name, seq = row
                if not (isinstance(server, str) and isinstance(name, str)):
                    raise ValueError("a server or name is not text")
                if not all(type(n) is int and n >= 0 for n in (group_id, seq)):
                    raise ValueError("a group ID or seq is not a whole number")
                self._positions[(server, group_id, name)] = seq
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            self._positions.clear()
            self.problem = f"cannot read {self.path}: {exc}; starting afresh"
