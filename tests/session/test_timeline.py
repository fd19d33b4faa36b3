"""GroupTimeline's rules as plain unit tests: dedupe, order, gaps, pending -> acknowledged, the read
marker, window trimming and refetch. A fixed clock; history pages come from a list standing in for the
server's store (the session's real fetch is tested against a real server in tests/client)."""

from __future__ import annotations

from datetime import UTC

import pytest

from chat_tui.session.entries import Entry, TimelineChange
from chat_tui.session.timeline import (
    HEADER_START,
    NEW_SINCE_JOIN,
    GroupTimeline,
    HistoryUnavailable,
    News,
    Refused,
    clock_time,
)
from chat_tui.session.window import HEADER_MORE
from shared import HistoryEntry, HistoryPage

NOW = 1_700_000_000.0  # 22:13 UTC


class Store:
    """Stored messages 1..n of one group, served as the server serves history pages."""

    def __init__(self, count: int) -> None:
        self.messages = [HistoryEntry(seq, seq * 1000, "Bob", f"m{seq}") for seq in range(1, count + 1)]
        self.asked: list[tuple[int, int]] = []
        self.failing = False

    async def fetch(self, before_seq: int, limit: int) -> HistoryPage:
        self.asked.append((before_seq, limit))
        if self.failing:
            raise HistoryUnavailable("not connected")
        older = [m for m in self.messages if m.seq < before_seq]
        page = older[-limit:]
        return HistoryPage(0, 1, tuple(page), len(older) > len(page))


def timeline(joined_at: int | None = 0, *, store: Store | None = None, scrollback: int = 100) -> GroupTimeline:
    return GroupTimeline(
        1,
        "Lobby",
        "Alice",
        joined_at=joined_at,
        members=("Alice", "Bob"),
        fetch=store.fetch if store else None,
        scrollback=scrollback,
        clock=lambda: NOW,
        time_format=clock_time(UTC),
    )


def shown(t: GroupTimeline) -> list[str]:
    """Each entry as a short string: m<seq> for messages, the kind and text for the rest."""
    out = []
    for e in t.entries:
        if e.kind == "message":
            out.append(f"{e.text}{'' if e.state == 'sent' else ':' + e.state}")
        elif e.kind == "gap":
            out.append(f"gap{e.gap}")
        else:
            out.append(f"{e.kind}:{e.text}")
    return out


def post(t: GroupTimeline, *seqs: int) -> None:
    with t.entries.batch():
        for seq in seqs:
            t.posted(seq, seq * 1000, "Bob", f"m{seq}")


def messages(t: GroupTimeline) -> list[str]:
    return [e.text for e in t.entries if e.kind == "message"]


def test_messages_show_once_each_in_seq_order_whatever_brings_them() -> None:
    t = timeline()
    post(t, 1, 2, 4, 3, 2, 4)
    assert messages(t) == ["m1", "m2", "m3", "m4"]
    assert t.newest_seq == 4
    assert t.entries.header == HEADER_START


def test_a_late_message_goes_before_newer_ones_but_after_a_notice_that_came_before_it() -> None:
    t = timeline()
    post(t, 1)
    t.notice("hello")
    post(t, 3, 2)
    assert shown(t)[1:] == ["m1", "notice:hello", "m2", "m3"]


def test_own_pending_message_stays_below_and_takes_its_seq_place_when_acknowledged() -> None:
    t = timeline()
    post(t, 1)
    t.pending("id-1", "Alice", "mine")
    post(t, 2)
    assert messages(t)[-1] == "mine"
    assert t.entries[-1].state == "pending"
    post(t, 4)
    t.acknowledged("id-1", "Alice", "mine", 3, 3000)
    assert messages(t) == ["m1", "m2", "mine", "m4"]
    acknowledged = t.entries[[e.text for e in t.entries].index("mine")]
    assert (acknowledged.state, acknowledged.seq, acknowledged.own, acknowledged.time) == ("sent", 3, True, "00:00")
    post(t, 3)  # the same message replayed later: shown once
    assert messages(t).count("mine") == 1
    assert "m3" not in messages(t)


