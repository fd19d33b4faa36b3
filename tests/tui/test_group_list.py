"""The group list beside a chat: unread counts, the mention marker and bell, switching keys, drafts,
read positions kept on disk. Against a real server, two real apps."""

from __future__ import annotations

from textual.pilot import Pilot

from chat_tui.app import ChatApp
from chat_tui.read_positions import ReadPositions, positions_path
from chat_tui.screens import ChatScreen, HomeScreen
from chat_tui.widgets import GroupList
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, join_group, make_app, pane_text, say, wait_until


def rows(chat: ChatScreen) -> list[str]:
    return chat.query_one(GroupList).rows()


async def open_two_groups(alice: Pilot[int], bob: Pilot[int]) -> tuple[ChatScreen, ChatScreen, ChatScreen]:
    """Alice creates "apples" and "bananas" (on screen last); Bob joins "apples". Returns
    (Alice's apples, Alice's bananas, Bob's apples)."""
    await connect(alice)
    apples = await create_group(alice, "apples", "pw")
    await alice.press("escape")
    await wait_until(alice, lambda: isinstance(alice.app.screen, HomeScreen))
    bananas = await create_group(alice, "bananas", "pw")
    await connect(bob)
    await join_group(bob, apples.group_id, "pw")
    bob_apples = await chat_screen(bob)
    return apples, bananas, bob_apples


def current(app: ChatApp) -> int | None:
    return app.screen.group_id if isinstance(app.screen, ChatScreen) else None


async def test_unread_count_and_mention_marker_then_switching_reads_them(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, bananas, _ = await open_two_groups(alice, bob)
        assert rows(bananas) == ["1 apples", "2 bananas"]
        await say(bob, "anyone here?")
        await wait_until(alice, lambda: rows(bananas)[0] == "1 apples 1")
        assert alice_app.bell_seam.rung == 0
        await say(bob, "ALICE: lunch?")
        await say(bob, "malice is not a mention")
        await wait_until(alice, lambda: rows(bananas)[0] == "1 apples 3 @")
        assert alice_app.bell_seam.rung == 1
        assert "3 new" in str(bananas.query_one(GroupList).border_title)

        await alice.press("alt+1")
        await wait_until(alice, lambda: alice_app.screen is apples)
        await wait_until(alice, lambda: rows(apples) == ["1 apples", "2 bananas"])
        assert "Bob: ALICE: lunch?" in pane_text(apples.pane)
        await alice.press("ctrl+n")
        await wait_until(alice, lambda: alice_app.screen is bananas)
        await alice.press("ctrl+p")
        await wait_until(alice, lambda: alice_app.screen is apples)


async def test_next_unread_key_and_drafts_kept_per_group(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, bananas, _ = await open_two_groups(alice, bob)
        await alice.press(*"half a thought")
        await say(bob, "news")
        await wait_until(alice, lambda: rows(bananas)[0] == "1 apples 1")
        await alice.press("alt+a")
        await wait_until(alice, lambda: alice_app.screen is apples)
        assert apples.composer.text == ""
        await alice.press("alt+2")
        await wait_until(alice, lambda: alice_app.screen is bananas)
        assert bananas.composer.text == "half a thought"
        await alice.press("alt+a")  # nothing unread elsewhere: stays
        await alice.pause(0.1)
        assert alice_app.screen is bananas


async def test_clicking_a_group_switches(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, _bananas, _ = await open_two_groups(alice, bob)
        await alice.click("#group-list", offset=(3, 1))
        await wait_until(alice, lambda: alice_app.screen is apples)


async def test_read_positions_survive_a_restart(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, bananas, _ = await open_two_groups(alice, bob)
        await alice.press("alt+1")
        await wait_until(alice, lambda: alice_app.screen is apples)
        await say(bob, "one")
        await say(bob, "two")
        await wait_until(alice, lambda: "Bob: two" in pane_text(apples.pane))
        newest = apples.timeline.newest_seq
        await alice.press("alt+2")  # leaving the group's screen saves where we were
        await wait_until(alice, lambda: alice_app.screen is bananas)
        server = f"{server_address[0]}:{server_address[1]}"
        assert ReadPositions(positions_path()).get(server, apples.group_id, "Alice") == newest


async def test_a_mention_is_highlighted_and_the_bell_can_be_turned_off(server_address: tuple[str, int]) -> None:
    alice_app, bob_app = make_app(*server_address, "Alice"), make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        apples, bananas, _ = await open_two_groups(alice, bob)
        alice_app.bell_seam.enabled = False
        await say(bob, "hey alice, look")
        await wait_until(alice, lambda: rows(bananas)[0] == "1 apples 1 @")
        assert alice_app.bell_seam.rung == 0
        await alice.press("alt+1")
        await wait_until(alice, lambda: "Bob: hey alice, look" in pane_text(apples.pane))
        pane = apples.pane
        row = next(r for r in range(pane.row_count) if "hey alice" in pane.render_row(r).text)
        styles = {segment.text: segment.style for segment in pane.render_row(row) if segment.text.strip()}
        named = next(style for text, style in styles.items() if text == "alice")
        plain = next(style for text, style in styles.items() if "look" in text)
        assert named is not None
        assert named.bold
        assert named.bgcolor != (plain.bgcolor if plain else None)
