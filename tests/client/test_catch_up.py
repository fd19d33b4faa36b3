"""Coming back after a long absence: the hole in the replay, and a long queue against the rate limit."""

from __future__ import annotations

from pathlib import Path

from chat_tui.session import ChatSession
from chat_tui.session.events import (
    HistoryGap,
    MessageAcknowledged,
    MessageDelayed,
    MessagePending,
    MessageRefused,
    Reconnected,
)
from shared import MessagePosted
from tests.client.helpers import Gate, Servers, TcpProxy, events_until, expect, of_type, peer_in, post, stored_messages

FAST_POSTING = ("--message-burst", "1000", "--message-rate", "1000")


async def test_a_replay_cut_short_is_reported_as_a_gap_that_fetch_before_fills(tmp_path: Path) -> None:
    servers = Servers(tmp_path / "chat.db", "--catch-up-limit", "5", *FAST_POSTING)
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    session = ChatSession(*proxy.address, wait=gate)
    try:
        await session.connect()
        group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
        peer = await peer_in(servers.current.address, group_id)
        await post(peer, group_id, "m1")
        assert (await expect(session, MessagePosted)).seq == 1

        await proxy.cut()  # away while 12 more are posted; only the newest 5 are replayed
        for i in range(2, 14):
            await post(peer, group_id, f"m{i}")
        gate.open()
        events = await events_until(session, lambda e: isinstance(e, MessagePosted) and e.seq == 13)
        gaps = of_type(events, HistoryGap)
        assert gaps == [HistoryGap(group_id, 1, 9)]
        assert events.index(gaps[0]) < events.index(of_type(events, MessagePosted)[0])  # told before the replay
        assert [p.seq for p in of_type(events, MessagePosted)] == [9, 10, 11, 12, 13]
        assert session.history_gaps(group_id) == [(1, 9)]

        upper = await session.fetch_before(group_id, 9, limit=4)
        assert [(m.seq, m.text) for m in upper.messages] == [(5, "m5"), (6, "m6"), (7, "m7"), (8, "m8")]
        assert session.history_gaps(group_id) == [(1, 5)]
        lower = await session.fetch_before(group_id, 5)
        assert [m.seq for m in lower.messages] == [2, 3, 4]  # m1 was delivered before: not again
        assert session.history_gaps(group_id) == []
        assert (await session.fetch_older(group_id)).messages == ()  # nothing older than m1 exists
        peer.close()
    finally:
        await session.close()
        await proxy.close()
        servers.current.stop()


async def test_a_short_absence_reports_no_gap(servers: Servers) -> None:
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    session = ChatSession(*proxy.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    peer = await peer_in(servers.current.address, group_id)
    await proxy.cut()
    await post(peer, group_id, "while away")
    gate.open()
    events = await events_until(session, lambda e: isinstance(e, MessagePosted))
    assert not of_type(events, HistoryGap)
    sent = await session.send(group_id, "back")  # our own ack right after the replay is no gap either
    await expect(session, MessageAcknowledged)
    await post(peer, group_id, "live")
    events = await events_until(session, lambda e: isinstance(e, MessagePosted))
    assert not of_type(events, HistoryGap)
    assert session.history_gaps(group_id) == []
    assert sent.text == "back"
    peer.close()
    await session.close()
    await proxy.close()


async def _resend_a_long_queue(tmp_path: Path, queue: str) -> list[MessageDelayed]:
    """Queue 8 messages while the server is down; after the restart every one is stored once, in order,
    none refused. Returns the slow-downs the session reported."""
    servers = Servers(tmp_path / "chat.db", "--message-burst", "2", "--message-rate", "5", "--message-queue", queue)
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    try:
        await session.connect()
        group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
        servers.kill_and_restart()
        sent = [await session.send(group_id, f"queued {i}") for i in range(8)]
        gate.open()
        events = await events_until(session, lambda e: isinstance(e, MessageAcknowledged) and e.message == sent[-1])
        assert isinstance(of_type(events, Reconnected)[0], Reconnected)
        assert not of_type(events, MessageRefused)
        assert [e.message for e in of_type(events, MessagePending)] == sent
        acks = of_type(events, MessageAcknowledged)
        assert [(a.message, a.seq) for a in acks] == [(m, i) for i, m in enumerate(sent, 1)]
        assert session.unacknowledged() == 0
        await session.close()
        servers.current.stop()
        assert [m.text for m in stored_messages(servers.db, group_id)] == [m.text for m in sent]
        return of_type(events, MessageDelayed)
    finally:
        await session.close()
        servers.current.stop()


async def test_a_long_queue_after_a_restart_is_sent_within_the_rate_limit(tmp_path: Path) -> None:
    await _resend_a_long_queue(tmp_path, "1")


async def test_rate_limited_messages_stay_pending_and_are_resent_in_order(tmp_path: Path) -> None:
    delayed = await _resend_a_long_queue(tmp_path, "0")  # nothing held: everything over the rate is refused
    assert delayed, "the server never refused: the test did not exercise the slow-down"
    assert all(d.retry_in > 0 for d in delayed)
