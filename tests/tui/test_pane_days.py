"""Day rules above the first message of each local day, kept right when history is prepended or trimmed,
and a message's full date and time on hover."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from chat_tui.session.entries import Entry, EntryList
from chat_tui.session.paging import HEADER_START
from chat_tui.session.window import HEADER_MORE
from chat_tui.widgets.entry_rows import day_label, full_time
from chat_tui.widgets.message_pane import MessagePane
from chat_tui.widgets.pane_layout import RowLayout
from tests.tui.helpers import SIZE, connect, create_group, make_app, say, wait_until


class DaysApp(App[int]):
    """The pane alone, with a fixed zone (the real app's ``tz``) so days do not depend on the machine."""

    def __init__(self, entries: EntryList) -> None:
        super().__init__()
        self.entries = entries
        self.tz = UTC

    def compose(self) -> ComposeResult:
        yield MessagePane(self.entries)


def at(text: str, when: str, seq: int) -> Entry:
    """A stored message sent at ``when`` (UTC, "YYYY-MM-DD HH:MM")."""
    moment = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return Entry("message", text, sender="Bob", time=f"{moment:%H:%M}", seq=seq, ts_ms=int(moment.timestamp() * 1000))


def rows(pane: MessagePane) -> list[str]:
    return [pane.render_row(row).text.strip() for row in range(pane.row_count)]


def rule(day: str) -> str:
    return f" {day} "


async def test_a_rule_opens_each_day_and_follows_prepends_and_trims() -> None:
    entries = EntryList()
    entries.append([at("late", "2026-11-29 23:59", 3), at("early", "2026-11-30 00:01", 4)])
    entries.append([Entry("notice", "Carol joined", time="00:02"), at("later", "2026-11-30 09:00", 5)])
    app = DaysApp(entries)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        shown = rows(pane)
        assert shown[0].startswith("──")
        assert rule("Sunday 29 November 2026") in shown[0]
        assert shown[1] == "23:59 Bob: late"
        assert shown[2].startswith("──")
        assert rule("Monday 30 November 2026") in shown[2]
        assert shown[3:] == ["00:01 Bob: early", "00:02 Carol joined", "09:00 Bob: later"]  # one rule per day

        entries.splice(0, 0, [at("same day", "2026-11-29 22:00", 2)])  # older history comes in above
        await pilot.pause()
        shown = rows(pane)
        assert rule("Sunday 29 November 2026") in shown[0]
        assert shown[1:3] == ["22:00 Bob: same day", "23:59 Bob: late"]  # the rule moved up, not doubled
        assert len(shown) == 7
        assert pane.virtual_size.height == 7

        entries.splice(0, 2, [])  # the window trimmed from the top
        await pilot.pause()
        shown = rows(pane)
        assert rule("Monday 30 November 2026") in shown[0]
        assert shown[1:] == ["00:01 Bob: early", "00:02 Carol joined", "09:00 Bob: later"]
        assert pane.virtual_size.height == 4

        entries.splice(0, 1, [])  # the first message of the day gone: the next one opens it
        await pilot.pause()
        assert rows(pane) == ["00:02 Carol joined", rows(pane)[1], "09:00 Bob: later"]
        assert rule("Monday 30 November 2026") in rows(pane)[1]


async def test_a_live_message_on_a_new_day_gets_its_rule() -> None:
    entries = EntryList()
    entries.append([at("before midnight", "2026-11-29 23:58", 1)])
    app = DaysApp(entries)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        entries.append([at("after midnight", "2026-11-30 00:00", 2)], live=1)
        entries.append([at("still monday", "2026-11-30 00:05", 3)], live=1)
        await pilot.pause()
        shown = rows(pane)
        assert shown[1] == "23:58 Bob: before midnight"
        assert rule("Monday 30 November 2026") in shown[2]
        assert shown[3:] == ["00:00 Bob: after midnight", "00:05 Bob: still monday"]


async def test_hovering_a_message_shows_its_full_date_and_time() -> None:
    entries = EntryList()
    entries.append([at("hello", "2026-11-30 09:05", 1), Entry("notice", "Carol joined", time="09:06")])
    app = DaysApp(entries)
    async with app.run_test(size=(60, 20), tooltips=True) as pilot:  # run_test turns tooltips off by default
        pane = app.query_one(MessagePane)
        await pilot.pause()
        await pilot.hover(pane, offset=(10, 1))  # row 0 is the day rule, row 1 the message
        assert pane.tooltip == "Monday 30 November 2026, 09:05:00"
        await pilot.hover(pane, offset=(10, 2))  # a notice: the client's time, nothing more to show
        assert pane.tooltip is None
        await pilot.hover(pane, offset=(10, 1))
        shown = app.screen.query_one("#textual-tooltip")
        await wait_until(pilot, lambda: shown.display)  # Textual shows a tooltip after a short hover
        assert "Monday 30 November 2026, 09:05:00" in str(shown.render())


async def test_the_real_app_shows_the_day_and_copies_a_dragged_message(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE, tooltips=True) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "days", "pw")
        await say(pilot, "hello [b]there[/b]")
        await wait_until(pilot, lambda: chat.timeline.entries[-1].state == "sent")
        stored = chat.timeline.entries[-1]
        assert stored.ts_ms is not None
        moment = datetime.fromtimestamp(stored.ts_ms / 1000, UTC)  # make_app shows times in UTC
        pane = chat.pane
        await pilot.pause()
        screen = [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]
        row = next(y for y, line in enumerate(screen) if line.endswith("Alice: hello [b]there[/b]"))
        assert rule(day_label(moment.date())) in screen[row - 1]  # the first message of the day

        await pilot.hover(pane, offset=(8, row))
        assert pane.tooltip == full_time(moment)

        left, top = pane.content_region.x - pane.region.x, pane.content_region.y - pane.region.y  # the padding
        last = len(screen[row]) - 1
        await pilot.mouse_down(pane, offset=(left + 6, top + row))
        await pilot.hover(pane, offset=(left + last, top + row))
        await pilot.mouse_up(pane, offset=(left + last, top + row))
        await pilot.press("ctrl+c")
        assert app.clipboard == "Alice: hello [b]there[/b]"


