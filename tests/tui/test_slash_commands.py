"""Slash commands typed in the composer and chosen in the command palette, against a real server."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from chat_tui.screens import ChatScreen, HomeScreen, JoinDialog
from chat_tui.screens.chat_commands import features
from chat_tui.screens.search import SearchScreen
from chat_tui.widgets import MemberList
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, join_group, make_app, pane_text, say, wait_until


async def two_in_a_group(alice: Pilot[int], bob: Pilot[int]) -> tuple[ChatScreen, ChatScreen]:
    await connect(alice)
    alice_chat = await create_group(alice, "club", "pw")
    await connect(bob)
    await join_group(bob, alice_chat.group_id, "pw")
    bob_chat = await chat_screen(bob)
    await wait_until(alice, lambda: alice_chat.query_one(MemberList).names == ["Alice", "Bob"])
    return alice_chat, bob_chat


async def test_unknown_command_is_refused_with_a_hint_and_never_sent(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        alice_chat, bob_chat = await two_in_a_group(alice, bob)
        await say(alice, "/hlep")
        await wait_until(alice, lambda: "did you mean /help?" in alice_chat.composer_reason())
        assert alice_chat.composer.text == "/hlep"  # kept, to fix or to send with //
        alice_chat.composer.clear()
        await say(alice, "//hlep is a typo")
        await wait_until(bob, lambda: "Alice: /hlep is a typo" in pane_text(bob_chat.pane))
        assert "Alice: /hlep\n" not in pane_text(bob_chat.pane) + "\n"


async def test_help_who_and_clear_act_locally(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        alice_chat, bob_chat = await two_in_a_group(alice, bob)
        await say(alice, "/help")
        await wait_until(
            alice, lambda: "send TEXT starting with a /" in pane_text(alice_chat.pane).replace("\n      ", " ")
        )
        await say(alice, "/who")
        await wait_until(alice, lambda: "Members (2): Alice, Bob" in pane_text(alice_chat.pane))
        await say(alice, "hello")
        await wait_until(alice, lambda: alice_chat.timeline.entries[-1].state == "sent")
        await say(alice, "/clear")
        await wait_until(alice, lambda: "Alice: hello" not in pane_text(alice_chat.pane))
        await say(bob, "after the clear")
        await wait_until(alice, lambda: "Bob: after the clear" in pane_text(alice_chat.pane))
        assert "/help" not in pane_text(bob_chat.pane)
        assert "/who" not in pane_text(bob_chat.pane)


async def test_leave_and_quit(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "solo", "pw")
        await say(pilot, "/leave")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and chat.group_id not in app.chats)
        await create_group(pilot, "again", "pw")
        await say(pilot, "/quit")
        await wait_until(pilot, lambda: app.return_code == 0)


async def test_join_opens_the_dialog_with_the_id_filled_in(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await connect(alice)
        first = await create_group(alice, "first", "pw")
        await connect(bob)
        second = await create_group(bob, "second", "pw2")
        await say(alice, "/join x")
        await wait_until(alice, lambda: "is not a group ID" in first.composer_reason())
        first.composer.clear()
        await say(alice, f"/join {second.group_id}")
        await wait_until(alice, lambda: isinstance(alice_app.screen, JoinDialog))
        dialog = alice_app.screen
        assert dialog.query_one("#group-id", Input).value == str(second.group_id)
        assert dialog.focused is dialog.query_one("#password", Input)
        await alice.press(*"pw2", "enter")
        await wait_until(alice, lambda: getattr(alice_app.screen, "group_id", None) == second.group_id)
        assert set(alice_app.chats) == {first.group_id, second.group_id}


async def test_me_sends_an_action_line(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        alice_chat, bob_chat = await two_in_a_group(alice, bob)
        await say(alice, "/me waves")
        await wait_until(bob, lambda: "* Alice waves" in pane_text(bob_chat.pane))
        await wait_until(alice, lambda: "* Alice waves" in pane_text(alice_chat.pane))
        if "action" in features(bob_app.session):  # stored as an action, not as text starting "* "
            assert [e.kind for e in bob_chat.timeline.entries if "waves" in e.text] == ["action"]


async def test_search_lists_hits_and_enter_shows_one_in_the_pane(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "solo", "pw")
        if "search" not in features(app.session):
            pytest.skip("the server does not offer search")
        for n in range(10):  # tall fillers: the first hit is far above the end of the pane
            chat.send_text(f"LUNCH at noon {n}" if n in (1, 8) else f"filler {n}" + "\n." * 5)
        await wait_until(pilot, lambda: chat.timeline.newest_seq == 10, timeout=30)
        await say(pilot, "/search lunch")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        search = app.screen
        assert isinstance(search, SearchScreen)
        await wait_until(pilot, lambda: len(search.hits) == 2)
        assert [hit.text for hit in search.hits] == ["LUNCH at noon 8", "LUNCH at noon 1"]  # newest first
        await pilot.press("down", "enter")  # the older hit, far above the end of the pane
        await wait_until(pilot, lambda: app.screen is chat)
        index = [entry.seq for entry in chat.timeline.entries].index(search.hits[1].seq)

        def hit_on_screen() -> bool:
            shown = chat.pane.visible_range()
            return shown is not None and shown[0] <= index <= shown[1]

        await wait_until(pilot, hit_on_screen, timeout=3)
        assert not chat.pane.following


async def test_palette_lists_the_commands_beside_the_system_ones(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "solo", "pw")
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"/who")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Members (1): Alice" in pane_text(chat.pane))
        # An argument-taking command is put in the composer to finish.
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"/nick")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.composer.text == "/nick ")
        # Textual's own commands are still there.
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"theme")
        await pilot.pause(0.3)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        assert "theme" in str(palette.query_one("CommandList").get_option_at_index(0).prompt).lower()  # type: ignore[attr-defined]


async def test_palette_switches_groups(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        first = await create_group(pilot, "apples", "pw")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await create_group(pilot, "bananas", "pw")
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"apples")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is first)
