"""ChatSession against a scripted peer: frames a real server sends only by bad luck, timing or malice.

Each test plays the server's side on a real loopback socket (tests/client/scripted_server.py): an
acknowledgement and the next message in one read, a garbage frame, an ``internal`` refusal, a
refused resume token, a member list in pages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import msgpack
import pytest

from chat_tui.session import ChatSession, News, Refused
from chat_tui.session import link as link_module
from chat_tui.session.courier import ABSORB_BATCH, MAX_INTERNAL_RETRIES
from chat_tui.session.events import Disconnected, Reconnected
from chat_tui.session.link import ServerLink, describe_refusal
from shared import (
    CreateGroup,
    Error,
    GroupCreated,
    GroupJoined,
    JoinGroup,
    MessageAccepted,
    MessagePosted,
    SendMessage,
)
from shared.events import MemberList
from shared.framing import frame
from tests.client.helpers import Gate, Watch, expect
from tests.client.scripted_server import ScriptedConnection, ScriptedServer

GROUP = 7
T = TypeVar("T")


async def _session_in_group(
    scripted: ScriptedServer,
    *,
    gate: Gate | None = None,
    token: str = "",
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[ChatSession, ScriptedConnection]:
    """A session connected to ``scripted`` that created group :data:`GROUP` as Alice."""
    session = ChatSession(*scripted.address, wait=gate or Gate(), pause=pause)
    await session.connect()
    peer = await scripted.accept()
    creating = _in_background(session.create_group("Lobby", "pw", "Alice"))
    create = await peer.receive_a(CreateGroup)
    created = GroupCreated(create.request_id, GROUP, "Lobby", "Alice")
    await peer.send(_with_token(created, token) if token else created)
    await creating
    return session, peer


def _with_token(created: GroupCreated, token: str) -> GroupCreated:
    return GroupCreated(created.request_id, created.group_id, created.group_name, created.name, resume_token=token)


def _in_background(coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run a request while the test plays the server's answer."""
    return asyncio.create_task(coroutine)


# --- item 11: an acknowledgement read together with the next message ----------------------------


async def test_an_ack_read_with_the_next_message_is_delivered_before_it(scripted: ScriptedServer) -> None:
    session, peer = await _session_in_group(scripted)
    watch = Watch(session.timeline(GROUP))
    for round_ in range(20):  # each round is one read holding our ack (seq n) and Bob's message (n + 1)
        await session.send(GROUP, f"mine {round_}")
        request = await peer.receive_a(SendMessage)
        seq = 2 * round_ + 1
        await peer.send(
            MessageAccepted(request.request_id, GROUP, seq, 1000 * seq),
            MessagePosted(GROUP, seq + 1, 1000 * seq + 1, "Bob", f"bob {round_}"),
        )
        await watch.until(lambda: watch.has(f"bob {round_}"))  # noqa: B023
        assert watch.settled()[-2:] == [(seq, f"mine {round_}"), (seq + 1, f"bob {round_}")]
        assert [e.own for e in watch.messages()[-2:]] == [True, False]
    await session.close()


# --- item 12: a malformed frame from the server --------------------------------------------------

