"""ChatSession against real server processes: reconnects, catch-up, resends, refusals, paging."""

from __future__ import annotations

import asyncio
import signal
from functools import partial
from pathlib import Path

import pytest

from chat_tui.session import Backoff, ChatSession, SessionState
from chat_tui.session.events import (
    Disconnected,
    GaveUp,
    MessageAcknowledged,
    MessagePending,
    NotConnected,
    Reconnected,
    Reconnecting,
    Rejoined,
    RejoinRefused,
    SessionClosed,
)
from shared import GroupLeft, LeaveGroup, MessagePosted
from tests.client.helpers import (
    Gate,
    Servers,
    TcpProxy,
    events_until,
    expect,
    next_event,
    of_type,
    peer_in,
    post,
    restart,
    stored_messages,
)
from tests.helpers import RawClient


async def test_restart_delivers_what_was_missed_once_in_order_and_sends_what_was_typed(servers: Servers) -> None:
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    peer = await peer_in(servers.current.address, group_id)
    await post(peer, group_id, "before")
    assert (await expect(session, MessagePosted)).text == "before"

    peer.close()
    servers.current.stop(signal.SIGKILL)
    await expect(session, Disconnected)
    await expect(session, Reconnecting)  # now waiting at the gate
    assert session.state is SessionState.RECONNECTING
    with pytest.raises(NotConnected):
        await session.join_group(group_id, "pw", "Alice again")
    sent = await session.send(group_id, "typed while away")
    assert await next_event(session) == MessagePending(sent)

    server = restart(servers.current)
    servers.current = server
    peer = await peer_in(server.address, group_id)
    missed = [await post(peer, group_id, f"missed {i}") for i in range(3)]
    gate.open()

    events = await events_until(session, lambda event: isinstance(event, MessageAcknowledged))
    assert isinstance(events[0], Reconnected), events
    rejoined = of_type(events, Rejoined)
    assert [r.joined.members for r in rejoined] == [("Bob", "Alice")]
    posted = of_type(events, MessagePosted)
    assert [(p.seq, p.text) for p in posted] == [(m.seq, f"missed {i}") for i, m in enumerate(missed)]
    ack = events[-1]
    assert isinstance(ack, MessageAcknowledged)
    assert (ack.message, ack.seq) == (sent, missed[-1].seq + 1)
    seen_by_peer = await asyncio.to_thread(peer.wait_for, lambda e: getattr(e, "text", None) == "typed while away")
    assert isinstance(seen_by_peer, MessagePosted)
    assert seen_by_peer.seq == ack.seq

    barrier = await post(peer, group_id, "barrier")  # nothing (no duplicate) arrives before it
    after = await next_event(session)
    assert isinstance(after, MessagePosted)
    assert (after.seq, after.text) == (barrier.seq, "barrier")
    await session.close()
    peer.close()
    server.stop()
    texts = [m.text for m in stored_messages(servers.db, group_id)]
    assert texts == ["before", "missed 0", "missed 1", "missed 2", "typed while away", "barrier"]


