"""Settings survive a save and load; a bad file falls back to defaults and says what it ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.settings import MAX_SETTINGS_BYTES, Settings, load, save


def test_saved_settings_load_back_even_with_awkward_text(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "settings.toml"
    chosen = Settings(theme='nord "quoted" \\ é\n\t\x01', timestamps=False, bell=False, typing=False)
    save(path, chosen)
    loaded = load(path)
    assert loaded.settings == chosen
    assert loaded.problems == ()
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temporary left behind


def test_a_missing_file_gives_the_defaults_silently(tmp_path: Path) -> None:
    assert load(tmp_path / "none.toml").settings == Settings()
    assert load(tmp_path / "none.toml").problems == ()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("bell = maybe", "cannot read"),
        ("bell = 1", "bell must be true or false"),
        ("theme = false", "theme must be text"),
        ("colour = true", "unknown setting 'colour'"),
    ],
)
def test_a_bad_file_keeps_the_defaults_and_says_why(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(content + "\ntimestamps = false\n" if "maybe" not in content else content)
    loaded = load(path)
    assert any(problem in line for line in loaded.problems)
    assert loaded.settings.bell is True
    assert loaded.settings.theme == "textual-dark"


def test_an_oversized_or_undecodable_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"#" * (MAX_SETTINGS_BYTES + 1))
    assert "larger than" in load(path).problems[0]
    path.write_bytes(b'theme = "\xff"')
    assert "cannot read" in load(path).problems[0]
