"""Mentions are word-bounded and case-insensitive; the bell is rate-limited and can be turned off."""

from __future__ import annotations

import pytest

from chat_tui.mentions import Bell, mention_spans, names_you


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("alice: lunch?", True),
        ("Lunch, ALICE?", True),
        ("@alice", True),
        ("malice", False),
        ("alice_b is here", False),
        ("alice2", False),
        ("", False),
    ],
)
def test_a_mention_is_a_whole_word_in_any_case(text: str, named: bool) -> None:
    assert names_you(text, "Alice") is named


def test_names_with_punctuation_and_spans() -> None:
    assert names_you("ping dr.who now", "Dr.Who")
    assert not names_you("ping drxwho now", "Dr.Who")  # the dot is literal, not a wildcard
    assert mention_spans("Ann and ann", "ann") == [(0, 3), (8, 11)]
    assert mention_spans("anything", "") == []
    assert not names_you("anything", "")


def test_the_bell_rings_at_most_once_per_interval_and_not_when_off() -> None:
    now = [100.0]
    sounds: list[float] = []
    bell = Bell(lambda: sounds.append(now[0]), lambda: now[0], interval=5.0)
    assert bell.ring()
    now[0] = 104.9
    assert not bell.ring()
    now[0] = 105.0
    assert bell.ring()
    bell.enabled = False
    now[0] = 200.0
    assert not bell.ring()
    assert sounds == [100.0, 105.0]
    assert bell.rung == 2