async def test_a_message_whose_acknowledgement_was_lost_is_resent_stored_once_and_shown_once(
    servers: Servers,
) -> None:
    proxy = await TcpProxy(servers.current.address).start()
    gate = Gate()
    session = ChatSession(*proxy.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    peer = await peer_in(servers.current.address, group_id)

    proxy.hold_downstream()  # the server's answers to the session vanish from here on
    sent = await session.send(group_id, "did it arrive?")
    stored = await asyncio.to_thread(peer.next_event, MessagePosted)  # fanned out: committed
    await proxy.cut()
    await expect(session, Disconnected)
    gate.open()

    events = await events_until(session, lambda event: isinstance(event, MessageAcknowledged))
    assert events[-1] == MessageAcknowledged(sent, stored.seq, stored.ts)  # the original seq and ts
    assert not of_type(events, MessagePosted)  # the replayed copy of our own message is not shown again
    barrier = await post(peer, group_id, "barrier")
    after = await next_event(session)
    assert isinstance(after, MessagePosted)
    assert after.seq == barrier.seq

    await session.close()
    await proxy.close()
    peer.close()
    servers.current.stop()
    assert [m.client_msg_id for m in stored_messages(servers.db, group_id)].count(sent.client_msg_id) == 1


async def test_a_message_sent_just_before_a_kill_is_stored_and_acknowledged_once(servers: Servers) -> None:
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    sent = await session.send(group_id, "racing the kill")
    servers.kill_and_restart()  # the message may be unsent, stored unacknowledged, or acknowledged
    gate.open()
    events = await events_until(session, lambda event: isinstance(event, MessageAcknowledged))
    assert [(ack.message, ack.seq) for ack in of_type(events, MessageAcknowledged)] == [(sent, 1)]
    await session.close()
    servers.current.stop()
    assert [m.text for m in stored_messages(servers.db, group_id)] == ["racing the kill"]


async def test_a_refused_rejoin_is_retried_then_succeeds(servers: Servers) -> None:
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    server = servers.kill_and_restart()
    await expect(session, Reconnecting)
    squatter = await peer_in(server.address, group_id, "Alice")  # takes our name while we are away

    gate.release()
    refused = await expect(session, RejoinRefused)
    assert (refused.group_id, refused.code, refused.final) == (group_id, "name_taken", False)
    await asyncio.to_thread(squatter.request, partial(LeaveGroup, group_id=group_id), GroupLeft)
    gate.release()
    await expect(session, Reconnected)
    rejoined = await expect(session, Rejoined)
    assert rejoined.joined.name == "Alice"
    await post(squatter := await peer_in(server.address, group_id, "Bob"), group_id, "welcome back")
    assert (await expect(session, MessagePosted)).text == "welcome back"
    squatter.close()
    await session.close()


async def test_a_rejoin_refused_every_time_gives_the_group_up_but_not_the_session(servers: Servers) -> None:
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    server = servers.kill_and_restart()
    await expect(session, Reconnecting)
    squatter = await peer_in(server.address, group_id, "Alice")
    gate.open()
    events = await events_until(session, lambda event: isinstance(event, Reconnected))
    assert [r.final for r in of_type(events, RejoinRefused)] == [False, False, True]
    with pytest.raises(KeyError):
        await session.send(group_id, "into a group we lost")
    created = await session.create_group("Elsewhere", "pw", "Alice")  # the link itself works
    assert created.group_id == group_id + 1
    squatter.close()
    await session.close()


async def test_giving_up_closes_the_session_and_counts_unsent_messages(servers: Servers) -> None:
    session = ChatSession(*servers.current.address, backoff=Backoff(first=0.05, jitter=0), give_up_after=0.3)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    servers.current.stop(signal.SIGKILL)
    await expect(session, Disconnected)
    await session.send(group_id, "never delivered")
    gave_up = await expect(session, GaveUp)
    assert gave_up.unsent == 1
    assert gave_up.reason.startswith("cannot connect")
    assert session.state is SessionState.CLOSED
    with pytest.raises(SessionClosed):
        await session.send(group_id, "too late")
    servers.current = restart(servers.current)  # the fixture stops it
    await session.close()


async def test_server_shutdown_is_a_reason_to_reconnect(servers: Servers) -> None:
    gate = Gate()
    session = ChatSession(*servers.current.address, wait=gate)
    await session.connect()
    group_id = (await session.create_group("Lobby", "pw", "Alice")).group_id
    servers.current.stop(signal.SIGTERM)
    assert (await expect(session, Disconnected)).reason.startswith("the server is shutting down")
    servers.current = restart(servers.current)
    gate.open()
    await expect(session, Reconnected)
    sent = await session.send(group_id, "after the restart")
    assert (await expect(session, MessageAcknowledged)).message == sent
    await session.close()


async def test_fetch_older_pages_back_without_repeating_the_replay(tmp_path: Path) -> None:
    servers = Servers(tmp_path / "chat.db", "--message-burst", "200")  # post the history at once
    try:
        await _page_back(servers)
    finally:
        servers.current.stop()


async def _page_back(servers: Servers) -> None:
    owner = await asyncio.to_thread(RawClient, servers.current.address)
    group_id = (await asyncio.to_thread(owner.create, "Lobby", "pw", "Owner")).group_id
    for i in range(1, 131):
        await post(owner, group_id, f"m{i}")
    session = ChatSession(*servers.current.address)
    await session.connect()
    joined = await session.join_group(group_id, "pw", "Alice")
    replay = [
        e.seq
        for e in await events_until(session, lambda e: isinstance(e, MessagePosted) and e.seq == joined.last_seq)
        if isinstance(e, MessagePosted)
    ]
    assert replay == list(range(81, 131))  # the server's last 50
    first = await session.fetch_older(group_id)
    assert ([m.seq for m in first.messages], first.has_more) == (list(range(1, 81)), False)
    second = await session.fetch_older(group_id)
    assert (second.messages, second.has_more) == ((), False)
    owner.close()
    await session.close()
