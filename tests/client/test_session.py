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
    NotConnected,
    Reconnected,
    Reconnecting,
    Rejoined,
    RejoinRefused,
    SessionClosed,
)
from chat_tui.session.reconnect import MAX_REJOIN_REFUSALS
from shared import GroupLeft, LeaveGroup, MessagePosted
from tests.client.helpers import (
    Gate,
    Servers,
    TcpProxy,
    Watch,
    events_until,
    expect,
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
    watch = Watch(session.timeline(group_id))
    peer = await peer_in(servers.current.address, group_id)
    await post(peer, group_id, "before")
    await watch.until(lambda: watch.has("before"))

    peer.close()
    servers.current.stop(signal.SIGKILL)
    await expect(session, Disconnected)
    await expect(session, Reconnecting)  # now waiting at the gate
    assert session.state is SessionState.RECONNECTING
    with pytest.raises(NotConnected):
        await session.join_group(group_id, "pw", "Alice again")
    sent = await session.send(group_id, "typed while away")
    assert (watch.messages()[-1].text, watch.messages()[-1].state) == ("typed while away", "pending")

    server = restart(servers.current)
    servers.current = server
    peer = await peer_in(server.address, group_id)
    missed = [await post(peer, group_id, f"missed {i}") for i in range(3)]
    gate.open()

    events = await events_until(session, lambda event: isinstance(event, Rejoined))
    assert isinstance(events[0], Reconnected), events
    assert [r.joined.members for r in of_type(events, Rejoined)] == [("Bob", "Alice")]
    await watch.until(lambda: watch.has(sent.text))
    ack = watch.settled()[-1]
    assert watch.settled() == [
        (1, "before"),
        *[(m.seq, f"missed {i}") for i, m in enumerate(missed)],
        (missed[-1].seq + 1, "typed while away"),
    ]
    seen_by_peer = await asyncio.to_thread(peer.wait_for, lambda e: getattr(e, "text", None) == "typed while away")
    assert isinstance(seen_by_peer, MessagePosted)
    assert seen_by_peer.seq == ack[0]

    barrier = await post(peer, group_id, "barrier")  # nothing (no duplicate) arrives before it
    await watch.until(lambda: watch.has("barrier"))
    assert watch.settled()[-2:] == [ack, (barrier.seq, "barrier")]
    shown = [seq for seq, _ in watch.settled() if seq is not None]
    assert shown == sorted(set(shown))  # in order, none twice
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
    watch = Watch(session.timeline(group_id))
    peer = await peer_in(servers.current.address, group_id)

    proxy.hold_downstream()  # the server's answers to the session vanish from here on
    sent = await session.send(group_id, "did it arrive?")
    stored = await asyncio.to_thread(peer.next_event, MessagePosted)  # fanned out: committed
    await proxy.cut()
    await expect(session, Disconnected)
    gate.open()

    await watch.until(lambda: watch.has(sent.text))
    [mine] = [entry for entry in watch.messages() if entry.text == sent.text]
    assert (mine.seq, mine.ts_ms, mine.own) == (stored.seq, stored.ts, True)  # the original seq and ts
    barrier = await post(peer, group_id, "barrier")
    await watch.until(lambda: watch.has("barrier"))
    assert watch.settled() == [(stored.seq, sent.text), (barrier.seq, "barrier")]  # our copy shown once

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
    watch = Watch(session.timeline(group_id))
    await session.send(group_id, "racing the kill")
    servers.kill_and_restart()  # the message may be unsent, stored unacknowledged, or acknowledged
    gate.open()
    await watch.until(lambda: watch.has("racing the kill"))
    await expect(session, Reconnected)
    assert watch.settled() == [(1, "racing the kill")]
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
    watch = Watch(session.timeline(group_id))
    await post(squatter := await peer_in(server.address, group_id, "Bob"), group_id, "welcome back")
    await watch.until(lambda: watch.has("welcome back"))
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
    assert [r.final for r in of_type(events, RejoinRefused)] == [False] * (MAX_REJOIN_REFUSALS - 1) + [True]
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
    watch = Watch(session.timeline(group_id))
    await session.send(group_id, "after the restart")
    await watch.until(lambda: watch.has("after the restart"))
    await session.close()


async def test_load_older_pages_back_without_repeating_the_replay(tmp_path: Path) -> None:
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
    timeline = session.timeline(group_id)
    watch = Watch(timeline)
    await watch.until(lambda: joined.last_seq in timeline.seqs)
    assert [seq for seq, _ in watch.settled()] == list(range(81, 131))  # the server's last 50
    assert timeline.older
    await timeline.load_older()
    assert [seq for seq, _ in watch.settled()] == list(range(1, 131))
    assert not timeline.older
    await timeline.load_older()  # nothing older: no request, nothing changes
    assert len(watch.settled()) == 130
    owner.close()
    await session.close()


async def test_after_a_server_restart_rejoins_are_one_line_and_whoever_did_not_return_leaves(
    servers: Servers,
) -> None:
    """Issue 9: after a restart every member rejoins, and each rejoin looked like a join ("X has joined
    the chat!"). Now the restart is one "Reconnected." line; a member who does not come back within
    the grace gets one "left" line."""
    gates = {name: Gate() for name in ("Alice", "Bob", "Carol")}
    sessions = {
        name: ChatSession(*servers.current.address, wait=gate, rejoin_grace=1.0) for name, gate in gates.items()
    }
    for session in sessions.values():
        await session.connect()
    group_id = (await sessions["Alice"].create_group("Lobby", "pw", "Alice")).group_id
    await sessions["Bob"].join_group(group_id, "pw", "Bob")
    await sessions["Carol"].join_group(group_id, "pw", "Carol")
    timeline = sessions["Alice"].timeline(group_id)
    watch = Watch(timeline)
    await watch.until(lambda: timeline.members == ["Alice", "Bob", "Carol"])
    before = len(timeline.entries)

    servers.current.stop(signal.SIGKILL)  # the same SQLite file comes back
    for session in sessions.values():
        await expect(session, Reconnecting)
    servers.current = restart(servers.current)
    gates["Alice"].open()
    await expect(sessions["Alice"], Reconnected)
    assert timeline.members == ["Alice", "Bob", "Carol"]  # expected back: still listed
    gates["Bob"].open()  # Bob rejoins after Alice; Carol never comes back
    await expect(sessions["Bob"], Reconnected)
    await watch.until(lambda: "Carol" not in timeline.members)
    assert [entry.text for entry in timeline.entries][before:] == ["Reconnected.", "Carol has left the chat!"]
    assert timeline.members == ["Alice", "Bob"]

    await post(bob := await peer_in(servers.current.address, group_id, "Dave"), group_id, "hi")  # a real join
    await watch.until(lambda: watch.has("hi"))
    assert "Dave has joined the chat!" in [entry.text for entry in timeline.entries]
    bob.close()
    for session in sessions.values():
        await session.close()
