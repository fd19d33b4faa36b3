"""A mouse drag over the message pane selects the text shown, and the app's copy gets it as plain text."""

from __future__ import annotations

from textual.app import App, ComposeResult

from chat_tui.session.entries import Entry, EntryList
from chat_tui.widgets.message_pane import MessagePane


class SelectApp(App[int]):
    """The pane alone, filling the screen."""

    def __init__(self, entries: EntryList) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        yield MessagePane(self.entries)


def chat() -> EntryList:
    entries = EntryList()
    entries.append(
        [
            Entry("message", "hello there", sender="Bob", time="09:00", seq=1),
            Entry("message", "arrays[/] are [b]fun[/b]", sender="Alice", time="09:01", seq=2),
            Entry("message", "see you", sender="Bob", time="09:02", seq=3),
        ]
    )
    return entries


async def test_a_drag_over_rows_copies_the_text_shown() -> None:
    app = SelectApp(chat())
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        top = 0  # three rows: they fit, from the top
        assert pane.render_line(top).text.rstrip() == "09:00 Bob: hello there"
        # Textual's selection takes in the cell under the pointer: from the B of "Bob" to the b of "Bob".
        await pilot.mouse_down(pane, offset=(6, top))
        await pilot.hover(pane, offset=(8, top + 2))
        await pilot.mouse_up(pane, offset=(8, top + 2))
        await pilot.pause()
        assert pane.text_selection is not None
        expected = "Bob: hello there\n09:01 Alice: arrays[/] are [b]fun[/b]\n09:02 Bob"
        assert app.screen.get_selected_text() == expected
        pane.focus()
        await pilot.press("ctrl+c")
        assert app.clipboard == expected


async def test_the_selection_is_drawn_in_the_selection_style() -> None:
    app = SelectApp(chat())
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        top = 0
        await pilot.mouse_down(pane, offset=(6, top))
        await pilot.hover(pane, offset=(8, top))
        await pilot.mouse_up(pane, offset=(8, top))
        await pilot.pause()
        selected = app.screen.get_component_rich_style("screen--selection")
        strip = pane.render_line(top)
        lit = "".join(segment.text for segment in strip if segment.style and selected.bgcolor == segment.style.bgcolor)
        assert lit == "Bob"
        assert strip.text.rstrip() == "09:00 Bob: hello there"  # the text itself is unchanged
        assert app.screen.get_selected_text() == "Bob"


async def test_a_selection_of_a_scrolled_up_view_copies_older_rows() -> None:
    entries = EntryList()
    entries.append([Entry("message", f"line {n}", sender="Bob", time="09:00", seq=n) for n in range(50)])
    app = SelectApp(entries)
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        pane.scroll_to_entry(10)
        await pilot.pause()
        await pilot.mouse_down(pane, offset=(11, 0))
        await pilot.hover(pane, offset=(17, 1))
        await pilot.mouse_up(pane, offset=(17, 1))
        await pilot.pause()
        assert app.screen.get_selected_text() == "line 10\n09:00 Bob: line 11"
