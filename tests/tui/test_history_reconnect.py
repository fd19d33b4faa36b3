"""History on join, paging older history, own messages' states, and reconnecting, against real servers."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from chat_tui.screens import ChatScreen, HomeScreen
from chat_tui.session.timeline import HEADER_START, NEW_SINCE_JOIN
from chat_tui.session.window import HEADER_MORE
from chat_tui.widgets import ConnectionBanner, MessagePane
from shared import GroupCreated, GroupLeft, LeaveGroup, MessageAccepted, MessagePosted, SendMessage
from tests.client.helpers import Gate, restart
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.tui.helpers import SIZE, chat_screen, connect, create_group, join_group, make_app, pane_text, say, wait_until


def banner(chat: ChatScreen | HomeScreen) -> str:
    """What the connection banner of a screen says ("" while hidden)."""
    widget = chat.query_one(ConnectionBanner)
    return str(widget.render()) if widget.has_class("-lost") or widget.has_class("-back") else ""


def group_with_history(address: tuple[str, int], count: int, *, author: str = "Bob") -> tuple[RawClient, int]:
    """A group made by ``author`` holding ``count`` messages "message 1".."message N"."""
    peer = RawClient(address)
    group_id = peer.create("history club", "pw", author).group_id
    for number in range(1, count + 1):
        peer.request(partial(SendMessage, group_id=group_id, text=f"message {number}"), MessageAccepted)
    return peer, group_id


def message_rows(pane: MessagePane) -> list[str]:
    return [line for line in pane_text(pane).splitlines() if ": message " in line]


async def test_join_replays_history_then_a_marker_then_live_messages(server: ServerProcess) -> None:
    peer = RawClient(server.address)
    group_id = peer.create("history club", "pw", "Bob").group_id
    for text in ("one", "two", "three"):
        peer.request(partial(SendMessage, group_id=group_id, text=text), MessageAccepted)
    app = make_app(*server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        await wait_until(pilot, lambda: NEW_SINCE_JOIN in pane_text(chat.pane))
        await asyncio.to_thread(peer.request, partial(SendMessage, group_id=group_id, text="four"), MessageAccepted)
        await wait_until(pilot, lambda: "Bob: four" in pane_text(chat.pane))
        lines = [line.strip() for line in pane_text(chat.pane).splitlines()]
        body = [line for line in lines if "Bob:" in line or NEW_SINCE_JOIN in line or "You joined" in line]
        assert [line.split(" ", 1)[1] if "Bob:" in line else line for line in body] == [
            "Bob: one",
            "Bob: two",
            "Bob: three",
            next(line for line in lines if NEW_SINCE_JOIN in line),
            next(line for line in lines if "You joined" in line),
            "Bob: four",
        ]
        assert lines[0] == HEADER_START  # seq 1 was replayed: nothing older to load
    peer.close()


async def test_own_past_messages_in_the_replay_are_set_apart(server: ServerProcess) -> None:
    peer = RawClient(server.address)
    group_id = peer.create("again", "pw", "Alice").group_id
    peer.request(partial(SendMessage, group_id=group_id, text="from my last visit"), MessageAccepted)
    peer.request(partial(LeaveGroup, group_id=group_id), GroupLeft)
    app = make_app(*server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        await wait_until(pilot, lambda: "from my last visit" in pane_text(chat.pane))
        [entry] = [entry for entry in chat.timeline.entries if entry.text == "from my last visit"]
        assert entry.own
        assert entry.seq == 1
    peer.close()


async def test_scrolling_to_the_top_loads_one_older_page_and_keeps_the_view(loaded_server: ServerProcess) -> None:
    peer, group_id = await asyncio.to_thread(group_with_history, loaded_server.address, 180)
    app = make_app(*loaded_server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        pane = chat.pane
        await wait_until(pilot, lambda: "Bob: message 180" in pane_text(pane))
        assert message_rows(pane)[0].endswith("Bob: message 131")  # the server replays the last 50
        assert chat.timeline.entries.header == HEADER_MORE
        await pilot.pause()  # the pane has followed the replay to the bottom
        pane.scroll_home(animate=False, immediate=True)  # reaching the top asks for a page
        pane.post_message(MessagePane.TopReached())  # a second nudge while that page is in flight
        seen = [pane.render_line(y).text for y in range(1, pane.size.height)]  # below the header row
        assert seen[0].endswith("Bob: message 131" + " " * (len(seen[0]) - len(seen[0].rstrip())))
        await wait_until(pilot, lambda: "Bob: message 31" in pane_text(pane))
        await pilot.pause()
        assert chat.history_requests == 1
        # The lines the user was looking at stay where they were; the page is above them.
        assert [pane.render_line(y).text for y in range(1, pane.size.height)] == seen
        assert pane.render_line(0).text.rstrip().endswith("Bob: message 130")
        rows = message_rows(pane)
        assert rows[0].endswith("Bob: message 31")
        assert rows[-1].endswith("Bob: message 180")
        assert len(rows) == 150 == len({entry.seq for entry in chat.timeline.entries if entry.seq is not None})

        pane.scroll_home(animate=False, immediate=True)  # the next scroll to the top loads the rest
        await wait_until(pilot, lambda: chat.timeline.entries.header == HEADER_START)
        assert chat.history_requests == 2
        assert [row.split(": ")[-1] for row in message_rows(pane)] == [f"message {n}" for n in range(1, 181)]
        await pilot.press("pageup")  # at the top with nothing older: no more requests
        await pilot.pause()
        assert chat.history_requests == 2
    peer.close()


async def test_own_message_is_pending_until_acknowledged(server: ServerProcess) -> None:
    app = make_app(*server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        peer = await asyncio.to_thread(RawClient, server.address)
        group_id = (await asyncio.to_thread(peer.create, "club", "pw", "Bob")).group_id
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        states: list[str] = []

        def record(_change: object) -> None:
            for entry in chat.timeline.entries:
                if entry.text == "hello" and (not states or states[-1] != entry.state):
                    states.append(entry.state)

        chat.timeline.entries.subscribe(record)
        await say(pilot, "hello")
        await wait_until(pilot, lambda: _settled(chat, "hello"))
        [entry] = [entry for entry in chat.timeline.entries if entry.text == "hello"]
        posted = await asyncio.to_thread(peer.wait_for, lambda e: getattr(e, "text", None) == "hello")
        assert isinstance(posted, MessagePosted)
        assert entry.own
        assert entry.seq == posted.seq == 1
        assert entry.time == datetime.fromtimestamp(posted.ts / 1000, UTC).strftime("%H:%M")  # the server's time
        assert states == ["pending", "sent"]
        peer.close()


async def test_sending_too_fast_is_shown_and_the_message_still_goes(tmp_path: Path) -> None:
    flags = ["--store", "memory:", "--message-burst", "1", "--message-rate", "0.5", "--message-queue", "0"]
    server = ServerProcess(flags)
    server.start()
    try:
        app = make_app(*server.address, "Alice")
        async with app.run_test(size=SIZE) as pilot:
            await connect(pilot)
            chat = await create_group(pilot, "fast", "pw")
            await say(pilot, "first")
            await say(pilot, "second")  # over the rate: refused by the server, resent by the session
            await wait_until(pilot, lambda: "Sending too fast" in pane_text(chat.pane))
            await wait_until(pilot, lambda: _settled(chat, "second"))
            assert [entry.seq for entry in chat.timeline.entries if entry.own] == [1, 2]
    finally:
        server.stop()


async def test_a_refused_message_is_marked_with_the_reason() -> None:
    app = make_app(name="Alice")
    async with app.run_test(size=(170, 30)) as pilot:
        app.open_chat(GroupCreated(1, 7, "seven", "Alice"))
        chat = await chat_screen(pilot)
        chat.timeline.pending("m1", "Alice", "[b]not[/b] sent")
        chat.timeline.refused("m1", "[b]not[/b] sent", "not_member", "you left [this] chat")
        await pilot.pause()
        assert "  !   Alice: [b]not[/b] sent" in pane_text(chat.pane)
        shown = pane_text(chat.pane)
        assert "Not sent: the server refused it (not_member): you left [this]" in shown  # literal, not markup
        assert "Your text is back in the composer." in shown


async def test_reconnect_after_a_crash_shows_the_state_keeps_the_draft_and_delivers_once(
    server: ServerProcess,
) -> None:
    gate = Gate()
    app = make_app(*server.address, "Alice", reconnect_wait=gate)
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        peer = await asyncio.to_thread(RawClient, server.address)
        group_id = (await asyncio.to_thread(peer.create, "club", "pw", "Bob")).group_id
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        await pilot.press(*"half-typed")
        peer.close()

        server.stop(signal.SIGKILL)
        await wait_until(pilot, lambda: "reconnecting in" in banner(chat))
        assert banner(chat).startswith("Connection lost: ")
        assert "attempt 1" in banner(chat)
        assert "Connection lost: " in pane_text(chat.pane)
        # Typed while the server is down: pending, and resent by the session once it is back.
        chat.composer.text = ""
        await say(pilot, "typed offline")
        await wait_until(pilot, lambda: chat.timeline.entries[-1].text == "typed offline")
        assert chat.timeline.entries[-1].state == "pending"
        await pilot.press(*"half-typed")

        again = await asyncio.to_thread(restart, server)
        try:
            peer = await asyncio.to_thread(RawClient, again.address)
            await asyncio.to_thread(peer.join, group_id, "pw", "Bob")
            send = partial(SendMessage, group_id=group_id, text="while you were away")
            await asyncio.to_thread(peer.request, send, MessageAccepted)
            assert chat.timeline.entries[-1].state == "pending"  # still not reconnected: the gate is shut
            gate.open()
            await wait_until(pilot, lambda: "Bob: while you were away" in pane_text(chat.pane))
            await wait_until(pilot, lambda: banner(chat) in ("Reconnected", ""))
            await wait_until(pilot, lambda: _settled(chat, "typed offline"))
            assert pane_text(chat.pane).count("while you were away") == 1
            assert "Reconnected." in pane_text(chat.pane)
            assert chat.composer.text == "half-typed"
            assert app.screen is chat
            assert app.session is not None
            posted = await asyncio.to_thread(peer.wait_for, lambda e: getattr(e, "text", None) == "typed offline")
            assert getattr(posted, "sender", None) == "Alice"
            peer.close()
        finally:
            again.stop()
            server.process = again.process  # the fixture's stop() then finds it stopped


def _settled(chat: ChatScreen, text: str) -> bool:
    return any(entry.text == text and entry.state == "sent" for entry in chat.timeline.entries)


async def test_draft_stays_when_switching_to_home_and_back(server: ServerProcess) -> None:
    app = make_app(*server.address, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "one", "pw")
        await pilot.press(*"not sent yet")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_until(pilot, lambda: home.query_one("#groups").has_class("-visible"))
        home.query_one("#groups").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat)
        assert chat.composer.text == "not sent yet"
        assert "You created" in pane_text(chat.pane)  # the scrollback is the same screen's
