"""A catch-up replay is streamed as the member reads: any backlog is caught up, never a slow consumer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server.config import ServerConfig
from shared import (
    FetchHistory,
    GroupJoined,
    HistoryPage,
    JoinGroup,
    MemberJoined,
    MessageAccepted,
    MessagePosted,
    SendMessage,
)
from tests.conftest import LOAD_FLAGS, Starter
from tests.helpers import InProcessServer, RawClient

EMOJI = "\U0001f600"  # four bytes in UTF-8: 4,000 of them make a 16 KB message


def _post(poster: RawClient, texts: list[str], batch: int = 50) -> None:
    """Post every text, pipelining ``batch`` at a time (each batch acknowledged before the next)."""
    for start in range(0, len(texts), batch):
        for offset, text in enumerate(texts[start : start + batch]):
            poster.send(SendMessage(10_000 + start + offset, 1, text))
        for _ in texts[start : start + batch]:
            poster.wait_for(lambda e: isinstance(e, MessageAccepted))


def _rejoin_and_catch_up(address: tuple[str, int], since_seq: int, count: int) -> tuple[RawClient, list[MessagePosted]]:
    member = RawClient(address, timeout=60)
    joined = member.request(lambda rid: JoinGroup(rid, 1, "pw", "Vera", since_seq=since_seq), GroupJoined)
    assert joined.last_seq == since_seq + count
    posted = [member.next_event(MessagePosted) for _ in range(count)]
    return member, posted


def test_a_thousand_missed_emoji_messages_are_caught_up_at_default_output_limits(start_server: Starter) -> None:
    server = start_server(*LOAD_FLAGS)  # the rate limits are raised to post fast; output limits are default
    poster = RawClient(server.address, timeout=60)
    poster.create("backlog", "pw", "Poster")
    RawClient(server.address).join(1, "pw", "Vera")  # a member, who then goes away
    texts = [f"{number:04d}" + EMOJI * 3996 for number in range(1000)]
    _post(poster, texts)
    member, posted = _rejoin_and_catch_up(server.address, 0, 1000)
    assert [p.seq for p in posted] == list(range(1, 1001))
    assert [p.text for p in posted] == texts
    poster.request(lambda rid: SendMessage(rid, 1, "live again"), MessageAccepted)
    live = member.next_event(MessagePosted)
    assert (live.seq, live.text) == (1001, "live again")  # back in live fan-out: nothing missed or doubled
    member.assert_silent()
    assert "slow consumer" not in server.log_text()


@pytest.fixture
def tiny_replay() -> Iterator[InProcessServer]:
    # One message per piece, queued only when nothing at all is pending: the smallest streaming steps.
    config = ServerConfig(port=0, store_url="memory:", replay_chunk=1, output_low_water=1, message_burst=1000)
    running = InProcessServer(config)
    yield running
    running.stop()


def test_a_replay_streamed_one_message_at_a_time_meets_live_messages_exactly(tiny_replay: InProcessServer) -> None:
    poster = RawClient(tiny_replay.address)
    poster.create("steps", "pw", "Poster")
    RawClient(tiny_replay.address).join(1, "pw", "Vera")
    assert poster.next_event(MemberJoined).name == "Vera"
    _post(poster, [f"missed {n}" for n in range(40)], batch=10)
    member = RawClient(tiny_replay.address)
    member.request(lambda rid: JoinGroup(rid, 1, "pw", "Vera", since_seq=0), GroupJoined)
    poster.request(lambda rid: SendMessage(rid, 1, "during the replay"), MessageAccepted)
    texts = [member.next_event(MessagePosted).text for _ in range(41)]
    assert texts == [f"missed {n}" for n in range(40)] + ["during the replay"]
    member.assert_silent()


@pytest.fixture
def small_output_limits() -> Iterator[InProcessServer]:
    config = ServerConfig(
        port=0, store_url="memory:", output_hard_limit=64 * 1024, output_soft_limit=32 * 1024, message_burst=1000
    )
    running = InProcessServer(config)
    yield running
    running.stop()


def test_pipelined_history_pages_far_over_the_output_limits_are_streamed(small_output_limits: InProcessServer) -> None:
    poster = RawClient(small_output_limits.address)
    poster.create("pages", "pw", "Poster")
    _post(poster, [f"{n:03d} " + "y" * 3990 for n in range(100)], batch=25)
    reader = RawClient(small_output_limits.address)
    reader.join(1, "pw", "Reader")
    # Twenty pages of about 60 KB each: 1.2 MB of replies asked for at once, against a 64 KiB hard limit.
    reader.send_raw(b"".join(reader.conn.send(FetchHistory(100 + i, 1, 101, 100)) for i in range(20)))
    pages = [reader.wait_for(lambda e: isinstance(e, HistoryPage)) for _ in range(20)]
    assert [p.request_id for p in pages if isinstance(p, HistoryPage)] == list(range(100, 120))
    assert all(isinstance(p, HistoryPage) and p.messages[-1].seq == 100 for p in pages)
