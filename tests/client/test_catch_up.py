"""Coming back after a long absence: the hole in the replay, and a long queue against the rate limit."""

from __future__ import annotations

from pathlib import Path

from chat_tui.session import ChatSession, News, Refused
from chat_tui.session.events import Reconnected
from tests.client.helpers import Gate, Servers, TcpProxy, Watch, expect, peer_in, post, stored_messages

FAST_POSTING = ("--message-burst", "1000", "--message-rate", "1000")


async def test_a_replay_cut_short_leaves_a_gap_that_paging_fills(tmp_path: Path) -> None:
    servers = Servers(tmp_path / "chat.db", "--catch-up-limit", "5", *FAST_POSTING)
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    session = ChatSession(*proxy.address, wait=gate)
    try:
        await session.connect()
        group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
        timeline = session.timeline(group_id)
        watch = Watch(timeline)
        peer = await peer_in(servers.current.address, group_id)
        await post(peer, group_id, "m1")
        await watch.until(lambda: watch.has("m1"))

        await proxy.cut()  # away while 12 more are posted; only the newest 5 are replayed
        for i in range(2, 14):
            await post(peer, group_id, f"m{i}")
        gate.open()
        await watch.until(lambda: 13 in timeline.seqs)
        kinds = [(e.kind, e.seq, e.gap) for e in timeline.entries if e.kind in ("message", "gap")]
        # The gap stands where the hole is, before the replay.
        assert kinds == [("message", 1, None), ("gap", None, (1, 9)), *[("message", s, None) for s in range(9, 14)]]
        gap = next(e for e in timeline.entries if e.gap is not None)

        await timeline.fill_gap(gap.key)
        assert timeline.gaps == []
        assert watch.settled() == [(seq, f"m{seq}") for seq in range(1, 14)]  # m1 is not shown twice
        peer.close()
    finally:
        await session.close()
        await proxy.close()
        servers.current.stop()


async def test_a_short_absence_leaves_no_gap(servers: Servers) -> None:
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    session = ChatSession(*proxy.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    watch = Watch(session.timeline(group_id))
    peer = await peer_in(servers.current.address, group_id)
    await proxy.cut()
    await post(peer, group_id, "while away")
    gate.open()
    await watch.until(lambda: watch.has("while away"))
    await session.send(group_id, "back")  # our own ack right after the replay is no gap either
    await watch.until(lambda: watch.has("back"))
    await post(peer, group_id, "live")
    await watch.until(lambda: watch.has("live"))
    assert session.timeline(group_id).gaps == []
    assert watch.settled() == [(1, "while away"), (2, "back"), (3, "live")]
    peer.close()
    await session.close()
    await proxy.close()


async def _resend_a_long_queue(tmp_path: Path, queue: str) -> list[str]:
    """Queue 8 messages while the server is down; after the restart every one is stored once, in order,
    none refused. Returns the states each message showed, in order (pending, delayed, sent)."""
    servers = Servers(tmp_path / "chat.db", "--message-burst", "2", "--message-rate", "5", "--message-queue", queue)
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    try:
        await session.connect()
        group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
        timeline = session.timeline(group_id)
        watch = Watch(timeline)
        states: list[str] = []
        timeline.entries.subscribe(lambda _c: states.extend(e.state for e in timeline.entries if e.own))
        news: list[News] = []
        timeline.listen(news.append)
        servers.kill_and_restart()
        sent = [await session.send(group_id, f"queued {i}") for i in range(8)]
        assert [e.state for e in watch.messages()] == ["pending"] * 8
        gate.open()
        await expect(session, Reconnected)
        await watch.until(lambda: len(watch.settled()) == 8)
        assert not [n for n in news if isinstance(n, Refused)]
        assert watch.settled() == [(i, m.text) for i, m in enumerate(sent, 1)]
        assert session.unacknowledged() == 0
        await session.close()
        servers.current.stop()
        assert [m.text for m in stored_messages(servers.db, group_id)] == [m.text for m in sent]
        return states
    finally:
        await session.close()
        servers.current.stop()


async def test_a_long_queue_after_a_restart_is_sent_within_the_rate_limit(tmp_path: Path) -> None:
    await _resend_a_long_queue(tmp_path, "1")


async def test_rate_limited_messages_stay_pending_and_are_resent_in_order(tmp_path: Path) -> None:
    states = await _resend_a_long_queue(tmp_path, "0")  # nothing held: everything over the rate is refused
    assert "delayed" in states, "the server never refused: the test did not exercise the slow-down"
