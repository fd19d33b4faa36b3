"""MessagePane renders an EntryList: literal text, pinned to the bottom, "N new ↓", lazy wrapping."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Static

from chat_tui.session.entries import Entry, EntryList
from chat_tui.widgets.message_pane import MessagePane


def message(text: str, *, sender: str = "Bob", seq: int | None = None, **fields: object) -> Entry:
    return Entry("message", text, sender=sender, time="09:00", seq=seq, **fields)  # type: ignore[arg-type]


def rows(pane: MessagePane) -> list[str]:
    """Every row of the whole scrollback, as plain text, through the render path."""
    return [pane.render_row(row).text.rstrip() for row in range(pane.row_count)]


def screen(pane: MessagePane) -> list[str]:
    """The rows on screen."""
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


class PaneApp(App[int]):
    """A pane above a box whose height a test changes (as the composer grows)."""

    CSS = "#box { height: 1; } MessagePane { height: 1fr; }"

    def __init__(self, entries: EntryList | None) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical():
            yield MessagePane(self.entries)
            yield Static("composer", id="box")


def filled(count: int, *, wide_every: int = 0) -> EntryList:
    entries = EntryList()
    texts = [f"message {n}" + (" long" * 40 if wide_every and n % wide_every == 0 else "") for n in range(count)]
    entries.append([message(text, seq=n) for n, text in enumerate(texts)])
    return entries


async def test_every_kind_renders_and_peer_text_stays_literal() -> None:
    entries = EntryList()
    entries.set_header("beginning of history")
    entries.append(
        [
            Entry("notice", "Bob has joined the chat!", time="09:00"),
            message("[bold red]hi[/] arrays[/] are fun \x1b]0;PWNED\x07 \x9b31m", sender="[b]mallory[/b]"),
            Entry("action", "waves", sender="Bob", time="09:01"),
            message("on its way", sender="Alice", own=True, state="pending"),
            message("slowly", sender="Alice", own=True, state="delayed"),
            message("refused", sender="Alice", own=True, state="failed"),
            Entry("marker", "new since you joined"),
            Entry("gap", "5 earlier messages not shown", gap=(3, 9)),
            Entry("error", "could not send: too long", time="09:02"),
        ]
    )
    app = PaneApp(entries)
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        shown = rows(pane)
        assert shown[0].strip() == "beginning of history"
        assert shown[1:4] == [
            "09:00 Bob has joined the chat!",
            "09:00 [b]mallory[/b]: [bold red]hi[/] arrays[/] are fun ␛]0;PWNED␇ \ufffd31m",
            "09:01 * Bob waves",
        ]
        assert shown[4:7] == [" ···  Alice: on its way", "slow  Alice: slowly", "  !   Alice: refused"]
        assert shown[7].startswith("─")
        assert " new since you joined " in shown[7]
        assert " 5 earlier messages not shown " in shown[8]
        assert shown[9] == "09:02 could not send: too long"
        for row in range(pane.row_count):
            assert not any(segment.style and segment.style.link for segment in pane.render_row(row))
            assert not any(ch in pane.render_row(row).text for ch in "\x1b\x07\x9b")


async def test_follows_new_entries_and_a_replaced_entry_changes_in_place() -> None:
    entries = filled(100)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        assert pane.following
        assert screen(pane)[-1] == "09:00 Bob: message 99"
        pending = message("mine", sender="Alice", own=True, state="pending")
        entries.append([pending])
        await pilot.pause()
        assert screen(pane)[-1] == " ···  Alice: mine"
        entries.replace(len(entries) - 1, pending.changed(state="sent", seq=100))
        await pilot.pause()
        assert screen(pane)[-1] == "09:00 Alice: mine"
        assert pane.scroll_y == pane.max_scroll_y


async def test_scrolled_up_the_view_stays_and_counts_new_messages_until_end() -> None:
    entries = filled(100)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        pane.scroll_to(y=20, animate=False, immediate=True)
        await pilot.pause()
        assert not pane.following
        seen = screen(pane)
        entries.append([message("live 1", seq=100), message("live 2", seq=101)], live=2)
        entries.append([message("live 3", seq=102)], live=1)
        entries.append([message("history, not live", seq=103)])
        await pilot.pause()
        assert pane.unseen == 3
        now = screen(pane)
        assert now[:-1] == seen[:-1]  # the lines being read did not move
        assert now[-1].strip() == "3 new ↓"
        await pilot.press("end")
        await pilot.pause()
        assert pane.following
        assert pane.unseen == 0
        assert screen(pane)[-1] == "09:00 Bob: history, not live"


async def test_a_click_on_the_new_marker_jumps_to_the_end() -> None:
    entries = filled(100)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        pane.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        entries.append([message("live", seq=100)], live=1)
        await pilot.pause()
        assert await pilot.click(MessagePane, offset=(30, pane.size.height - 1))
        await pilot.pause()
        assert pane.following
        assert screen(pane)[-1] == "09:00 Bob: live"


async def test_stays_pinned_when_the_pane_shrinks_and_grows() -> None:
    entries = filled(200, wide_every=7)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        box = app.query_one("#box")
        for height in (6, 1, 9):  # the composer grows and shrinks
            box.styles.height = height
            await pilot.pause()
            assert pane.following
            assert pane.scroll_y == pane.max_scroll_y
            assert screen(pane)[-1] == "09:00 Bob: message 199"
        for size in ((60, 10), (40, 25), (90, 8)):  # the terminal shrinks, grows, narrows and widens
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert pane.scroll_y == pane.max_scroll_y
            assert screen(pane)[-1] == "09:00 Bob: message 199"
        pane.scroll_to_end()  # what sending does, also when already there
        entries.append([message("after", seq=200)])
        await pilot.pause()
        assert screen(pane)[-1] == "09:00 Bob: after"


async def test_visible_range_reads_the_entries_on_screen() -> None:
    entries = filled(100)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        height = pane.size.height
        assert pane.visible_range() == (100 - height, 99)
        pane.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        assert pane.visible_range() == (10, 10 + height - 1)


async def test_show_switches_lists_and_forgets_the_old_one() -> None:
    first, second = filled(10), EntryList()
    second.append([message("in the second group", sender="Carol")])
    app = PaneApp(first)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        pane.show(second)
        first.append([message("to the first, after the switch")])
        await pilot.pause()
        assert rows(pane) == ["09:00 Carol: in the second group"]
        pane.show(None)
        await pilot.pause()
        assert rows(pane) == []
        assert pane.visible_range() is None


async def test_a_batch_costs_one_update_not_one_per_message() -> None:
    entries = filled(10)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        calls: list[object] = []
        refresh = pane.refresh

        def counting(*regions: Region, **flags: bool) -> MessagePane:
            calls.append(regions)
            return refresh(*regions, **flags)

        pane.refresh = counting  # type: ignore[method-assign]
        with entries.batch():
            for n in range(1000):
                entries.append([message(f"burst {n}")], live=1)
        assert len(calls) <= 3  # ours, and Textual's for the scroll and the new size: not one per message
        await pilot.pause()
        assert screen(pane)[-1] == "09:00 Bob: burst 999"


async def test_visible_range_in_the_middle_of_a_batch_reads_no_entry_and_follows_the_end() -> None:
    entries = filled(100)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        entries.append([message("not painted yet" + " long" * 30, seq=100)])  # to place (and wrap) when painted
        with entries.batch():  # a timeline's trim: drop the top, add a live one, then ask where the view is
            entries.splice(0, 60, [])
            entries.append([message("in the batch", seq=101)])
            shown = pane.visible_range()
            assert shown is not None
            assert shown[1] == 41  # following: the end of the list as it is now, not as last painted
        scrolled = filled(100)
        pane.show(scrolled)
        await pilot.pause()
        pane.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        with scrolled.batch():
            scrolled.append([message("below")], live=1)
            assert pane.visible_range() == (10, 10 + pane.size.height - 1)  # scrolled up: the lines shown
        await pilot.pause()
        assert any(row.startswith("09:00 Bob: message 10") for row in screen(pane))


async def test_a_removed_pane_stops_following_its_list() -> None:
    entries = filled(10)
    app = PaneApp(entries)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        assert len(entries._subscribers) == 1
        await pane.remove()
        assert entries._subscribers == []  # the timeline outlives the screen: no dead view behind
        entries.append([message("after the pane went")])
