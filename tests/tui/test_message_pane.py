"""MessagePane: virtualized rendering, wrapping, re-wrapping on resize, sticking to the bottom."""

from __future__ import annotations

from textual.app import App, ComposeResult

from chat_tui.widgets import Entry, MessagePane
from tests.tui.helpers import pane_text


class PaneApp(App[int]):
    """Just a pane filling the screen."""

    def compose(self) -> ComposeResult:
        yield MessagePane()


async def test_messages_notices_and_own_messages_render() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_notice("09:00", "Bob has joined the chat!")
        pane.add_message("09:01", "Bob", "hello")
        pane.add_message("09:02", "Alice", "hi Bob", own=True)
        await pilot.pause()
        assert pane_text(pane).splitlines() == [
            "09:00 Bob has joined the chat!",
            "09:01 Bob: hello",
            "09:02 Alice: hi Bob",
        ]


async def test_pending_message_is_marked_until_acknowledged_then_settles_in_seq_order() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_pending("m1", "Alice", "on its way")
        await pilot.pause()
        assert pane_text(pane) == " ···  Alice: on its way"
        pane.add_message("10:29", "Bob", "said before", seq=4)  # stored before ours: shows above it
        assert pane_text(pane).splitlines() == ["10:29 Bob: said before", " ···  Alice: on its way"]
        pane.acknowledge("m1", "10:30", 5)
        await pilot.pause()
        assert pane_text(pane).splitlines() == ["10:29 Bob: said before", "10:30 Alice: on its way"]
        assert not pane.is_pending("m1")
        pane.add_pending("m2", "Alice", "lost")
        pane.refuse("m2")
        assert pane_text(pane).splitlines()[-1] == "  !   Alice: lost"


async def test_each_seq_shows_once() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_message("10:00", "Bob", "one", seq=1)
        pane.add_message("10:00", "Bob", "one again", seq=1)
        pane.prepend([Entry("09:00", "Bob", "one from history", seq=1), Entry("09:00", "Bob", "zero", seq=0)])
        await pilot.pause()
        assert pane_text(pane).splitlines() == ["09:00 Bob: zero", "10:00 Bob: one"]


async def test_prepend_keeps_the_top_line_in_place_and_wraps_only_the_page() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.set_header("loading older messages…")
        for seq in range(100, 150):
            pane.add_message("10:00", "Bob", f"message {seq}", seq=seq)
        await pilot.pause()
        pane.scroll_to(y=3, animate=False, immediate=True)
        await pilot.pause()
        top = pane.render_line(0).text
        cached = len(pane._cache)
        added = pane.prepend(Entry("09:00", "Carol", f"old {seq}", seq=seq) for seq in range(50, 100))
        await pilot.pause()
        assert added == 50
        assert pane.render_line(0).text == top  # the line the user looked at did not move
        assert len(pane._cache) <= cached + pane.size.height  # only what is on screen got rendered
        rows = pane_text(pane).splitlines()
        assert rows[0].strip() == "loading older messages…"
        assert rows[1] == "09:00 Carol: old 50"
        assert rows[51] == "10:00 Bob: message 100"


async def test_marker_is_a_full_width_rule() -> None:
    app = PaneApp()
    async with app.run_test(size=(40, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_message("10:00", "Bob", "old", seq=1)
        pane.add_marker("new since you joined")
        await pilot.pause()
        rule = pane_text(pane).splitlines()[1]
        assert " new since you joined " in rule
        assert rule.startswith("─")
        assert len(rule) == pane.scrollable_content_region.width


async def test_long_messages_wrap_with_a_hanging_indent_and_rewrap_on_resize() -> None:
    app = PaneApp()
    async with app.run_test(size=(40, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_message("09:00", "Bob", " ".join(["word"] * 20))
        await pilot.pause()
        narrow = pane_text(pane).splitlines()
        assert len(narrow) > 2
        assert all(line.startswith("      word") for line in narrow[1:])
        await pilot.resize_terminal(100, 10)
        await pilot.pause()
        assert len(pane_text(pane).splitlines()) < len(narrow)


async def test_multi_line_messages_keep_their_lines() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        pane.add_message("09:00", "Bob", "first\nsecond")
        await pilot.pause()
        assert pane_text(pane).splitlines() == ["09:00 Bob: first", "      second"]


async def test_follows_the_bottom_only_when_already_there() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        for number in range(100):
            pane.add_message("09:00", "Bob", f"message {number}")
        await pilot.pause()
        assert pane.is_vertical_scroll_end
        assert pane.scroll_y == pane.max_scroll_y > 0
        pane.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        pane.add_message("09:00", "Bob", "while scrolled up")
        await pilot.pause()
        assert pane.scroll_y == 0  # reading history: not yanked to the bottom


async def test_renders_only_visible_rows_of_a_large_scrollback() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        for number in range(20_000):
            pane.add_message("09:00", "Bob", f"message {number}")
        await pilot.pause()
        # Only the rows on screen were rendered and cached, not 20k records' worth.
        assert len(pane._cache) <= 3 * pane.size.height
        visible = [pane.render_line(y).text for y in range(pane.size.height)]
        assert visible[-1].rstrip() == "09:00 Bob: message 19999"


async def test_peer_markup_and_controls_render_literally() -> None:
    app = PaneApp()
    payloads = [
        "[bold red]hi[/]",
        "[link=https://x]x[/]",
        "[@click=app.quit]x[/]",
        "arrays[/] are fun",
        "hi\x1b]0;PWNED\x07 x",
        "\x9b31m red?",
    ]
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(MessagePane)
        for text in payloads:
            pane.add_message("09:00", "[b]mallory[/b]", text)
        await pilot.pause()
        text = pane_text(pane)
        for literal in payloads[:4]:
            assert f"[b]mallory[/b]: {literal}" in text
        for control in ("\x1b", "\x9b", "\x07"):
            assert control not in text
        assert "hi\u241b]0;PWNED\u2407 x" in text
        assert "\ufffd31m red?" in text
        for row in range(pane.row_count):
            strip = pane.render_row(row)
            assert not any(segment.style and segment.style.link for segment in strip)
