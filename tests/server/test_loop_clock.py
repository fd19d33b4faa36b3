"""The loop's timers run on an injected monotonic clock: time with nothing to write is not a stall."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server.config import ServerConfig
from shared import MemberJoined, MessageAccepted, MessagePosted, SendMessage
from tests.helpers import FakeClock, InProcessServer, RawClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[InProcessServer]:
    # Pings and handshake timers are kept out of the way: only the write-stall timer is under test.
    config = ServerConfig(
        port=0, store_url="memory:", write_timeout=2.0, ping_interval=10_000.0, hello_timeout=10_000.0
    )
    running = InProcessServer(config, monotonic=clock)
    yield running
    running.stop()


def test_a_quiet_client_is_not_cut_for_a_write_stall_when_output_finally_comes(
    server: InProcessServer, clock: FakeClock
) -> None:
    alice, bob = RawClient(server.address), RawClient(server.address)
    alice.create("quiet", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    assert alice.next_event(MemberJoined) == MemberJoined(1, "Bob")
    # A long quiet spell: nothing was pending for Bob, so nothing stalled. The first turn after it
    # queues Alice's message for Bob and runs the housekeeping tick before writing it.
    clock.advance(60.0)
    alice.request(lambda rid: SendMessage(rid, 1, "after a long silence"), MessageAccepted)
    assert bob.next_event(MessagePosted).text == "after a long silence"
    bob.request(lambda rid: SendMessage(rid, 1, "still connected"), MessageAccepted)
    assert server.alive
