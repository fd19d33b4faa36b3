"""Keys: Ctrl+L redraws as in every terminal program (it no longer leaves the group); keys typed in one
fast burst (a password manager) land in the fields they were typed for."""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.widgets import Input, TextArea

from chat_tui.app import ChatApp
from chat_tui.screens import ConnectScreen, CreateDialog, JoinDialog
from tests.tui.helpers import SIZE, connect, create_group, make_app


async def test_ctrl_l_redraws_and_keeps_you_in_the_group_with_your_draft(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        await pilot.press(*"half a thought")
        repaints: list[bool] = []
        refresh = app.refresh

        def spy(*, repaint: bool = True, layout: bool = False, recompose: bool = False) -> ChatApp:
            repaints.append(repaint)
            return refresh(repaint=repaint, layout=layout, recompose=recompose)

        app.refresh = spy  # type: ignore[method-assign]
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert True in repaints
        assert app.screen is chat
        assert chat.group_id in app.chats
        assert chat.query_one("#composer", TextArea).text == "half a thought"  # no form feed typed in


def burst(app: App[object], *parts: str) -> None:
    """Queue keys on the app all at once, as a terminal delivers a password manager's typing (``pilot.press``
    waits after each key, which hides any reordering). A part is a key name or literal text."""
    for part in parts:
        keys = [(part, None)] if part in ("tab", "shift+tab", "enter") else [(char, char) for char in part]
        for key, char in keys:
            app.post_message(events.Key(key, char))


def values(app: App[object]) -> list[str]:
    return [widget.value for widget in app.screen.query(Input)]


async def test_a_burst_with_tabs_fills_each_field_of_the_create_dialog() -> None:
    app: App[object] = App()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(CreateDialog(None, "Alice"))
        await pilot.pause()
        burst(app, "Book club", "tab", "s3cret", "tab", "s3cret")
        await pilot.pause()
        assert values(app) == ["Book club", "s3cret", "s3cret"]


async def test_shift_tab_in_a_burst_goes_back_a_field_of_the_join_dialog() -> None:
    app: App[object] = App()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(JoinDialog(None, "Alice"))
        await pilot.pause()
        burst(app, "12", "tab", "pw", "shift+tab")
        await pilot.pause()
        assert values(app) == ["12", "pw"]
        assert app.screen.focused is app.screen.query_one("#group-id")


async def test_a_burst_with_tabs_fills_the_connect_form() -> None:
    app: App[object] = App()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ConnectScreen("", 7030, ""))
        await pilot.pause()
        burst(app, "chat.example", "tab", "tab", "Alice")
        await pilot.pause()
        assert values(app) == ["chat.example", "7030", "Alice"]
