"""Enter on a search hit older than the loaded window: the messages around it are paged in, a gap rule
stands between them and the live end (which pages itself back in), and the pane scrolls to the hit.
Against a real server holding more messages than the scrollback."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from chat_tui.screens.chat_commands import features
from chat_tui.screens.search import SearchScreen
from shared import MessageAccepted, SendMessage
from tests.client.helpers import post
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.tui.helpers import SIZE, chat_screen, connect, join_group, make_app, pane_text, say, wait_until

CAP = 40


async def test_enter_on_an_old_hit_loads_it_in_context(loaded_server: ServerProcess) -> None:
    peer = await asyncio.to_thread(RawClient, loaded_server.address)
    group_id = (await asyncio.to_thread(peer.create, "busy", "pw", "Bob")).group_id
    for number in range(1, 201):
        await post(peer, group_id, "the <needle> [b]here[/b]" if number == 30 else f"message {number}")
    app = make_app(*loaded_server.address, "Alice", scrollback=CAP)
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        await join_group(pilot, group_id, "pw")
        chat = await chat_screen(pilot)
        if "search" not in features(app.session):
            pytest.skip("the server does not offer search")
        timeline = chat.timeline
        await wait_until(pilot, lambda: timeline.newest_seq == 200)
        assert 30 not in timeline.seqs  # far older than the window in memory
        await say(pilot, "/search NEEDLE")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        search = app.screen
        assert isinstance(search, SearchScreen)
        await wait_until(pilot, lambda: [hit.seq for hit in search.hits] == [30])
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat and 30 in timeline.seqs)

        def hit_on_screen() -> bool:
            index = next((i for i, e in enumerate(timeline.entries) if e.seq == 30), None)
            shown = chat.pane.visible_range()
            return index is not None and shown is not None and shown[0] <= index <= shown[1]

        await wait_until(pilot, hit_on_screen, timeout=5)
        assert "Bob: the <needle> [b]here[/b]" in pane_text(chat.pane)  # shown literally
        assert not chat.pane.following
        below = [e for e in timeline.entries if e.gap is not None and e.gap[0] >= 30]
        assert below
        assert below[-1].gap is not None
        assert below[-1].gap[1] >= 200
        assert "earlier messages not shown" in pane_text(chat.pane)

        await asyncio.to_thread(peer.request, partial(SendMessage, group_id=group_id, text="live"), MessageAccepted)
        await wait_until(pilot, lambda: timeline.newest_seq == 201)
        assert hit_on_screen()  # a live message does not move the reader off the hit
        chat.pane.scroll_to_end()  # back to the end: the gap pages the newest back in
        await wait_until(pilot, lambda: "Bob: live" in pane_text(chat.pane), timeout=10)
    peer.close()
