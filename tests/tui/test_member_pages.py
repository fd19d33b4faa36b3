"""Server replies the chat screen and dialogs must present whole: a paged member list, a throttle's wait."""

from __future__ import annotations

from chat_tui.screens import ChatScreen, HomeScreen, JoinDialog
from chat_tui.screens.form import refusal_text
from chat_tui.widgets import MemberList
from shared import Error, GroupJoined, JoinGroup
from shared.events import MemberList as MemberListPage
from tests.client.scripted_server import ScriptedServer
from tests.tui.helpers import SIZE, make_app, wait_until

GROUP = 12


async def test_the_member_list_is_complete_once_the_last_page_came(scripted: ScriptedServer) -> None:
    app = make_app(*scripted.address, name="Carol")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        peer = await scripted.accept()
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JoinDialog))
        await pilot.press(*str(GROUP), "tab", *"pw", "enter")
        join = await peer.receive_a(JoinGroup)
        await peer.send(
            GroupJoined(join.request_id, GROUP, "Lobby", "Carol", ("Alice", "Bob"), 0, more_members=True),
            MemberListPage(GROUP, ("Carol", "Dave"), True),
            MemberListPage(GROUP, ("Erin",), False),
        )
        # The screen is on top before its widgets are mounted: wait for the member list itself.
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and bool(app.screen.query(MemberList)))
        members = app.screen.query_one(MemberList)
        await wait_until(pilot, lambda: members.complete and len(members.names) == 5)
        assert members.names == ["Alice", "Bob", "Carol", "Dave", "Erin"]
        assert members.border_title == "Members (5)"


def test_a_dialog_refusal_says_when_to_try_again() -> None:
    throttled = Error(1, "too_many_attempts", "slow down", retry_after_ms=1200)
    assert refusal_text(throttled) == "The server refused: slow down (try again in 2 s)"
    wrong = Error(1, "bad_credentials", "wrong", retry_after_ms=999)
    assert refusal_text(wrong) == "Wrong group ID or password. Try again in 1 s."
