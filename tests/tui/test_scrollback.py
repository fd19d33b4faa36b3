"""MessagePane's cap: trimming in batches from the end farther from the view, detaching, and gap rules."""

from __future__ import annotations

from functools import partial

from textual.app import App, ComposeResult
from textual.message import Message

from chat_tui.widgets import Entry, MessagePane
from chat_tui.widgets.message_pane import gap_rule_text
from tests.tui.helpers import gap_asks, pane_text

CAP = 50


class PaneApp(App[int]):
    """Just a pane with a small cap filling the screen."""

    def __init__(self, scrollback: int = CAP) -> None:
        super().__init__()
        self.scrollback = scrollback

    def compose(self) -> ComposeResult:
        yield MessagePane(scrollback=self.scrollback)


def text_of(seq: int) -> str:
    """Every seventh message wraps over several rows, so trimming must count rows, not records."""
    return f"message {seq}" + (" long" * 30 if seq % 7 == 0 else "")


def history(seqs: range) -> list[Entry]:
    return [Entry("09:00", "Bob", text_of(seq), seq=seq) for seq in seqs]


def assert_consistent(pane: MessagePane) -> None:
    """The layout bookkeeping matches the records: heights, row offsets, seqs, and what renders."""
    entries = pane._entries
    assert pane._heights == [pane._height(entry) for entry in entries]
    assert all(b - a == h for a, b, h in zip(pane._starts, pane._starts[1:], pane._heights, strict=False))
    assert pane._seqs == {entry.seq for entry in entries if entry.seq is not None}
    assert pane.row_count == pane._header_rows + sum(pane._heights) + sum(pane._pending_heights)
    shown = [line.split(": ", 1)[1].split(" long")[0] for line in pane_text(pane).splitlines() if ": message " in line]
    assert shown == [entry.text.split(" long")[0] for entry in entries if entry.seq is not None]


def seqs(pane: MessagePane) -> list[int]:
    return [entry.seq for entry in pane.entries if entry.seq is not None]


async def test_live_messages_trim_the_oldest_in_batches_and_stay_at_the_bottom() -> None:
    app = PaneApp()
    trims: dict[int, bool] = {}  # by identity: the hook sees a message again at each step of its bubbling

    def record(message: Message) -> None:
        if isinstance(message, MessagePane.Trimmed):
            trims[id(message)] = message.top

    async with app.run_test(size=(60, 10), message_hook=record) as pilot:
        pane = app.query_one(MessagePane)
        for seq in range(1, 201):
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
            assert len(pane.entries) <= CAP
        await pilot.pause()
        assert seqs(pane) == list(range(seqs(pane)[0], 201))
        assert_consistent(pane)
        assert set(trims.values()) == {True}
        assert len(trims) <= (200 - CAP) // (CAP // 10) + 1  # a batch at a time, not one per message
        assert pane.is_vertical_scroll_end
        assert pane.render_line(pane.size.height - 1).text.rstrip() == "09:00 Bob: message 200"
        assert not pane.detached


async def test_a_trim_keeps_the_view_on_the_same_lines_when_scrolled_up() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        for seq in range(1, CAP + 1):
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
        await pilot.pause()
        pane.scroll_to(y=pane.max_scroll_y - 5, animate=False, immediate=True)  # reading just above the end
        await pilot.pause()
        seen = [pane.render_line(y).text for y in range(pane.size.height)]
        for seq in range(CAP + 1, CAP + 4):  # the first one goes past the cap: the oldest tenth goes
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
        await pilot.pause()
        assert seqs(pane)[0] > 1
        assert [pane.render_line(y).text for y in range(pane.size.height)] == seen
        assert_consistent(pane)


async def test_paging_back_may_pass_the_cap_by_a_page_then_drops_the_newest_and_detaches() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        for seq in range(151, 201):
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
        await pilot.pause()
        pane.scroll_home(animate=False, immediate=True)
        pane.prepend(history(range(101, 151)))  # one page over the cap: kept whole
        await pilot.pause()
        assert len(pane.entries) == 2 * CAP
        assert not pane.detached
        pane.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        seen = [pane.render_line(y).text for y in range(pane.size.height)]
        pane.prepend(history(range(51, 101)))  # the user reads the top: the bottom goes
        await pilot.pause()
        assert len(pane.entries) <= 2 * CAP
        assert seqs(pane) == list(range(51, seqs(pane)[-1] + 1))
        assert seqs(pane)[-1] < 200
        assert [pane.render_line(y).text for y in range(pane.size.height)] == seen  # the view stayed
        assert pane.detached
        assert_consistent(pane)
        pane.add_message("09:00", "Bob", "live while detached", seq=201)  # paged in later, in order
        assert 201 not in seqs(pane)
        newest = seqs(pane)[-1]
        pane.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        pane.append_history(history(range(newest + 1, 202)), live=True)
        await pilot.pause()
        assert not pane.detached
        assert seqs(pane)[-1] == 201
        assert seqs(pane) == list(range(seqs(pane)[0], 202))
        assert len(pane.entries) <= CAP
        assert_consistent(pane)


async def test_a_gap_rule_asks_once_when_shown_and_fills_in_seq_order() -> None:
    app = PaneApp(scrollback=1000)
    asked: list[MessagePane.GapShown] = []
    record = partial(gap_asks, asked)
    async with app.run_test(size=(60, 30), message_hook=record) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_message("09:00", "Bob", "message 1", seq=1)
        pane.add_marker(gap_rule_text(1, 10), gap=(1, 10))
        for seq in range(10, 13):
            pane.add_message("09:00", "Bob", f"message {seq}", seq=seq)
        await pilot.pause()
        await pilot.pause()
        assert [(m.after_seq, m.before_seq) for m in asked] == [(1, 10)]  # rendered often, asked once
        key = asked[0].key
        pane.fill_gap(key, history(range(6, 10)))
        await pilot.pause()
        assert "4 earlier messages not shown" in pane_text(pane)
        assert [(m.after_seq, m.before_seq) for m in asked] == [(1, 10), (1, 6)]  # shown again: asks again
        pane.fill_gap(key, history(range(2, 7)))  # overlapping: 6 shows once
        await pilot.pause()
        assert "not shown" not in pane_text(pane)
        assert seqs(pane) == list(range(1, 13))
        assert_consistent(pane)


async def test_an_empty_answer_removes_a_finished_gap_rule() -> None:
    app = PaneApp()
    asked: list[MessagePane.GapShown] = []
    record = partial(gap_asks, asked)
    async with app.run_test(size=(60, 10), message_hook=record) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_marker(gap_rule_text(3, 5), gap=(3, 5))
        pane.add_message("09:00", "Bob", "message 5", seq=5)
        await pilot.pause()
        pane.fill_gap(asked[0].key, [], done=True)
        await pilot.pause()
        assert pane_text(pane).splitlines() == ["09:00 Bob: message 5"]
        assert_consistent(pane)


async def test_live_messages_while_reading_the_oldest_drop_the_newest_instead() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        for seq in range(1, CAP + 1):
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
        await pilot.pause()
        pane.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        seen = [pane.render_line(y).text for y in range(pane.size.height)]
        for seq in range(CAP + 1, CAP + 10):
            pane.add_message("09:00", "Bob", text_of(seq), seq=seq)
        await pilot.pause()
        assert seqs(pane)[0] == 1  # what the user reads stays
        assert [pane.render_line(y).text for y in range(pane.size.height)] == seen
        assert pane.detached
        assert len(pane.entries) < CAP
        assert_consistent(pane)
