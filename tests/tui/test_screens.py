"""Pilot tests of each screen and dialog against a real chat server."""

from __future__ import annotations

from textual.widgets import Button, Input

from chat_tui.screens import ChatScreen, ConnectScreen, CreateDialog, HomeScreen, JoinDialog
from chat_tui.session.link import ServerLink
from shared import CreateGroup
from tests.tui.helpers import SIZE, connect, create_group, join_group, label_text, make_app, wait_until


async def test_connect_screen_validates_then_connects(server_address: tuple[str, int]) -> None:
    host, port = server_address
    app = make_app(host, port)  # no name: focus starts in the empty name field
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, ConnectScreen)
        assert app.focused is app.screen.query_one("#name", Input)
        await pilot.press("enter")  # name is empty: refused in the form, not sent
        assert "Please enter a name." in label_text(app, "#error")
        assert app.focused is app.screen.query_one("#name", Input)
        await pilot.press(*"Al\x1bice")  # ESC is a key, not text; a control never gets in
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.session is not None


async def test_connect_to_a_closed_port_shows_the_error(server_address: tuple[str, int]) -> None:
    host, _ = server_address
    app = make_app(host, 1, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is app.screen.query_one("#connect", Button)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "cannot connect" in label_text(app, "#status"))
        assert isinstance(app.screen, ConnectScreen)


async def test_home_keys_open_dialogs_and_escape_cancels(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JoinDialog))
        assert app.focused is app.screen.query_one("#group-id", Input)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateDialog))
        assert app.focused is app.screen.query_one("#group-name", Input)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None)


async def test_join_validates_as_you_type_and_shows_a_wrong_password(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "book club", "s3cret")
        group_id = chat.group_id
        await pilot.press(*"qqq", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))

        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JoinDialog))
        await pilot.press("x")
        assert "A group ID is a number." in label_text(app, "#error")
        await pilot.press("backspace", *str(group_id), "tab", *"wrong", "enter")
        await wait_until(pilot, lambda: "Wrong group ID or password" in label_text(app, "#error"))
        assert isinstance(app.screen, JoinDialog)  # still open: fix the password and retry
        await pilot.press(*["backspace"] * 5, *"s3cret", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_create_checks_passwords_match_and_shows_the_group_id(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateDialog))
        await pilot.press(*"book club", "tab", *"one", "tab", *"two", "enter")
        assert "passwords do not match" in label_text(app, "#error")
        assert isinstance(app.screen, CreateDialog)
        await pilot.press(*["backspace"] * 3, *"one", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        title = str(chat.query_one("#chat-title").render())
        assert f"group ID {chat.group_id}" in title
        assert "book club" in title
        await wait_until(pilot, lambda: app.focused is chat.query_one("#composer"))


async def test_create_refused_name_stays_in_the_dialog(server_address: tuple[str, int]) -> None:
    peer = await ServerLink.open(*server_address)
    await peer.request(lambda rid: CreateGroup(rid, "taken", "pw", "Mallory"))
    app = make_app(*server_address, "Alice")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await connect(pilot)
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, CreateDialog))
            await pilot.press(*"taken", "tab", *"pw", "tab", *"pw", "enter")
            await wait_until(pilot, lambda: "already exists" in label_text(app, "#error"))
            assert isinstance(app.screen, CreateDialog)
            assert not app.screen.query_one("#submit", Button).disabled  # ready for another try
    finally:
        await peer.close()


async def test_join_unknown_group_is_refused_in_the_dialog(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, 987654, "nope")
        await wait_until(pilot, lambda: "Wrong group ID or password" in label_text(app, "#error"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
