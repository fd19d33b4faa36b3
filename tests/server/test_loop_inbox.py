"""Each connection's requests wait in its inbox and are handled in order, paced by a cost-aware budget."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chat_server.config import ServerConfig
from shared import (
    PROTOCOL_VERSION,
    CreateGroup,
    Error,
    FetchHistory,
    GroupCreated,
    Hello,
    HistoryPage,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    SendMessage,
    Welcome,
    encode,
)
from tests.conftest import LOAD_FLAGS, Starter
from tests.helpers import InProcessServer, RawClient

# A budget of 100 that does not refill during a test: what it affords is exact.
FROZEN_BUDGET = ("--request-burst", "100", "--request-rate", "0.001")


def _group_with_history(address: tuple[str, int], messages: int = 3) -> RawClient:
    alice = RawClient(address)
    alice.create("team", "pw", "Alice")
    for number in range(messages):
        alice.send(SendMessage(100 + number, 1, f"message {number}"))
        alice.wait_for(lambda e: isinstance(e, MessageAccepted))
    return alice


def test_history_pages_cost_their_rows_and_wait_for_the_budget_in_order(start_server: Starter) -> None:
    server = start_server(*LOAD_FLAGS, *FROZEN_BUDGET)
    alice = _group_with_history(server.address)
    pager = RawClient(server.address)  # hello: 1
    pager.join(1, "pw", "Pager")  # join: 1, so 98 are left
    for request_id in (10, 11, 12):
        pager.send(FetchHistory(request_id, 1, 4, limit=49))
    pager.send(Ping(5))
    pages = [pager.wait_for(lambda e: isinstance(e, HistoryPage)) for _ in range(2)]
    assert [page.request_id for page in pages if isinstance(page, HistoryPage)] == [10, 11]
    pager.assert_silent(0.5)  # the third page (49 more rows) and the ping behind it wait for the budget
    alice.send(Ping(9))
    assert alice.wait_for(lambda e: isinstance(e, Pong)) == Pong(9)  # others are served meanwhile


def test_nothing_is_handled_for_a_connection_once_it_is_closing(start_server: Starter) -> None:
    server = start_server(*LOAD_FLAGS, *FROZEN_BUDGET, "--frame-timeout", "0.5")
    alice = _group_with_history(server.address)
    late = RawClient(server.address)
    late.join(1, "pw", "Late")  # 98 left
    late.send(FetchHistory(10, 1, 4, limit=98))  # spends them all
    late.send(SendMessage(11, 1, "zombie"))  # waits for the budget...
    late.send_raw(b"\x00\x00\x00\x10\x81")  # ...behind which a frame never completes: closed by timeout
    events = late.read_until_closed()
    replies = [e for e in events if not isinstance(e, MessagePosted)]  # the join replays history
    assert [type(e) for e in replies] == [HistoryPage, Error], events
    assert replies[-1] == Error(None, "timeout", "incomplete frame idle for 0.5 s")
    alice.send(FetchHistory(99, 1, 10, limit=10))
    page = alice.wait_for(lambda e: isinstance(e, HistoryPage))
    assert isinstance(page, HistoryPage)
    assert [entry.text for entry in page.messages] == ["message 0", "message 1", "message 2"]
    assert not any(isinstance(e, MessagePosted) for e in alice.inbox)


def test_pipelined_create_then_send_waits_for_the_password_hash(start_server: Starter) -> None:
    server = start_server()
    client = RawClient(server.address, handshake=False)
    hello = Hello(1, PROTOCOL_VERSION, "pipeliner")
    requests = [hello, CreateGroup(2, "fresh", "pw", "Alice"), SendMessage(3, 1, "first")]
    client.send_raw(b"".join(client.conn.send(request) for request in requests))  # one write, no waiting
    replies = [client.wait_for(lambda _: True) for _ in range(3)]
    assert [type(e) for e in replies] == [Welcome, GroupCreated, MessageAccepted], replies


def _send_at_most(sock: socket.socket, data: bytes, total: int) -> None:
    sent = 0
    while sent < total:
        sent += sock.send(data)


@pytest.fixture
def small_inbox() -> Iterator[InProcessServer]:
    config = ServerConfig(
        port=0, store_url="memory:", inbox_limit=8, read_chunk=1024, request_burst=100, request_rate=0.001
    )
    running = InProcessServer(config)
    yield running
    running.stop()


def test_a_connection_whose_inbox_is_over_its_bound_is_not_read(small_inbox: InProcessServer) -> None:
    alice = _group_with_history(small_inbox.address, messages=1)
    flooder = RawClient(small_inbox.address)
    flooder.join(1, "pw", "Flooder")
    flooder.send(FetchHistory(10, 1, 2, limit=98))  # the budget is spent; everything after this waits
    assert isinstance(flooder.wait_for(lambda e: isinstance(e, HistoryPage)), HistoryPage)
    ping = encode(Ping(1))
    burst = ping * (4096 // len(ping))
    flooder.sock.setblocking(False)
    with pytest.raises(BlockingIOError):  # the server stopped reading: the kernel buffers filled up
        _send_at_most(flooder.sock, burst, 64 * 1024 * 1024)
    waiting = small_inbox.served(flooder.sock)
    # At most the bound plus what one read chunk decodes to (a read is never cut mid-chunk).
    assert len(waiting.inbox) <= 8 + 1024 // len(ping) + 1
    alice.send(Ping(9))
    assert alice.wait_for(lambda e: isinstance(e, Pong)) == Pong(9)
    flooder.close()
