"""GroupTimeline's typing, presence, rename and /me rules (PROTOCOL.md §9), with a clock the test moves."""

from __future__ import annotations

from chat_tui.session.timeline import GroupTimeline, MembersChanged, News
from shared import HistoryEntry, HistoryPage


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def timeline(clock: Clock) -> tuple[GroupTimeline, list[News]]:
    made = GroupTimeline(1, "team", "Alice", joined_at=0, members=("Alice", "Bob", "Carol"), clock=clock)
    news: list[News] = []
    made.listen(news.append)
    return made, news


def test_typing_expires_five_seconds_after_its_frame_and_ends_with_a_message() -> None:
    clock = Clock()
    group, news = timeline(clock)
    group.member_typing("Bob")
    clock.now += 2
    group.member_typing("Carol")
    group.member_typing("Alice")  # our own: never shown
    assert group.typing_names(clock.now) == ["Bob", "Carol"]
    assert group.typing_names(clock.now + 3.01) == ["Carol"]  # Bob's 5 s are over
    group.posted(1, int(clock.now * 1000), "Carol", "hi")
    assert group.typing_names(clock.now) == []
    assert news == [MembersChanged()] * 3


def test_presence_and_a_rename_that_keeps_it() -> None:
    group, news = timeline(Clock())
    assert group.presence("Bob") == (False, "")
    group.member_presence("Bob", True, "lunch")
    assert group.presence("Bob") == (True, "lunch")
    group.member_renamed("Bob", "Robert")
    assert group.members == ["Alice", "Robert", "Carol"]  # same place in the list
    assert group.presence("Robert") == (True, "lunch")
    assert group.entries[-1].text == "Bob is now known as Robert"
    group.member_left("Robert")
    assert group.presence("Robert") == (False, "")
    assert news.count(MembersChanged()) == 3


def test_our_own_rename_changes_who_we_are() -> None:
    group, _news = timeline(Clock())
    group.member_renamed("Alice", "Al")
    assert (group.you, group.members[0]) == ("Al", "Al")


async def test_actions_are_action_entries_live_and_paged() -> None:
    async def fetch(before_seq: int, limit: int) -> HistoryPage:
        del before_seq, limit
        return HistoryPage(0, 1, (HistoryEntry(1, 0, "Bob", "waves"), HistoryEntry(2, 0, "Bob", "hi")), False, (1,))

    group = GroupTimeline(1, "team", "Alice", joined_at=3, members=("Alice", "Bob"), fetch=fetch)
    group.posted(3, 0, "Bob", "dances", action=True)
    await group.load_older()
    assert [(e.kind, e.text) for e in group.entries if e.seq] == [
        ("action", "waves"),
        ("message", "hi"),
        ("action", "dances"),
    ]
