"""The chat screen against a real server: send, receive, members, leave, hostile peers, lost links."""

from __future__ import annotations

import asyncio
from functools import partial

from chat_tui.screens import ChatScreen, ConnectScreen, HomeScreen
from chat_tui.session.link import ServerLink
from chat_tui.widgets import MemberList
from shared import (
    CreateGroup,
    GroupCreated,
    GroupJoined,
    JoinGroup,
    MessageAccepted,
    SendMessage,
    limits,
)
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.tui.helpers import (
    SIZE,
    chat_screen,
    connect,
    create_group,
    join_group,
    label_text,
    make_app,
    pane_text,
    say,
    wait_until,
)


def members(chat: ChatScreen) -> list[str]:
    """The names in the chat's member list."""
    return chat.query_one(MemberList).names


async def test_two_apps_chat_and_see_each_other_join_and_leave(server_address: tuple[str, int]) -> None:
    alice_app = make_app(*server_address, "Alice")
    bob_app = make_app(*server_address, "Bob")
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await connect(alice)
        alice_chat = await create_group(alice, "book club", "s3cret")
        alice_pane = alice_chat.pane
        assert f"Its group ID is {alice_chat.group_id}" in pane_text(alice_pane)
        assert members(alice_chat) == ["Alice"]

        await connect(bob)
        await join_group(bob, alice_chat.group_id, "s3cret")
        bob_chat = await chat_screen(bob)
        bob_pane = bob_chat.pane
        assert members(bob_chat) == ["Alice", "Bob"]
        await wait_until(alice, lambda: members(alice_chat) == ["Alice", "Bob"])
        assert "Bob has joined the chat!" in pane_text(alice_pane)

        await say(alice, "hello Bob")
        await wait_until(bob, lambda: "Alice: hello Bob" in pane_text(bob_pane))
        # Our own message shows once, confirmed with the server's time, never echoed twice.
        await wait_until(alice, lambda: alice_chat.timeline.entries[-1].state == "sent")
        assert pane_text(alice_pane).count("Alice: hello Bob") == 1

        await say(bob, "hi Alice")
        await wait_until(alice, lambda: "Bob: hi Alice" in pane_text(alice_pane))
        own = [entry for entry in bob_chat.timeline.entries if entry.sender == "Bob"]
        assert [entry.own for entry in own] == [True]

        await say(bob, "qqq")
        await wait_until(bob, lambda: isinstance(bob_app.screen, HomeScreen))
        await wait_until(alice, lambda: members(alice_chat) == ["Alice"])
        assert "Bob has left the chat!" in pane_text(alice_pane)


async def test_leave_with_slash_leave_and_rejoin(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "solo", "pw")
        await say(pilot, "/leave")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert chat.group_id not in app.chats
        await join_group(pilot, chat.group_id, "pw")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


# ESC, BEL and C1 never cross the wire (shared/fields.py refuses them on both ends, and a frame that
# carries one is a protocol error), so the wire payloads are markup and bidi overrides; the pane test
# (test_message_pane.py) feeds the raw controls straight into the widget.
HOSTILE = [
    "[bold red]hi[/]",
    "[link=https://x]x[/]",
    "[@click=app.quit]x[/]",
    "arrays[/] are fun",
    "[$accent]var[/]",
    "bidi \u202egnp.exe \u2066isolated\u2069 \u200fmark",
]


