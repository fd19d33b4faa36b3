"""The loop's INFO log lines: one line per event, key=value, never a password."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_server.config import ServerConfig
from shared import MemberJoined, MemberLeft, MessageAccepted, SendMessage
from tests.conftest import ServerProcess
from tests.helpers import InProcessServer, RawClient


def test_the_start_is_logged_with_the_absolute_database_path(tmp_path: Path) -> None:
    os.symlink(tmp_path, tmp_path.parent / f"{tmp_path.name}-link")
    linked = tmp_path.parent / f"{tmp_path.name}-link" / "chat.db"
    server = ServerProcess(["--store", f"sqlite:///{linked}"])
    server.start()
    server.stop()
    assert f"store={(tmp_path / 'chat.db').resolve()} " in server.log_text()


@pytest.fixture
def small_hard_limit() -> Iterator[InProcessServer]:
    config = ServerConfig(
        port=0, store_url="memory:", output_hard_limit=64 * 1024, message_burst=1000, message_rate=1000.0
    )
    running = InProcessServer(config)
    yield running
    running.stop()


def test_a_slow_consumer_cut_is_one_key_value_line(
    small_hard_limit: InProcessServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "chat_server")
    alice = RawClient(small_hard_limit.address)
    alice.create("busy", "hunter2-secret", "Alice")
    sleepy = socket.socket()
    sleepy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, set before connecting
    sleepy.connect(small_hard_limit.address)
    sleeper = RawClient(small_hard_limit.address, sock=sleepy)
    sleeper.join(1, "hunter2-secret", "Sleepy")
    assert alice.next_event(MemberJoined).name == "Sleepy"
    port = sleepy.getsockname()[1]
    served = small_hard_limit.served(sleepy)
    # The kernel would otherwise buffer megabytes for it; a small send buffer makes the cut come soon.
    served.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    for number in range(200):
        alice.send(SendMessage(100 + number, 1, f"{number} " + "x" * 3990))
        if isinstance(alice.wait_for(lambda e: isinstance(e, MessageAccepted | MemberLeft)), MemberLeft):
            break
    cuts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("slow consumer cut:")]
    assert len(cuts) == 1, caplog.text
    assert cuts[0].startswith(f"slow consumer cut: conn=2 address=127.0.0.1:{port} bytes=")
    assert "hunter2" not in caplog.text
    sleeper.close()