def test_delayed_says_so_once_and_refused_stays_as_failed_with_news() -> None:
    t = timeline()
    news: list[News] = []
    t.listen(news.append)
    t.pending("id-1", "Alice", "too fast")
    t.delayed("id-1", 0.4, "rate_limited")
    t.delayed("id-1", 0.8, "rate_limited")
    assert shown(t)[-2:] == [
        "notice:Sending too fast: the server holds your messages back; retrying in 1 s.",
        "too fast:delayed",
    ]
    t.refused("id-1", "too fast", "not_member", "you left")
    assert shown(t)[-1] == "too fast:failed"
    assert news == [Refused("too fast", "not_member", "you left")]


def test_read_marker_goes_after_the_replay_and_before_what_is_new() -> None:
    t = timeline(joined_at=3)
    post(t, 1, 2, 3, 4)
    kinds = shown(t)
    assert kinds == ["m1", "m2", "m3", f"marker:{NEW_SINCE_JOIN}", "notice:You joined “Lobby” (group ID 1).", "m4"]


def test_read_marker_before_a_first_message_newer_than_the_join() -> None:
    t = timeline(joined_at=3)
    post(t, 5)
    assert shown(t)[:2] == [f"marker:{NEW_SINCE_JOIN}", "notice:You joined “Lobby” (group ID 1)."]


def test_a_replay_that_starts_late_leaves_a_gap_entry_that_fills_from_its_top() -> None:
    store = Store(30)
    t = timeline(store=store, scrollback=10)
    post(t, *range(1, 6))
    t.expect_replay(5, 30)
    post(t, *range(26, 31))  # only the newest were replayed
    assert t.gaps == [(5, 26)]
    assert shown(t)[-7:-5] == ["m5", "gap(5, 26)"]
    assert t.entries[-6].text == "20 earlier messages not shown"


async def test_filling_a_gap_pages_in_its_newest_messages_and_shrinks_it_until_gone() -> None:
    store = Store(30)
    t = timeline(store=store, scrollback=100)
    post(t, *range(1, 6))
    t.expect_replay(5, 30)
    post(t, *range(26, 31))
    page = t.page_size
    assert page >= 20
    await t.fill_gap(t.entries[-6].key)
    assert t.gaps == []
    assert messages(t) == [f"m{i}" for i in range(1, 31)]


async def test_a_gap_larger_than_a_page_shrinks_to_what_is_still_missing() -> None:
    store = Store(30)
    t = timeline(store=store, scrollback=8)  # pages of 8
    t.viewport = lambda: (0, 1)  # the reader looks at the top, where the gap is
    t.expect_replay(0, 30)
    post(t, 28, 29, 30)
    assert t.gaps == [(0, 28)]
    gap_at = shown(t).index("gap(0, 28)")
    await t.fill_gap(t.entries[gap_at].key)
    assert t.gaps[0] == (0, 20)
    assert messages(t)[:7] == [f"m{i}" for i in range(20, 27)]
    assert t.entries[gap_at].gap == (0, 20)
    store.failing = True
    await t.fill_gap(t.entries[gap_at].key)  # unavailable: the gap stays as it was
    assert t.gaps[0] == (0, 20)


async def test_loading_older_pages_in_above_the_top_until_the_beginning() -> None:
    store = Store(25)
    t = timeline(joined_at=25, store=store, scrollback=10)  # pages of 10
    post(t, *range(16, 26))  # the replay of the newest ten
    assert t.entries.header == HEADER_MORE
    assert t.older
    await t.load_older()
    assert messages(t)[:3] == ["m6", "m7", "m8"]
    assert t.older
    await t.load_older()
    assert messages(t)[:5] == [f"m{i}" for i in range(1, 6)]
    assert t.entries.header == HEADER_START
    assert not t.older
    assert store.asked == [(16, t.page_size), (6, t.page_size)]


async def test_loading_older_says_why_it_failed_in_the_header() -> None:
    store = Store(25)
    store.failing = True
    t = timeline(joined_at=25, store=store)
    post(t, 25)
    await t.load_older()
    assert t.entries.header == "could not load older messages: not connected (scroll up to retry)"


def test_live_messages_trim_the_oldest_past_the_cap() -> None:
    t = timeline(scrollback=10)
    post(t, *range(1, 12))
    assert messages(t) == [f"m{i}" for i in range(3, 12)]  # 11 > 10: down to 10 minus a tenth
    assert t.older
    assert t.entries.header == HEADER_MORE
    assert t.oldest_seq == 3
    post(t, 2)  # older than memory: paging brings it, not the live path
    assert "m2" not in messages(t)


