"""Typing, presence and /nick as the chat screen shows them, against a real server (two real apps).

Each test needs the server feature it shows; without it (an older server) it is skipped."""

from __future__ import annotations

import pytest

from chat_tui.screens import ChatScreen
from chat_tui.screens.chat_commands import features
from chat_tui.widgets import MemberList
from chat_tui.widgets.member_list import TYPING_MARK
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, join_group, make_app, pane_text, say, wait_until


def member_rows(chat: ChatScreen) -> list[str]:
    member_list = chat.query_one(MemberList)
    return [str(member_list.get_option_at_index(i).prompt) for i in range(member_list.option_count)]


async def test_typing_away_and_nick_show_in_the_member_list(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await connect(alice)
        alice_chat = await create_group(alice, "club", "pw")
        await connect(bob)
        await join_group(bob, alice_chat.group_id, "pw")
        bob_chat = await chat_screen(bob)
        offered = features(bob_app.session)
        if not {"typing", "presence", "rename"} <= offered:
            pytest.skip(f"the server offers only {sorted(offered)}")
        await wait_until(alice, lambda: "Bob" in member_rows(alice_chat))

        await bob.press(*"hel")
        await wait_until(alice, lambda: f"Bob {TYPING_MARK}" in member_rows(alice_chat))
        assert "Bob is typing…" in str(alice_chat.query_one(MemberList).border_subtitle)
        await bob.press("enter")  # a message of Bob's ends his "typing"
        await wait_until(alice, lambda: "Bob" in member_rows(alice_chat) and "Bob: hel" in pane_text(alice_chat.pane))
        await wait_until(alice, lambda: f"Bob {TYPING_MARK}" not in member_rows(alice_chat))

        await say(bob, "/away lunch")
        await wait_until(alice, lambda: "Bob away" in member_rows(alice_chat))
        await say(bob, "/away")
        await wait_until(alice, lambda: "Bob" in member_rows(alice_chat))

        await say(bob, "/nick Robert")
        await wait_until(alice, lambda: "Bob is now known as Robert" in pane_text(alice_chat.pane))
        assert "Robert" in member_rows(alice_chat)
        await wait_until(bob, lambda: bob_chat.you == "Robert")
        await say(alice, "/nick Robert")
        await wait_until(alice, lambda: bool(alice_chat.composer_reason()))
        assert "already called Robert" in alice_chat.composer_reason()
        assert alice_chat.you == "Alice"


async def test_the_member_list_filters_as_you_type_and_toggles(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await connect(alice)
        chat = await create_group(alice, "club", "pw")
        await connect(bob)
        await join_group(bob, chat.group_id, "pw")
        await wait_until(alice, lambda: len(member_rows(chat)) == 2)
        chat.query_one("#member-filter").focus()
        await alice.pause()
        await alice.press(*"bo")
        await wait_until(alice, lambda: member_rows(chat) == ["Bob"])
        assert chat.query_one(MemberList).border_title == "Members (1/2)"
        assert chat.composer.text == ""  # typed into the filter, not the message
        await alice.press("backspace", "backspace")
        await wait_until(alice, lambda: len(member_rows(chat)) == 2)
        await alice.press("f2")
        await wait_until(alice, lambda: not chat.query_one(MemberList).region)
        await alice.press("f2")
        await wait_until(alice, lambda: chat.query_one(MemberList).region.width > 0)


async def test_idle_marks_us_away_and_a_key_brings_us_back(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    alice_app.idle_after, alice_app.idle_check = 1.0, 0.1  # instead of 10 minutes and 30 s
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await connect(alice)
        chat = await create_group(alice, "club", "pw")
        if "presence" not in features(alice_app.session):
            pytest.skip("the server does not offer presence")
        await connect(bob)
        await join_group(bob, chat.group_id, "pw")
        bob_chat = await chat_screen(bob)
        await wait_until(bob, lambda: "Alice away" in member_rows(bob_chat))
        await alice.press("pagedown")  # any key (a printable one would also show Alice as typing)
        await wait_until(bob, lambda: "Alice" in member_rows(bob_chat))
