"""Snapshots of issue 10's screens, light and dark: the group list with unread counts and a mention,
the help screen, and search results. Fed without a network (fixed clock, UTC), as test_snapshots.py.
Update with ``pytest tests/tui/test_snapshots_groups.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot

from chat_tui.activity import Activity
from chat_tui.app import ChatApp
from chat_tui.screens import ChatScreen
from chat_tui.screens.search import SearchScreen
from chat_tui.session import clock_time
from shared import GroupJoined, HistoryEntry
from tests.tui.helpers import SIZE
from tests.tui.test_snapshots import T0, SnapCompare, _app, _home, _steady

THEMES = {"dark": "textual-dark", "light": "textual-light"}


async def _groups(pilot: Pilot[int], theme: str) -> ChatScreen:
    """Alice in three groups, on "book club"; "garden" has 4 unread and names her; "chess" has 1."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    app.theme = THEMES[theme]
    await _home(pilot)
    app.activity = Activity("127.0.0.1:7030", bell=app.bell_seam)
    chats = []
    for group_id, name in ((4242, "garden"), (4243, "chess"), (4244, "book club")):
        chats.append(app.open_chat(GroupJoined(group_id, group_id, name, "Alice", ("Alice", "Bob", "Carol"))))
        await pilot.pause()
    garden, chess, club = chats
    club.timeline.posted(1, T0, "Bob", "has anyone read the new one?")
    club.timeline.posted(2, T0 + 60_000, "Carol", "first line\nsecond line of a multi-line message")
    for seq, text in enumerate(("tomatoes are in", "who waters on friday?", "alice, can you?", "thanks!"), 1):
        garden.timeline.posted(seq, T0 + seq * 1000, "Bob", text)
    chess.timeline.posted(1, T0, "Carol", "e4")
    club.timeline.posted(3, T0 + 120_000, "Bob", "Alice: what did you think?")
    await _steady(pilot)
    return club


@pytest.mark.parametrize("theme", list(THEMES))
def test_group_list_with_unread_and_a_mention(snap_compare: SnapCompare, theme: str) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _groups(pilot, theme)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", list(THEMES))
def test_help_screen(snap_compare: SnapCompare, theme: str) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _groups(pilot, theme)
        await pilot.press("f1")
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=(100, 44), run_before=run_before)


@pytest.mark.parametrize("theme", list(THEMES))
def test_search_results(snap_compare: SnapCompare, theme: str) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        club = await _groups(pilot, theme)
        hits = [
            HistoryEntry(9, T0 - 60_000, "Bob", "the Garden party is on Sunday"),
            HistoryEntry(5, T0 - 7_200_000, "Carol", "garden [b]tools[/b] are in the shed; GARDEN gate is open"),
        ]
        results = SimpleNamespace(hits=hits, next_before_seq=5)
        pilot.app.push_screen(SearchScreen(None, club.group_id, "garden", results, time_format=clock_time(UTC)))
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)