async def test_a_reader_up_in_old_history_trims_the_newest_into_a_gap_that_pages_them_back() -> None:
    store = Store(40)
    t = timeline(joined_at=40, store=store, scrollback=10)
    post(t, *range(31, 41))
    t.viewport = lambda: (0, 3)  # the reader looks at the top
    await t.load_older()  # ten older: a page is kept whole beside the cap
    assert len(t.seqs) == 20
    assert not t.gaps
    await t.load_older()  # ten more: over the cap plus a page, so the newest go
    assert messages(t)[0] == "m11"
    assert t.gaps
    assert t.gaps[-1][1] == 41
    post(t, 41)  # live while memory is over the cap and the reader is up: it joins the bottom gap
    assert t.entries[-1].gap == (t.gaps[-1][0], 42)
    assert messages(t)[0] == "m11"  # what the reader looks at stays
    store.messages.append(HistoryEntry(41, 41000, "Bob", "m41"))
    t.viewport = lambda: (len(t.entries) - 3, len(t.entries) - 1)  # the reader went down
    await t.fill_gap(t.entries[-1].key)
    assert messages(t)[-1] == "m41"
    assert "m40" in messages(t)
    assert len(t.seqs) <= 10 + t.page_size


def test_changes_reach_subscribers_batched() -> None:
    t = timeline()
    changes: list[TimelineChange] = []
    t.entries.subscribe(changes.append)
    post(t, 1, 2, 3)
    assert len(changes) == 1
    assert changes[0].live_added == 3


def test_members_join_and_leave_with_one_line_each() -> None:
    t = timeline()
    t.member_joined("Carol")
    t.member_left("Bob")
    assert t.members == ["Alice", "Carol"]
    notices = [e for e in t.entries if e.kind == "notice"][1:]
    assert [(e.text, e.sender) for e in notices] == [
        ("Carol has joined the chat!", "Carol"),
        ("Bob has left the chat!", "Bob"),
    ]


def test_after_a_reconnect_members_who_come_back_are_silent_and_the_missing_leave_after_the_grace() -> None:
    now = [NOW]
    t = GroupTimeline(1, "Lobby", "Alice", joined_at=0, members=("Alice", "Bob", "Carol", "Dan"), clock=lambda: now[0])
    before = len(t.entries)
    t.rejoined(("Alice", "Bob"), complete=True)  # Carol and Dan have not rejoined the restarted server yet
    t.member_joined("Carol")
    now[0] += 5
    t.tick()
    assert t.members == ["Alice", "Bob", "Carol", "Dan"]
    now[0] += 20
    t.tick()
    t.tick()
    texts = [e.text for e in t.entries][before:]
    assert texts == ["Reconnected.", "Dan has left the chat!"]
    assert t.members == ["Alice", "Bob", "Carol"]
    t.member_joined("Dan")  # much later: news again
    assert t.entries[-1].text == "Dan has joined the chat!"


def test_rejoin_refused_final_is_news_and_a_line() -> None:
    t = timeline()
    news: list[News] = []
    t.listen(news.append)
    t.rejoin_refused("bad_credentials", "wrong password", final=True)
    assert t.entries[-1].kind == "error"
    assert len(news) == 1


def test_created_group_greets_with_its_id() -> None:
    t = timeline(joined_at=None)
    assert t.entries[0].text.startswith("You created “Lobby”. Its group ID is 1")
    assert t.entries.header == HEADER_START
    assert t.resume_seq == 0


@pytest.mark.parametrize("ts", [0, 2**53])
def test_any_server_time_formats(ts: int) -> None:
    t = timeline()
    t.posted(1, ts, "Bob", "x")
    assert isinstance(t.entries[-1].time, str)


def test_entry_is_the_seam() -> None:
    assert Entry("gap", "x", gap=(1, 3)).gap == (1, 3)


async def test_a_gap_whose_fill_failed_gets_a_new_key_on_rejoining_so_a_view_asks_again() -> None:
    store = Store(30)
    t = timeline(store=store)
    t.expect_replay(0, 30)
    post(t, 29, 30)
    gap = next(e for e in t.entries if e.gap is not None)
    store.failing = True
    await t.fill_gap(gap.key)  # offline: nothing happens, and a view asks once per key
    t.rejoined(("Alice", "Bob"), complete=True)
    again = next(e for e in t.entries if e.gap is not None)
    assert (again.gap, again.key != gap.key) == (gap.gap, True)
    store.failing = False
    await t.fill_gap(again.key)
    assert t.gaps == []
