"""A capped timeline pages dropped history back in; a gap in the replay is filled where its rule was."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from textual.pilot import Pilot

from chat_tui.screens import ChatScreen
from chat_tui.session import GroupTimeline
from chat_tui.session.timeline import HEADER_LOADING, HEADER_START
from chat_tui.widgets import MessagePane
from shared import MessageAccepted, SendMessage
from tests.client.helpers import Gate, Servers, TcpProxy, post
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.tui.helpers import SIZE, chat_screen, connect, gap_asks, join_group, make_app, pane_text, wait_until

CAP = 50
PAGE = CAP  # the screen asks for pages of at most the cap
FAST_POSTING = ("--message-burst", "1000", "--message-rate", "1000")


def seqs(timeline: GroupTimeline) -> list[int]:
    return [entry.seq for entry in timeline.entries if entry.seq is not None]


def in_order_once(timeline: GroupTimeline) -> bool:
    """The messages are in order, none twice, and runs of consecutive seqs between the gaps."""
    runs: list[list[int]] = [[]]
    for entry in timeline.entries:
        if entry.gap is not None:
            runs.append([])
        elif entry.seq is not None:
            runs[-1].append(entry.seq)
    flat = [seq for run in runs for seq in run]
    consecutive = all(run == list(range(run[0], run[0] + len(run))) for run in runs if run)
    return consecutive and flat == sorted(set(flat))


async def settled(pilot: Pilot[int], chat: ChatScreen) -> None:
    """Wait until no history request of the chat is in flight."""
    await wait_until(pilot, lambda: chat.timeline.entries.header != HEADER_LOADING)
    await pilot.pause()


async def page_to_the_top(pilot: Pilot[int], chat: ChatScreen) -> None:
    """Scroll to the top until the beginning of history: each page comes from below the oldest seq shown."""
    pane, timeline = chat.pane, chat.timeline
    for _ in range(20):
        if timeline.entries.header == HEADER_START:
            return
        oldest = seqs(timeline)[0]
        pane.scroll_home(animate=False, immediate=True)
        pane.post_message(MessagePane.TopReached())  # also when the view was at the top already
        await wait_until(pilot, lambda: seqs(timeline)[0] < oldest or timeline.entries.header == HEADER_START)  # noqa: B023
        await settled(pilot, chat)
        assert len(seqs(timeline)) <= CAP + PAGE
        assert in_order_once(timeline)


async def test_a_capped_pane_pages_dropped_history_back_in_both_ways(loaded_server: ServerProcess) -> None:
    peer = await asyncio.to_thread(RawClient, loaded_server.address)
    group_id = (await asyncio.to_thread(peer.create, "busy", "pw", "Bob")).group_id
    app = make_app(*loaded_server.address, "Alice", scrollback=CAP)
    most = 0

    def track(timeline: GroupTimeline) -> bool:
        nonlocal most
        most = max(most, len(seqs(timeline)))
        return True

    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        pane, timeline = chat.pane, chat.timeline
        for number in range(1, 201):
            await post(peer, group_id, f"message {number}")
            track(timeline)
        await wait_until(pilot, lambda: track(timeline) and 200 in seqs(timeline))
        assert most <= CAP + PAGE  # the cap, plus a page kept whole if one was paged in meanwhile
        assert seqs(timeline)[-1] == 200
        assert seqs(timeline)[0] > 1
        assert in_order_once(timeline)

        await page_to_the_top(pilot, chat)
        assert timeline.entries.header == HEADER_START
        assert seqs(timeline)[0] == 1
        assert timeline.gaps  # the newest were dropped on the way up
        assert timeline.gaps[-1][1] == 201
        rows = [row.split(": ", 1)[1] for row in pane_text(pane).splitlines() if ": message " in row]
        assert rows == [f"message {seq}" for seq in seqs(timeline)]

        await asyncio.to_thread(
            peer.request, partial(SendMessage, group_id=group_id, text="message 201"), MessageAccepted
        )
        await wait_until(pilot, lambda: 201 in seqs(timeline))  # live, below the gap
        pane.scroll_end(animate=False, immediate=True)  # the gap's rule comes on screen and is filled
        await wait_until(pilot, lambda: seqs(timeline)[-PAGE:] == list(range(202 - PAGE, 202)))
        await settled(pilot, chat)
        assert in_order_once(timeline)
        await asyncio.to_thread(
            peer.request, partial(SendMessage, group_id=group_id, text="live again"), MessageAccepted
        )
        await wait_until(pilot, lambda: "Bob: live again" in pane_text(pane))
        assert seqs(timeline)[-1] == 202
        assert in_order_once(timeline)
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
            pane, timeline = chat.pane, chat.timeline
            await wait_until(pilot, lambda: seqs(timeline) == [1])

            await proxy.cut()  # away while 30 are posted: only the newest 5 are replayed
            for number in range(2, 32):
                await post(peer, group_id, f"m{number}")
            pane.scroll_end(animate=False, immediate=True)
            gate.open()
            await wait_until(pilot, lambda: 31 in seqs(timeline))
            # The rule shows and asks for its messages: the page lands under it, the rule shrinks away.
            await wait_until(pilot, lambda: seqs(timeline) == list(range(1, 32)))
            await pilot.pause()
            assert "earlier messages not shown" not in pane_text(pane)
            assert (asked[0].after_seq, asked[0].before_seq) == (1, 27)  # the rule was there and asked
            rows = [row.split("Bob: ", 1)[1] for row in pane_text(pane).splitlines() if "Bob: m" in row]
            assert rows == [f"m{seq}" for seq in range(1, 32)]
            assert timeline.gaps == []
    finally:
        peer.close()
        await proxy.close()
        servers.current.stop()
