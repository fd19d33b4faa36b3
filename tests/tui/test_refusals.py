"""Refusals a new user hit (issue 9): a refused message keeps its text, with the reason beside the
composer and a live count near the limit; dialogs speak in sentences; joining a group we are in opens it."""

from __future__ import annotations

from textual.widgets import Input

from chat_tui.screens import ChatScreen, HomeScreen, JoinDialog
from chat_tui.widgets import Composer
from shared import GroupJoined, limits
from tests.tui.helpers import (
    SIZE,
    chat_screen,
    connect,
    create_group,
    join_group,
    label_text,
    make_app,
    pane_text,
    wait_until,
)


def on_screen(chat: ChatScreen, selector: str) -> bool:
    """Whether the widget is displayed and lies inside the visible screen."""
    widget = chat.query_one(selector)
    region = widget.region
    return widget.display and region.height > 0 and chat.region.contains_region(region)


async def test_a_too_long_message_stays_in_the_composer_with_the_reason_beside_it(
    server_address: tuple[str, int],
) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "long talk", "pw")
        composer = chat.composer
        assert not on_screen(chat, "#composer-status")  # nothing to say: the line takes no room

        composer.insert("x" * 3_712)  # past 90 % of the limit: the count appears
        await pilot.pause()
        assert chat.composer_count() == "3,712 / 4,000"
        assert on_screen(chat, "#composer-count")
        assert not chat.query_one("#composer-count").has_class("-over")

        composer.insert("y" * (limits.MAX_TEXT_LENGTH + 1 - 3_712))  # a 4,001-character paste
        await pilot.pause()
        assert chat.composer_count() == "4,001 / 4,000"
        assert chat.query_one("#composer-count").has_class("-over")

        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(chat.composer_reason()))
        assert len(composer.text) == limits.MAX_TEXT_LENGTH + 1  # nothing lost
        assert "A message is 1 to 4,000 characters." in chat.composer_reason()
        assert on_screen(chat, "#composer-reason")
        assert app.session is not None
        assert app.session.unacknowledged(chat.group_id) == 0

        composer.select_all()  # fixed: the next message goes, and the reason goes away
        await pilot.press(*"short", "enter")
        await wait_until(pilot, lambda: "Alice: short" in pane_text(chat.pane))
        assert chat.composer_reason() == ""
        assert composer.text == ""
        assert not on_screen(chat, "#composer-status")


async def test_a_message_the_server_refuses_comes_back_without_overwriting_newer_typing() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=SIZE) as pilot:
        app.open_chat(GroupJoined(1, 7, "seven", "Alice", ("Alice",)))
        chat = await chat_screen(pilot)
        chat.timeline.pending("m1", "Alice", "first try")
        chat.timeline.refused("m1", "first try", "rate_limited", "slow down")
        await pilot.pause()
        assert chat.composer.text == "first try"  # the composer was empty: back as it was
        assert "slow down" in chat.composer_reason()
        assert on_screen(chat, "#composer-reason")

        chat.composer.load_text("newer")
        chat.timeline.pending("m2", "Alice", "second try")
        chat.timeline.refused("m2", "second try", "rate_limited", "slow down")
        await pilot.pause()
        assert chat.composer.text == "second try\nnewer"  # both kept, newer typing untouched


async def test_without_a_connection_the_text_comes_back() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=SIZE) as pilot:
        app.open_chat(GroupJoined(1, 7, "seven", "Alice", ("Alice",)))
        chat = await chat_screen(pilot)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: bool(chat.composer_reason()))
        assert chat.composer.text == "hello"
        assert "not connected" in chat.composer_reason()


async def test_dialogs_speak_in_sentences(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: bool(app.screen.query("#group-name")))
        app.screen.query_one("#group-name", Input).value = "g" * (limits.MAX_GROUP_NAME_LENGTH + 1)
        await pilot.pause()
        error = label_text(app, "#error")
        assert error == "A group name is 1 to 64 characters."
        assert "group_name" not in error
        app.screen.query_one("#group-name", Input).value = "a: b\u200b "
        await pilot.pause()
        assert label_text(app, "#error") == "A group name cannot start or end with a space."


async def test_joining_a_group_we_are_in_opens_its_chat(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "twice", "pw")
        await pilot.press(*"kept draft")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await join_group(pilot, chat.group_id, "pw")
        await wait_until(pilot, lambda: app.screen is chat)
        assert not any(isinstance(screen, JoinDialog) for screen in app.screen_stack)
        assert chat.query_one(Composer).text == "kept draft"
        assert list(app.chats) == [chat.group_id]
