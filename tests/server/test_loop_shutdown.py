"""SIGTERM while the rate limiter holds messages: they are stored and acknowledged before the goodbye."""

from __future__ import annotations

import signal
from pathlib import Path

from shared import Error, Event, GroupJoined, JoinGroup, MessageAccepted, Ping, Pong, SendMessage, ServerClosing
from tests.conftest import ServerProcess, sqlite_url
from tests.helpers import RawClient


def test_sigterm_stores_and_acknowledges_held_messages_then_says_goodbye(tmp_path: Path) -> None:
    store = sqlite_url(tmp_path / "chat.db")
    # One message at once, then one a quarter hour: the next three are held by the rate limiter.
    server = ServerProcess(["--store", store, "--message-burst", "1", "--message-rate", "0.001"])
    server.start()
    try:
        alice = RawClient(server.address)
        alice.create("held", "pw", "Alice")
        for number in range(4):
            alice.send(SendMessage(100 + number, 1, f"message {number}"))
        alice.send(Ping(7))  # requests are handled in order: the pong means all four were
        assert alice.wait_for(lambda e: isinstance(e, Pong)) == Pong(7)
        assert server.stop(signal.SIGTERM) == 0
        events = alice.read_until_closed()
    finally:
        server.stop()
    answered = {e.request_id: e for e in events if isinstance(e, MessageAccepted | Error)}
    assert set(answered) == {100, 101, 102, 103}, events
    assert all(isinstance(e, MessageAccepted) for e in answered.values()), events
    assert events[-1] == ServerClosing("the server is shutting down")
    assert "Traceback" not in server.log_text()
    assert _last_seq_after_restart(store) == 4  # acknowledged means stored


def _last_seq_after_restart(store: str) -> int:
    server = ServerProcess(["--store", store])
    server.start()
    try:
        bob = RawClient(server.address)
        joined: Event = bob.request(lambda rid: JoinGroup(rid, 1, "pw", "Bob"), GroupJoined)
        assert isinstance(joined, GroupJoined)
        return joined.last_seq
    finally:
        server.stop()
