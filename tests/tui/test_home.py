"""The home screen's quit and disconnect keys, against a real server."""

from __future__ import annotations

import gc

from textual.widgets import Input

from chat_tui.screens import ConfirmDialog, ConnectScreen, HomeScreen
from chat_tui.session import SessionState
from chat_tui.widgets import MemberList
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, fill, join_group, make_app, wait_until


async def test_q_with_no_group_open_quits_at_once(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None)
        assert not any(isinstance(screen, ConfirmDialog) for screen in app.screen_stack)


async def test_q_with_groups_open_asks_first(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await create_group(pilot, "Quitters", "pw123456")
        await pilot.press("escape")  # back home, still in the group
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "1 group" in str(app.screen.query_one("#question").render())
        await pilot.press("n")  # no: stay
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("q", "enter")  # Enter lands on Cancel: a stray Enter never quits
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("q", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.pause(0.1)
        assert app.return_code is None
        assert len(app.chats) == 1
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None)


async def test_d_disconnects_and_the_name_can_be_changed(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "Renamers", "pw123456")
        group_id = chat.group_id
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        session = app.session
        assert session is not None
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        await wait_until(pilot, lambda: session.state is SessionState.CLOSED)
        assert app.session is None
        assert app.chats == {}
        screen = app.screen
        assert [field.value for field in screen.query(Input)] == [server_address[0], str(server_address[1]), "Alice"]
        assert app.focused is screen.query_one("#name", Input)  # ready to type a new name
        await fill(pilot, "#name", "Bob")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.you == "Bob"
        await join_group(pilot, group_id, "pw123456")
        joined = await chat_screen(pilot)
        # The server let Alice go when she disconnected: Bob is alone in the group.
        await wait_until(pilot, lambda: joined.query_one(MemberList).names == ["Bob"])


async def test_d_with_no_group_open_disconnects_at_once(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        assert app.session is None
        assert app.return_code is None


async def test_startup_objects_are_frozen_once_connected_and_handed_back_at_exit(
    server_address: tuple[str, int],
) -> None:
    # Full collections walking Textual's startup objects held typed keys back for 200-500 ms under load
    # (chat-tui-bench gc_longest_ms): once connected they are frozen out of the walk; at exit they go back.
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0)
        frozen = gc.get_freeze_count()
        await create_group(pilot, "Frosty", "pw123456")
        await wait_until(pilot, lambda: gc.get_freeze_count() > frozen)  # the chat's widgets too
    assert gc.get_freeze_count() == 0