async def test_no_rule_tops_the_list_until_the_history_above_is_known() -> None:
    entries = EntryList()
    entries.set_header(HEADER_MORE)
    entries.append([at("first shown", "2026-11-30 08:00", 50), at("next", "2026-11-30 08:01", 51)])
    app = DaysApp(entries)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        assert rows(pane)[1:] == ["08:00 Bob: first shown", "08:01 Bob: next"]  # older ones may be that day
        with entries.batch():  # the last page: an older day above, and nothing older on the server
            entries.splice(0, 0, [at("the day before", "2026-11-29 20:00", 1)])
            entries.set_header(HEADER_START)
        await pilot.pause()
        shown = rows(pane)
        assert rule("Sunday 29 November 2026") in shown[1]
        assert shown[2] == "20:00 Bob: the day before"
        assert rule("Monday 30 November 2026") in shown[3]
        assert shown[4:] == ["08:00 Bob: first shown", "08:01 Bob: next"]
        assert pane.virtual_size.height == len(shown)


def test_an_unmeasured_entry_keeps_its_estimate_until_rendered_again() -> None:
    layout = RowLayout()
    layout.splice(0, 0, 3)
    layout.fill(lambda _index: (10, 1))
    layout.relayout(40)
    assert bytes(layout.exact) == b"\x01\x01\x01"  # short lines that fit: exact from the start
    layout.unmeasure(1)
    layout.unmeasure(7)  # past the end: nothing to do
    assert bytes(layout.exact) == b"\x01\x00\x01"
    assert layout.total == 3
    assert layout.measure(1, 2) == 1  # rendered with its day rule
    assert layout.total == 4
