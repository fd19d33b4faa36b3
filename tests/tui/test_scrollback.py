"""MessagePane at scale: only what is on screen is wrapped, changes above the view keep it still, gaps ask once."""

from __future__ import annotations

from textual.message import Message

from chat_tui.session.entries import Entry
from chat_tui.widgets.message_pane import MessagePane
from tests.tui.test_message_pane import PaneApp, filled, message, screen


async def test_scrolled_up_a_page_above_or_a_trim_above_keeps_the_same_lines() -> None:
    entries = filled(300, wide_every=5)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        pane.scroll_to(y=pane.max_scroll_y // 2, animate=False, immediate=True)
        await pilot.pause()
        seen = screen(pane)
        with entries.batch():
            entries.splice(0, 0, [message(f"older {n}" + " long" * 30, seq=-n) for n in range(50)])
            entries.set_header("loading older messages…")
        await pilot.pause()
        assert screen(pane) == seen
        entries.splice(0, 120, [])  # the timeline trims the far end
        await pilot.pause()
        assert screen(pane) == seen
        assert not pane.following


async def test_only_entries_on_screen_are_wrapped_and_a_resize_rewraps_lazily() -> None:
    entries = filled(20_000, wide_every=3)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        # Measured (exact) are the one-line entries that fit, known without wrapping, and what was shown.
        wrapped = [i for i in range(len(entries)) if i % 3 == 0 and pane._layout.exact[i]]
        assert 0 < len(wrapped) <= pane.size.height
        assert len(pane._strips) <= 2 * pane.size.height
        assert screen(pane)[-1] == "09:00 Bob: message 19999"
        assert screen(pane)[-2].startswith("      long")  # 19998 wraps
        await pilot.resize_terminal(100, 12)
        await pilot.pause()
        wrapped = [i for i in range(len(entries)) if i % 3 == 0 and pane._layout.exact[i]]
        assert 0 < len(wrapped) <= pane.size.height
        assert pane.scroll_y == pane.max_scroll_y
        shown = screen(pane)
        assert shown[-1] == "09:00 Bob: message 19999"
        assert shown[-4].startswith("09:00 Bob: message 19998 long")  # three rows at 100 columns
        assert shown[-3].startswith("      long")


async def test_top_reached_and_each_gap_on_screen_asked_once() -> None:
    posted: list[Message] = []
    entries = filled(100)
    entries.splice(50, 0, [Entry("gap", "9 earlier messages not shown", gap=(10, 20))])
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12), message_hook=posted.append) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        assert not any(isinstance(m, MessagePane.GapShown) for m in posted)  # not on screen yet
        for y in (45, 44, 46):
            pane.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
        gaps = {(m.key, m.after_seq, m.before_seq) for m in posted if isinstance(m, MessagePane.GapShown)}
        assert gaps == {(entries[50].key, 10, 20)}
        entries.replace(50, entries[50].changed(gap=(15, 20), text="4 earlier messages not shown"))
        await pilot.pause()
        gaps = {(m.key, m.after_seq, m.before_seq) for m in posted if isinstance(m, MessagePane.GapShown)}
        assert (entries[50].key, 15, 20) in gaps  # a new entry: asked again
        pane.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        assert any(isinstance(m, MessagePane.TopReached) for m in posted)
