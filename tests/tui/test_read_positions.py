"""Read positions survive a restart, only move forward, stay bounded, and a damaged file is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.read_positions import ReadPositions


def test_positions_survive_a_restart_per_server_group_and_name(tmp_path: Path) -> None:
    path = tmp_path / "data" / "read.json"
    positions = ReadPositions(path)
    assert positions.advance("127.0.0.1:7030", 1, "alice", 40)
    assert positions.advance("127.0.0.1:7031", 1, "alice", 7)
    assert positions.advance("127.0.0.1:7030", 1, "bob", 3)
    assert not positions.advance("127.0.0.1:7030", 1, "alice", 39)  # never backwards
    positions.save()
    again = ReadPositions(path)
    assert again.problem is None
    assert again.get("127.0.0.1:7030", 1, "alice") == 40
    assert again.get("127.0.0.1:7031", 1, "alice") == 7
    assert again.get("127.0.0.1:7030", 1, "bob") == 3
    assert again.get("127.0.0.1:7030", 2, "alice") == 0


def test_the_least_recently_updated_are_forgotten_first(tmp_path: Path) -> None:
    positions = ReadPositions(tmp_path / "read.json", limit=2)
    positions.advance("s", 1, "a", 1)
    positions.advance("s", 2, "a", 1)
    positions.advance("s", 1, "a", 2)  # group 1 updated again: group 2 is now the oldest
    positions.advance("s", 3, "a", 1)
    assert [positions.get("s", g, "a") for g in (1, 2, 3)] == [2, 0, 1]


@pytest.mark.parametrize(
    "content",
    ['{"version": 2, "positions": []}', '{"version": 1, "positions": [["s", -1, "a", 3]]}', "not json", "[]"],
)
def test_a_damaged_file_is_ignored_with_a_reason(tmp_path: Path, content: str) -> None:
    path = tmp_path / "read.json"
    path.write_text(content)
    positions = ReadPositions(path)
    assert positions.problem is not None
    assert positions.get("s", 1, "a") == 0