async def test_peer_markup_and_escapes_appear_literally(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    peer = await ServerLink.open(*server_address)
    try:
        async with app.run_test(size=(130, 30)) as pilot:  # wide enough that no line wraps
            await connect(pilot)
            chat = await create_group(pilot, "open house", "pw")
            group_id = chat.group_id
            await peer.request(lambda rid: JoinGroup(rid, group_id, "pw", "[b]Mallory[/b]"))
            for text in HOSTILE:
                await peer.request(partial(SendMessage, group_id=group_id, text=text))
            pane = chat.pane
            await wait_until(pilot, lambda: "mark" in pane_text(pane))
            shown = pane_text(pane)
            for literal in HOSTILE[:5]:
                assert f"[b]Mallory[/b]: {literal}" in shown
            assert "[b]Mallory[/b]: [$accent]var[/]" in shown
            assert "bidi \ufffdgnp.exe \ufffdisolated\ufffd \ufffdmark" in shown
            for control in ("\u202e", "\u2066", "\u2069", "\u200f"):
                assert control not in shown
            assert "[b]Mallory[/b]" in members(chat)
            assert app.return_code is None  # the [@click=app.quit] link did nothing
    finally:
        await peer.close()


async def test_messages_for_another_group_are_not_shown(server_address: tuple[str, int]) -> None:
    app = make_app(*server_address, "Alice")
    peer = await ServerLink.open(*server_address)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await connect(pilot)
            chat = await create_group(pilot, "mine", "pw")
            other = await peer.request(lambda rid: CreateGroup(rid, "theirs", "pw", "Peer"))
            assert isinstance(other, GroupCreated)
            group_id = chat.group_id
            await peer.request(lambda rid: JoinGroup(rid, group_id, "pw", "Peer"))
            reply = await peer.request(lambda rid: SendMessage(rid, other.group_id, "elsewhere"))
            assert isinstance(reply, MessageAccepted)
            await peer.request(lambda rid: SendMessage(rid, group_id, "here"))
            pane = chat.pane
            await wait_until(pilot, lambda: "Peer: here" in pane_text(pane))
            assert "elsewhere" not in pane_text(pane)
    finally:
        await peer.close()


async def test_server_gone_for_good_gives_up_and_shows_the_way_back(server: ServerProcess) -> None:
    app = make_app(*server.address, "Alice", reconnect_timeout=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await create_group(pilot, "doomed", "pw")
        server.stop()
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen) and app.screen.is_mounted)
        assert label_text(app, "#status").startswith("Disconnected: ")
        assert app.session is None
        assert app.chats == {}
        await pilot.press("enter")  # Connect has focus: retrying fails cleanly, no traceback
        await wait_until(pilot, lambda: "cannot connect" in label_text(app, "#status"))


async def test_what_reaches_the_timeline_before_the_screen_opens_is_shown_without_a_network() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=SIZE) as pilot:
        chat = app.open_chat(GroupJoined(1, 7, "seven", "Alice", ("Alice", "Bob")))
        chat.timeline.posted(1, 0, "Bob", "early bird")  # before the screen is mounted
        chat = await chat_screen(pilot)
        # The server's ts is untrusted: the far end of its range must not crash the formatter.
        chat.timeline.posted(2, limits.MAX_GROUP_ID, "Bob", "from the far future")
        await pilot.pause()
        text = pane_text(chat.pane)
        assert "00:00 Bob: early bird" in text
        assert "--:-- Bob: from the far future" in text


async def test_sending_jumps_to_the_newest_messages(loaded_server: ServerProcess) -> None:
    peer = await asyncio.to_thread(RawClient, loaded_server.address)
    group_id = (await asyncio.to_thread(peer.create, "scrolled", "pw", "Bob")).group_id
    for number in range(1, 81):  # a long scrollback
        await asyncio.to_thread(
            peer.request, partial(SendMessage, group_id=group_id, text=f"old {number}"), MessageAccepted
        )
    app = make_app(*loaded_server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        await wait_until(pilot, lambda: 80 in chat.timeline.seqs)
        await pilot.pause()
        chat.pane.scroll_home(animate=False, immediate=True)
        await wait_until(pilot, lambda: not chat.pane.following)
        await say(pilot, "back to the end")
        await wait_until(pilot, lambda: chat.pane.following)
        await wait_until(pilot, lambda: "Alice: back to the end" in pane_text(chat.pane))
    peer.close()
