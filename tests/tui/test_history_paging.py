"""A capped scrollback pages dropped history back in; a gap in the replay is filled where its rule was."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from textual.pilot import Pilot

from chat_tui.screens import ChatScreen
from chat_tui.screens.chat import HEADER_LOADING, HEADER_START
from chat_tui.widgets import MessagePane
from shared import MessageAccepted, SendMessage
from tests.client.helpers import Gate, Servers, TcpProxy, post
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.tui.helpers import SIZE, chat_screen, connect, gap_asks, join_group, make_app, pane_text, wait_until

CAP = 50
PAGE = CAP  # the screen asks for pages of at most the cap
FAST_POSTING = ("--message-burst", "1000", "--message-rate", "1000")


def seqs(pane: MessagePane) -> list[int]:
    return [entry.seq for entry in pane.entries if entry.seq is not None]


def in_order_once(pane: MessagePane) -> bool:
    """The pane's messages are a run of consecutive seqs: in order, none twice, no hole."""
    shown = seqs(pane)
    return shown == list(range(shown[0], shown[0] + len(shown))) if shown else True


async def settled(pilot: Pilot[int], chat: ChatScreen) -> None:
    """Wait until no history request of the chat is in flight."""
    await wait_until(pilot, lambda: not chat._fetching and chat.pane.header != HEADER_LOADING)
    await pilot.pause()


async def page_to_the_top(pilot: Pilot[int], chat: ChatScreen) -> None:
    """Scroll to the top until the beginning of history: each page comes from below the oldest seq shown."""
    pane = chat.pane
    for _ in range(20):
        if pane.header == HEADER_START:
            return
        oldest = seqs(pane)[0]
        pane.scroll_home(animate=False, immediate=True)
        pane.post_message(MessagePane.TopReached())  # also when the view was at the top already
        await wait_until(pilot, lambda: seqs(pane)[0] < oldest or pane.header == HEADER_START)  # noqa: B023
        await settled(pilot, chat)
        assert len(pane.entries) <= CAP + PAGE
        assert in_order_once(pane)


async def page_to_the_end(pilot: Pilot[int], chat: ChatScreen) -> None:
    """Scroll to the end until the pane is back at the live end, a page at a time."""
    pane = chat.pane
    for _ in range(20):
        if not pane.detached:
            return
        newest = seqs(pane)[-1]
        pane.scroll_end(animate=False, immediate=True)
        pane.post_message(MessagePane.BottomReached())
        await wait_until(pilot, lambda: seqs(pane)[-1] > newest or not pane.detached)  # noqa: B023
        await settled(pilot, chat)
        assert len(pane.entries) <= CAP + PAGE
        assert in_order_once(pane)


async def test_a_capped_pane_pages_dropped_history_back_in_both_ways(loaded_server: ServerProcess) -> None:
    peer = await asyncio.to_thread(RawClient, loaded_server.address)
    group_id = (await asyncio.to_thread(peer.create, "busy", "pw", "Bob")).group_id
    app = make_app(*loaded_server.address, "Alice", scrollback=CAP)
    most = 0

    def track(pane: MessagePane) -> bool:
        nonlocal most
        most = max(most, len(pane.entries))
        return True

    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        pane = chat.pane
        for number in range(1, 201):
            await post(peer, group_id, f"message {number}")
            track(pane)
        await wait_until(pilot, lambda: track(pane) and 200 in seqs(pane))
        assert most <= CAP
        assert seqs(pane)[-1] == 200
        assert seqs(pane)[0] > 1
        assert in_order_once(pane)

        await page_to_the_top(pilot, chat)
        assert pane.header == HEADER_START
        assert seqs(pane)[0] == 1
        assert pane.detached  # the newest were dropped on the way up
        rows = [row.split(": ", 1)[1] for row in pane_text(pane).splitlines() if ": message " in row]
        assert rows == [f"message {seq}" for seq in seqs(pane)]

        await asyncio.to_thread(
            peer.request, partial(SendMessage, group_id=group_id, text="message 201"), MessageAccepted
        )
        await page_to_the_end(pilot, chat)  # the dropped newer ones and the one posted meanwhile come back
        assert not pane.detached
        assert seqs(pane)[-1] == 201
        await asyncio.to_thread(
            peer.request, partial(SendMessage, group_id=group_id, text="live again"), MessageAccepted
        )
        await wait_until(pilot, lambda: "Bob: live again" in pane_text(pane))
        assert seqs(pane)[-1] == 202
        assert in_order_once(pane)
    peer.close()


async def test_a_gap_in_the_replay_is_filled_where_its_rule_was(tmp_path: Path) -> None:
    servers = Servers(
        tmp_path / "chat.db", "--catch-up-limit", "5", "--message-burst", "1000", "--message-rate", "1000"
    )
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    peer = await asyncio.to_thread(RawClient, servers.current.address)
    group_id = (await asyncio.to_thread(peer.create, "away", "pw", "Bob")).group_id
    await post(peer, group_id, "m1")
    app = make_app(*proxy.address, "Alice", reconnect_wait=gate)
    asked: list[MessagePane.GapShown] = []
    try:
        async with app.run_test(size=SIZE, message_hook=partial(gap_asks, asked)) as pilot:
            await connect(pilot)
            await join_group(pilot, group_id, "pw")
            chat = await chat_screen(pilot)
            pane = chat.pane
            await wait_until(pilot, lambda: seqs(pane) == [1])

            await proxy.cut()  # away while 30 are posted: only the newest 5 are replayed
            for number in range(2, 32):
                await post(peer, group_id, f"m{number}")
            pane.scroll_end(animate=False, immediate=True)
            gate.open()
            await wait_until(pilot, lambda: 31 in seqs(pane))
            # The rule shows and asks for its messages: the page lands under it, the rule shrinks away.
            await wait_until(pilot, lambda: seqs(pane) == list(range(1, 32)))
            await pilot.pause()
            assert "earlier messages not shown" not in pane_text(pane)
            assert (asked[0].after_seq, asked[0].before_seq) == (1, 27)  # the rule was there and asked
            rows = [row.split("Bob: ", 1)[1] for row in pane_text(pane).splitlines() if "Bob: m" in row]
            assert rows == [f"m{seq}" for seq in range(1, 32)]
            assert app.session is not None
            assert app.session.history_gaps(group_id) == []
    finally:
        peer.close()
        await proxy.close()
        servers.current.stop()
