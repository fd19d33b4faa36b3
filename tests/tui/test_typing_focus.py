"""Typing on the chat screen while the message pane or member list has focus goes to the composer."""

from __future__ import annotations

from chat_tui.widgets import Composer, MemberList, MessagePane
from tests.tui.helpers import SIZE, connect, create_group, make_app, wait_until


async def test_typing_on_the_message_pane_goes_to_the_composer(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        chat.query_one(MessagePane).focus()
        await pilot.pause()
        assert chat.query_one(MessagePane).has_focus
        await pilot.press("h", "i")
        composer = chat.query_one(Composer)
        assert composer.text == "hi"
        assert composer.has_focus
        assert composer.cursor_location == composer.document.end


async def test_typing_on_the_member_list_goes_to_the_end_of_the_draft(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        composer = chat.query_one(Composer)
        await pilot.press(*"draft ")
        composer.move_cursor((0, 0))  # the new keys still land after the draft, not at the cursor
        chat.query_one(MemberList).focus()
        await pilot.pause()
        assert chat.query_one(MemberList).has_focus
        await pilot.press("h", "i")
        assert composer.text == "draft hi"
        assert composer.has_focus


async def test_pane_keys_keep_their_meaning(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        for n in range(60):
            chat.notice(f"notice {n}")
        pane = chat.query_one(MessagePane)
        await wait_until(pilot, lambda: pane.max_scroll_y > 0)
        pane.focus()
        await pilot.pause()
        await pilot.press("end")  # End keeps its meaning: the pane scrolls to its newest line
        await wait_until(pilot, lambda: pane.scroll_y == pane.max_scroll_y)
        bottom = pane.scroll_y
        await pilot.press("pageup", "up", "home", "end", "ctrl+h")
        composer = chat.query_one(Composer)
        assert composer.text == ""
        assert app.focused is pane
        await pilot.press("pageup")
        await wait_until(pilot, lambda: pane.scroll_y < bottom)
        assert composer.text == ""
        assert app.focused is pane
