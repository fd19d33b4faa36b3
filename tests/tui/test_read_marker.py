"""The read marker ("new since you last read") in the real app against a real server: moved when the
user comes back to a group that got messages meanwhile, and placed from the saved read position when
the group is joined again in a new run."""

from __future__ import annotations

from chat_tui.screens import ChatScreen, HomeScreen
from chat_tui.session.timeline import NEW_SINCE_READ
from tests.tui.helpers import SIZE, chat_screen, connect, join_group, make_app, pane_text, say, wait_until
from tests.tui.test_group_list import open_two_groups


def lines(chat: ChatScreen) -> list[str]:
    return [line.strip() for line in pane_text(chat.pane).splitlines() if line.strip()]


def index_of(chat: ChatScreen, text: str) -> int:
    return next(i for i, line in enumerate(lines(chat)) if text in line)


async def test_coming_back_to_a_group_moves_the_marker_to_what_is_new(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, bananas, _ = await open_two_groups(alice, bob)
        await alice.press("alt+1")
        await wait_until(alice, lambda: alice_app.screen is apples)
        await say(bob, "already read")
        await wait_until(alice, lambda: "Bob: already read" in pane_text(apples.pane))
        await alice.press("alt+2")
        await wait_until(alice, lambda: alice_app.screen is bananas)
        await say(bob, "first <b>unread</b> [bold]")
        await say(bob, "second unread")
        await wait_until(alice, lambda: apples.timeline.newest_seq >= 3)
        assert NEW_SINCE_READ not in pane_text(apples.pane)
        await alice.press("alt+1")
        await wait_until(alice, lambda: NEW_SINCE_READ in pane_text(apples.pane))
        marker = index_of(apples, NEW_SINCE_READ)
        assert index_of(apples, "Bob: already read") < marker < index_of(apples, "Bob: first <b>unread</b> [bold]")
        await alice.press("alt+2")  # back with nothing new: the marker stays put
        await wait_until(alice, lambda: alice_app.screen is bananas)
        await alice.press("alt+1")
        await wait_until(alice, lambda: alice_app.screen is apples)
        await alice.pause(0.05)
        assert index_of(apples, NEW_SINCE_READ) == marker
        assert pane_text(apples.pane).count(NEW_SINCE_READ) == 1


async def test_the_saved_read_position_places_the_marker_on_joining_again(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with bob_app.run_test(size=SIZE) as bob:
        async with alice_app.run_test(size=SIZE) as alice:
            apples, _bananas, _ = await open_two_groups(alice, bob)
            await alice.press("alt+1")
            await wait_until(alice, lambda: alice_app.screen is apples)
            await say(bob, "seen before quitting")
            await wait_until(alice, lambda: "Bob: seen before quitting" in pane_text(apples.pane))
            group_id = apples.timeline.group_id
            await alice.press("escape")  # leaving the chat's screen saves the read position
            await wait_until(alice, lambda: isinstance(alice_app.screen, HomeScreen))
        await say(bob, "missed while away")
        await say(bob, "also missed")
        again = make_app(*server_address, "Alice")
        async with again.run_test(size=SIZE) as alice:
            await connect(alice)
            await join_group(alice, group_id, "pw")
            chat = await chat_screen(alice)
            await wait_until(alice, lambda: "Bob: also missed" in pane_text(chat.pane))
            await wait_until(alice, lambda: NEW_SINCE_READ in pane_text(chat.pane))
            marker = index_of(chat, NEW_SINCE_READ)
            assert index_of(chat, "Bob: seen before quitting") < marker < index_of(chat, "Bob: missed while away")
