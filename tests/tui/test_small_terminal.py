"""A 60x18 terminal: every form shows all its fields and buttons at once (one-row fields below
``form.SHORT_BELOW`` rows), and the member list collapses below ``form.NARROW_BELOW`` columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.errors import NoWidget
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static

import chat_tui
from chat_tui.screens import ConfirmDialog, ConnectScreen, CreateDialog, JoinDialog, form
from chat_tui.widgets import MemberList
from tests.tui.helpers import connect, create_group, make_app

SMALL = (60, 18)
CSS_PATH = Path(chat_tui.__file__).with_name("chat.tcss")
"""The app's own stylesheet."""


class FormApp(App[None]):
    """The app's stylesheet and nothing else; a test pushes the screen it checks."""

    CSS_PATH = CSS_PATH


def drawn_whole(screen: Screen[object], widget: Widget) -> bool:
    """``widget`` is on screen and neither clipped nor covered: it is what shows at its corners."""
    region = widget.region
    if not region or not screen.region.contains_region(region):
        return False
    corners = (region.offset, (region.right - 1, region.bottom - 1))
    try:
        return all(screen.get_widget_at(x, y)[0] is widget for x, y in corners)
    except NoWidget:  # nothing drawn there at all
        return False


FORMS: dict[str, Callable[[], Screen[Any]]] = {
    "connect": lambda: ConnectScreen("127.0.0.1", 7030, ""),
    "create": lambda: CreateDialog(None, "Alice"),
    "join": lambda: JoinDialog(None, "Alice"),
    "confirm": lambda: ConfirmDialog("Leave 2 groups and quit?", "Quit"),
}


@pytest.mark.parametrize("name", FORMS)
async def test_every_field_and_button_shows_whole_at_60x18(name: str) -> None:
    app = FormApp()
    async with app.run_test(size=SMALL) as pilot:
        await app.push_screen(FORMS[name]())
        await pilot.pause()
        screen = app.screen
        assert screen.has_class("-short")
        widgets = [*screen.query(Input), *screen.query(Button)]
        assert widgets
        hidden = [widget.id for widget in widgets if not drawn_whole(screen, widget)]
        assert hidden == []


async def test_a_click_reaches_each_field_at_60x18() -> None:
    app = FormApp()
    async with app.run_test(size=SMALL) as pilot:
        await app.push_screen(CreateDialog(None, "Alice"))
        await pilot.pause()
        for field in app.screen.query(Input):
            await pilot.click(field)
            assert app.screen.focused is field


async def test_forms_keep_bordered_fields_in_a_tall_terminal() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(CreateDialog(None, "Alice"))
        await pilot.pause()
        assert app.screen.has_class("-tall")
        assert all(field.region.height == 3 for field in app.screen.query(Input))


class MembersScreen(Screen[None]):
    """The chat body's shape: messages beside the member list, with the app's breakpoints."""

    HORIZONTAL_BREAKPOINTS = form.WIDTH_BREAKPOINTS

    def compose(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            yield Static("messages", id="messages")
            yield MemberList("Alice", id="members")


async def test_the_member_list_collapses_in_a_narrow_terminal_and_comes_back() -> None:
    app = FormApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(MembersScreen())
        await pilot.pause()
        members = app.screen.query_one(MemberList)
        messages = app.screen.query_one("#messages")
        assert members.region.width == 24
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert not members.region
        assert messages.region.width == SMALL[0]
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert members.region.width == 24


async def test_the_chat_screen_hides_the_member_list_below_72_columns(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "pw")
        members = chat.query_one(MemberList)
        assert members.region.width == 24
        await pilot.resize_terminal(60, 18)
        await pilot.pause()
        assert not members.region
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert members.region.width == 24
