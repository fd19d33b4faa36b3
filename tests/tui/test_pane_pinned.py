"""In the real chat screen: the view stays on the newest messages when the pane shrinks or grows
(terminal resize, composer growing), and sending jumps back to them."""

from __future__ import annotations

from textual.pilot import Pilot

from chat_tui.app import ChatApp
from chat_tui.screens import ChatScreen, HomeScreen
from chat_tui.widgets import MessagePane
from shared import GroupJoined
from tests.tui.helpers import FIXED_NOW, connect, create_group, make_app, say, wait_until

T0 = int(FIXED_NOW * 1000)


async def _chat(pilot: Pilot[int], messages: int) -> ChatScreen:
    app = pilot.app
    assert isinstance(app, ChatApp)
    await app.switch_screen(HomeScreen(None, "Alice", "127.0.0.1:7030"))
    chat = app.open_chat(GroupJoined(1, 4242, "book club", "Alice", ("Alice", "Bob")))
    await pilot.pause()
    for seq in range(1, messages + 1):
        chat.timeline.posted(seq, T0, "Bob", f"message {seq}" + (" that wraps" * 12 if seq % 5 == 0 else ""))
    await pilot.pause()
    return chat


def _bottom_row(pane: MessagePane) -> str:
    return pane.render_line(pane.size.height - 1).text.rstrip()


async def test_pinned_through_terminal_resizes_and_a_growing_composer() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await _chat(pilot, 301)
        pane = chat.pane
        assert _bottom_row(pane).endswith("message 301")
        for size in ((100, 18), (70, 40), (60, 18), (120, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert pane.following
            assert pane.scroll_y == pane.max_scroll_y
            assert _bottom_row(pane).endswith("message 301")
        height = pane.size.height
        chat.composer.insert("one\ntwo\nthree\nfour")  # the composer grows, the pane shrinks
        await pilot.pause()
        assert pane.size.height < height
        assert pane.scroll_y == pane.max_scroll_y
        assert _bottom_row(pane).endswith("message 301")


async def test_scrolled_up_new_messages_are_counted() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await _chat(pilot, 100)
        pane = chat.pane
        pane.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        chat.timeline.posted(101, T0, "Bob", "while you were reading")
        chat.timeline.posted(102, T0, "Bob", "and this")
        await pilot.pause()
        assert not pane.following
        assert _bottom_row(pane).strip() == "2 new ↓"
        chat.pane.focus()  # End in the composer moves its cursor; on the pane it jumps to the newest
        await pilot.press("end")
        await pilot.pause()
        assert pane.following
        assert _bottom_row(pane).endswith("and this")


async def test_sending_while_scrolled_up_jumps_to_the_newest(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, name="Alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "pinned", "secret-pw")
        for number in range(60):
            chat.timeline.notice(f"line {number}")
        await pilot.pause()
        pane = chat.pane
        pane.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        assert not pane.following
        await say(pilot, "hello")
        await wait_until(pilot, lambda: _bottom_row(pane).endswith("Alice: hello"))
        assert pane.following


async def test_ctrl_end_jumps_to_the_newest_while_the_composer_has_focus() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await _chat(pilot, 100)
        pane = chat.pane
        pane.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        chat.timeline.posted(101, T0, "Bob", "the newest")
        await pilot.pause()
        assert not pane.following
        assert chat.composer.has_focus
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert pane.following
        assert _bottom_row(pane).endswith("the newest")
