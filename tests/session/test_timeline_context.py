"""The read marker placed from a saved read position (GroupTimeline.mark_read) and a search hit loaded in
context (GroupTimeline.load_around): plain unit tests with a fixed clock and a list standing in for the
server's store."""

from __future__ import annotations

from chat_tui.session.timeline import NEW_SINCE_JOIN, NEW_SINCE_READ
from shared import HistoryEntry
from tests.session.test_timeline import Store, post, shown, timeline

READ = f"marker:{NEW_SINCE_READ}"
JOIN = f"marker:{NEW_SINCE_JOIN}"


def test_the_read_marker_goes_above_the_first_message_after_the_read_position() -> None:
    t = timeline(joined_at=0)
    post(t, 1, 2, 3, 4)
    assert t.mark_read(2)
    assert [s for s in shown(t) if not s.startswith("notice")] == ["m1", "m2", READ, "m3", "m4"]


def test_the_read_marker_waits_for_the_replay_of_the_join() -> None:
    t = timeline(joined_at=5)
    assert not t.mark_read(3)  # opened before the replay came
    post(t, 2, 3, 4, 5)
    post(t, 6)
    assert shown(t)[:4] == ["m2", "m3", READ, "m4"]
    assert shown(t).count(READ) == 1
    assert JOIN in shown(t)


def test_the_read_marker_moves_when_newer_messages_came_and_stays_otherwise() -> None:
    t = timeline(joined_at=0)
    post(t, 1, 2, 3)
    t.mark_read(1)
    assert not t.mark_read(3)  # nothing newer (a dialog came and went): it stays
    assert [s for s in shown(t) if not s.startswith("notice")] == ["m1", READ, "m2", "m3"]
    post(t, 4, 5)
    assert t.mark_read(3)  # back with unread messages: it moves, one marker only
    assert [s for s in shown(t) if not s.startswith("notice")] == ["m1", "m2", "m3", READ, "m4", "m5"]


def test_never_read_or_nothing_to_replay_places_no_marker() -> None:
    t = timeline(joined_at=4)
    post(t, 1, 2, 3, 4)
    assert not t.mark_read(0)
    assert not t.mark_read(4)  # read up to the join: later live messages get no read marker
    post(t, 5)
    assert READ not in shown(t)


async def test_a_page_of_older_history_keeps_the_marker() -> None:
    store = Store(30)
    t = timeline(joined_at=30, store=store, scrollback=100)
    post(t, *range(21, 31))
    t.mark_read(25)
    await t.load_older()
    assert shown(t).index(READ) == shown(t).index("m26") - 1
    assert shown(t).count(READ) == 1


async def test_a_hit_above_memory_is_loaded_with_a_gap_to_the_live_end() -> None:
    store = Store(100)
    t = timeline(joined_at=100, store=store, scrollback=20)
    post(t, *range(81, 101))
    index = await t.load_around(30)
    assert index is not None
    assert t.entries[index].seq == 30
    assert store.asked == [(41, 20)]  # one page, ending half a page below the hit
    assert shown(t)[:2] == ["m21", "m22"]
    assert "gap(40, 81)" in shown(t)
    assert shown(t).index("gap(40, 81)") == shown(t).index("m40") + 1 == shown(t).index("m81") - 1
    assert t.older  # older still pages in at the top
    t.viewport = lambda: (index, index + 5)  # the reader looks at the hit
    store.messages.append(HistoryEntry(101, 101_000, "Bob", "m101"))
    post(t, 101)  # a live message: memory is over its cap, so the end away from the reader goes
    assert "m30" in shown(t)
    assert "m101" not in shown(t)
    gap = t.entries[len(t.entries) - 1]
    assert gap.gap is not None
    assert gap.gap[1] == 102
    await t.fill_gap(gap.key)  # which pages itself in when shown, newest first
    assert shown(t)[-1] == "m101"
    assert "m30" in shown(t)


async def test_a_hit_inside_a_gap_replaces_that_part_of_it() -> None:
    store = Store(100)
    t = timeline(joined_at=100, store=store, scrollback=20)
    t.expect_replay(10, 100)  # a rejoin after a long absence: only the newest were replayed
    post(t, *range(90, 101))
    assert "gap(10, 90)" in shown(t)
    index = await t.load_around(50)
    assert index is not None
    assert t.entries[index].seq == 50
    body = [s for s in shown(t) if not s.startswith(("notice", "marker"))]
    assert body[: body.index("m41")] == ["gap(10, 41)"]
    assert body[body.index("m60") + 1] == "gap(60, 90)"
    assert await t.load_around(50) == index  # in memory now: no fetch
    assert len(store.asked) == 1


async def test_a_hit_that_cannot_be_fetched_gives_none() -> None:
    store = Store(100)
    t = timeline(joined_at=100, store=store, scrollback=20)
    post(t, *range(81, 101))
    store.failing = True
    assert await t.load_around(30) is None
    assert await t.load_around(500) is None  # not stored


async def test_a_gap_below_the_hit_fills_from_its_top_when_asked_oldest_first() -> None:
    store = Store(100)
    t = timeline(joined_at=100, store=store, scrollback=20)
    post(t, *range(81, 101))
    await t.load_around(30)
    gap = next(e for e in t.entries if e.gap == (40, 81))
    await t.fill_gap(gap.key, oldest_first=True)  # the reader reads on down from the hit
    assert store.asked[-1] == (61, 20)
    body = [s for s in shown(t) if not s.startswith(("notice", "marker"))]
    assert body[body.index("m40") + 1 : body.index("m40") + 11] == [f"m{n}" for n in range(41, 51)]
    assert body[0] == "m21"  # the hit's side is kept; the trim took the far (newest) end
    assert body[-1].startswith("gap(")
