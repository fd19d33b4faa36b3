"""The composer's keys against a real server: Up/Down input history per group, Tab completion of
member names and commands, a long paste asking first."""

from __future__ import annotations

from textual import events

from chat_tui.screens import ChatScreen, ConfirmDialog, HomeScreen
from chat_tui.widgets.composer import PASTE_ASK_LINES, InputHistory
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, join_group, make_app, pane_text, say, wait_until


def test_input_history_walks_back_and_returns_to_the_draft() -> None:
    history = InputHistory(size=3)
    for line in ("a", "b", "b", "c", "d"):
        history.add(line)
    assert history.older("draft") == "d"
    assert history.older("d") == "c"
    assert history.older("c") == "b"
    assert history.older("b") is None  # "a" fell out of the 3 kept; "b" twice in a row is kept once
    assert history.newer() == "c"
    assert history.newer() == "d"
    assert history.newer() == "draft"
    assert history.newer() is None


async def test_up_and_down_recall_what_was_sent_in_this_group_only(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "first", "pw")
        await say(pilot, "one")
        await say(pilot, "two")
        await pilot.press(*"dra")
        await pilot.press("up")
        assert chat.composer.text == "two"
        await pilot.press("up", "up")
        assert chat.composer.text == "one"
        await pilot.press("down", "down")
        assert chat.composer.text == "dra"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        other = await create_group(pilot, "second", "pw")
        await pilot.press("up")
        assert other.composer.text == ""


async def test_tab_completes_names_and_commands(server_address: tuple[str, int]) -> None:
    alice_app, bob_app, bea_app = (make_app(*server_address, name) for name in ("Alice", "Bob", "Bea"))
    async with (
        alice_app.run_test(size=SIZE) as alice,
        bob_app.run_test(size=SIZE) as bob,
        bea_app.run_test(size=SIZE) as bea,
    ):
        await connect(alice)
        chat = await create_group(alice, "club", "pw")
        for pilot in (bob, bea):
            await connect(pilot)
            await join_group(pilot, chat.group_id, "pw")
            await chat_screen(pilot)
        await wait_until(alice, lambda: len(chat.timeline.members) == 3)
        await alice.press("b", "tab")
        assert chat.composer.text == "Bea: "
        await alice.press("tab")
        assert chat.composer.text == "Bob: "  # Tab again: the next candidate
        await alice.press(*"hi @a", "tab")  # our own name is not offered
        assert chat.composer.text == "Bob: hi @a"
        chat.composer.clear()
        await alice.press(*"/wh", "tab")
        assert chat.composer.text == "/who "
        await alice.press("enter")
        await wait_until(alice, lambda: "Members (3)" in pane_text(chat.pane))


async def test_a_long_paste_asks_first(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "solo", "pw")
        short = "\n".join(f"line {n}" for n in range(PASTE_ASK_LINES))
        app.post_message(events.Paste(short))
        await wait_until(pilot, lambda: chat.composer.text == short)
        chat.composer.clear()
        long = short + "\nlast"
        app.post_message(events.Paste(long))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert chat.composer.text == ""
        app.post_message(events.Paste(long))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: chat.composer.text == long)