GARBAGE = {
    "bin key": msgpack.packb({"type": "ping", "nonce": 1, b"": 0, "zz": 0}, use_bin_type=True),
    "int key": msgpack.packb({"type": "ping", "nonce": 1, 5: 0}, use_bin_type=True),
    "not a map": msgpack.packb([1, 2, 3]),
    "unknown type": msgpack.packb({"type": "surprise"}),
    "not msgpack": b"\xc1\xc1\xc1",
    "huge int": msgpack.packb({"type": "message_posted", "group_id": GROUP, "seq": 2**64 - 1, "ts": -1}),
}


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
async def test_a_malformed_frame_is_logged_and_the_session_reconnects(
    scripted: ScriptedServer, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()
    session, peer = await _session_in_group(scripted, gate=gate)
    with caplog.at_level(logging.WARNING, logger="chat_tui"):
        await peer.send_raw(frame(garbage))
        await expect(session, Disconnected)
    assert any(record.name.startswith("chat_tui") for record in caplog.records), "the drop was not logged"
    await peer.wait_closed_by_client()  # the link is dropped, not left open

    gate.open()
    again = await scripted.accept()
    join = await again.receive_a(JoinGroup)
    assert join.group_id == GROUP
    await again.send(GroupJoined(join.request_id, GROUP, "Lobby", "Alice", ("Alice",), 0))
    await expect(session, Reconnected)
    await session.close()


# --- item 8: ``internal`` is retried with the same text and client_msg_id -------------------------


async def test_an_internal_error_is_retried_with_the_same_client_msg_id(scripted: ScriptedServer) -> None:
    session, peer = await _session_in_group(scripted)
    watch = Watch(session.timeline(GROUP))
    sent = await session.send(GROUP, "keep me")
    first = await peer.receive_a(SendMessage)
    await peer.send(Error(first.request_id, "internal", "storage failed; send it again"))
    second = await peer.receive_a(SendMessage)
    assert (second.client_msg_id, second.text) == (first.client_msg_id, first.text) == (sent.client_msg_id, "keep me")
    assert watch.messages()[-1].state == "delayed"  # shown as still pending
    assert "could not store your message" in watch.timeline.entries[-2].text
    await peer.send(MessageAccepted(second.request_id, GROUP, 1, 1000))
    await watch.until(lambda: watch.has("keep me"))
    await session.close()


# --- item 15: rejoin with the resume token; the password only if the token is refused ------------


async def _rejoin(scripted: ScriptedServer, issue: str) -> tuple[ScriptedConnection, JoinGroup]:
    """The reconnected session's first join request; answered with a new token ``issue``."""
    peer = await scripted.accept()
    join = await peer.receive_a(JoinGroup)
    await peer.send(GroupJoined(join.request_id, GROUP, "Lobby", "Alice", ("Alice",), 0, resume_token=issue))
    return peer, join


async def test_rejoins_use_the_resume_token_then_the_password_if_it_is_refused(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()
    gate.open()
    caplog.set_level(logging.DEBUG)
    session, peer = await _session_in_group(scripted, gate=gate, token="token-1")

    peer.abort()
    peer, join = await _rejoin(scripted, "token-2")
    assert (join.password, join.resume_token, join.name) == (None, "token-1", "Alice")
    await expect(session, Reconnected)

    peer.abort()  # the next rejoin presents the newest token; the server refuses it this time
    peer = await scripted.accept()
    join = await peer.receive_a(JoinGroup)
    assert (join.password, join.resume_token) == (None, "token-2")
    await peer.send(Error(join.request_id, "bad_credentials", "wrong group ID or password"))
    join = await peer.receive_a(JoinGroup)
    assert (join.password, join.resume_token) == ("pw", None)  # the fallback, on the same connection
    await peer.send(GroupJoined(join.request_id, GROUP, "Lobby", "Alice", ("Alice",), 0, resume_token="token-3"))
    await expect(session, Reconnected)

    shown = repr(session._ledger.groups) + caplog.text  # what a debugging print or a log would show
    assert "token-" not in shown  # credentials never reach a log line or a repr
    assert "'pw'" not in shown
    await session.close()


async def test_a_paged_member_list_is_complete_after_its_last_page(scripted: ScriptedServer) -> None:
    session = ChatSession(*scripted.address, wait=Gate())
    await session.connect()
    peer = await scripted.accept()
    joining = _in_background(session.join_group(GROUP, "pw", "Carol"))
    join = await peer.receive_a(JoinGroup)
    await peer.send(  # one read: the reply, both pages and a message right behind them
        GroupJoined(join.request_id, GROUP, "Lobby", "Carol", ("Alice", "Bob"), 1, more_members=True),
        MemberList(GROUP, ("Dave",), True),
        MemberList(GROUP, ("Erin", "Carol"), False),
        MessagePosted(GROUP, 1, 1000, "Alice", "hi"),
    )
    reply = await joining
    assert isinstance(reply, GroupJoined)
    assert reply.more_members
    timeline = session.timeline(GROUP)
    watch = Watch(timeline)
    await watch.until(lambda: watch.has("hi"))
    assert timeline.members == ["Alice", "Bob", "Dave", "Erin", "Carol"]
    assert timeline.roster.complete
    await session.close()


# --- throttling: ``retry_after_ms`` says when to try again ---------------------------------------


async def test_a_rate_limited_message_waits_as_long_as_the_server_says(scripted: ScriptedServer) -> None:
    waited: list[float] = []

    async def pause(seconds: float) -> None:
        waited.append(seconds)

    session, peer = await _session_in_group(scripted, pause=pause)
    watch = Watch(session.timeline(GROUP))
    sent = await session.send(GROUP, "slow down")
    first = await peer.receive_a(SendMessage)
    await peer.send(Error(first.request_id, "rate_limited", "too fast", retry_after_ms=40))
    second = await peer.receive_a(SendMessage)
    assert second.client_msg_id == sent.client_msg_id
    assert "Sending too fast" in watch.timeline.entries[-2].text
    await peer.send(MessageAccepted(second.request_id, GROUP, 1, 1000))
    await watch.until(lambda: watch.has("slow down"))
    assert waited == [0.04]
    await session.close()


def test_a_refusal_with_retry_after_says_when_to_try_again() -> None:
    throttled = Error(1, "too_many_attempts", "too many wrong passwords", retry_after_ms=2500)
    assert describe_refusal(throttled) == "too many wrong passwords (try again in 3 s)"
    assert describe_refusal(Error(1, "bad_request", "no")) == "no"
    said = Error(None, "too_many_connections", "too many attempts; try again in 4 s", retry_after_ms=4000)
    assert describe_refusal(said) == said.message  # never said twice


async def _created_with_recorded_pauses(
    scripted: ScriptedServer,
) -> tuple[ChatSession, ScriptedConnection, list[float]]:
    """A session that created group GROUP, whose resend pauses are recorded (in seconds), not waited."""
    waited: list[float] = []

    async def pause(seconds: float) -> None:
        waited.append(seconds)

    session = ChatSession(*scripted.address, wait=Gate(), pause=pause)
    await session.connect()
    peer = await scripted.accept()
    creating = _in_background(session.create_group("Lobby", "pw", "Alice"))
    create = await peer.receive_a(CreateGroup)
    await peer.send(GroupCreated(create.request_id, GROUP, "Lobby", "Alice"))
    await creating
    return session, peer, waited


async def test_a_message_the_server_keeps_failing_to_store_is_refused_after_the_last_retry(
    scripted: ScriptedServer,
) -> None:
    session, peer, waited = await _created_with_recorded_pauses(scripted)
    news: list[News] = []
    session.timeline(GROUP).listen(news.append)
    watch = Watch(session.timeline(GROUP))
    await session.send(GROUP, "doomed")
    for _ in range(MAX_INTERNAL_RETRIES + 1):
        request = await peer.receive_a(SendMessage)
        await peer.send(Error(request.request_id, "internal", "storage failed"))
    await watch.until(lambda: any(isinstance(n, Refused) for n in news))
    assert news == [Refused("doomed", "internal", "storage failed")]
    assert watch.messages()[-1].state == "failed"
    assert waited == [0.5, 1.0, 2.0, 4.0, 8.0][:MAX_INTERNAL_RETRIES]  # doubling, capped
    await session.close()


async def test_unavailable_is_retried_for_as_long_as_the_store_stays_away(scripted: ScriptedServer) -> None:
    """Issue 12: with several server processes, Redis down means ``unavailable``; the message is resent
    (same client_msg_id) past MAX_INTERNAL_RETRIES, at the server's retry_after_ms, less often over time."""
    session, peer, waited = await _created_with_recorded_pauses(scripted)
    watch = Watch(session.timeline(GROUP))
    sent = await session.send(GROUP, "wait for redis")
    for _ in range(MAX_INTERNAL_RETRIES + 3):
        request = await peer.receive_a(SendMessage)
        assert request.client_msg_id == sent.client_msg_id
        await peer.send(Error(request.request_id, "unavailable", "the shared store is unavailable", 1000))
    request = await peer.receive_a(SendMessage)
    await peer.send(MessageAccepted(request.request_id, GROUP, 1, 1000))
    await watch.until(lambda: watch.has("wait for redis"))
    assert watch.messages()[-1].state == "sent"
    assert waited == [1.0, 1.0, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert any("cannot reach its message store" in entry.text for entry in watch.timeline.entries)
    await session.close()


# --- backpressure: a consumer that falls behind makes the link stop reading, not drop ------------


async def test_a_full_notification_queue_stops_reading_instead_of_dropping_the_link(
    scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link_module, "NOTIFICATION_QUEUE_SIZE", 5)
    link = await ServerLink.open(*scripted.address)
    peer = await scripted.accept()
    await peer.send(*(MessagePosted(GROUP, seq, 1000, "Bob", f"m{seq}") for seq in range(1, 51)))
    await asyncio.sleep(0.2)  # the consumer is busy elsewhere meanwhile: ten times the queue arrives
    assert link.is_open
    assert link.notifications.qsize() == 5
    received = [await asyncio.wait_for(link.notifications.get(), 5) for _ in range(50)]
    assert [getattr(item, "seq", None) for item in received] == list(range(1, 51))
    assert link.is_open
    await link.close()


async def test_a_burst_reaches_the_timeline_in_bounded_batches(scripted: ScriptedServer) -> None:
    session, peer = await _session_in_group(scripted)
    watch = Watch(session.timeline(GROUP))
    burst = ABSORB_BATCH + 44
    await peer.send(*(MessagePosted(GROUP, seq, 1000, "Bob", f"m{seq}") for seq in range(1, burst + 1)))
    await watch.until(lambda: len(watch.settled()) == burst)
    # One change per batch, not per frame; and no batch holds the loop for more than ABSORB_BATCH.
    assert 2 <= watch.changes < burst // 10
    await session.close()
