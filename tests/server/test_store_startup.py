"""``chat-server`` refuses to start on a store it must not use, with one line and exit status 1 (items 3, 6)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chat_server.store import SqliteStore, StoredMessage
from tests.conftest import ServerProcess, sqlite_url


def refused_start(db: Path) -> tuple[int, list[str]]:
    """Run ``python -m chat_server`` on ``db``, which must exit by itself: its status and its log lines."""
    cmd = [sys.executable, "-m", "chat_server", "--host", "127.0.0.1", "--port", "0", "--store", sqlite_url(db)]
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = []
    for line in process.stderr:  # until it exits (EOF), or says it is serving
        lines.append(line)
        if "listening on" in line:
            process.kill()
            process.wait()
            pytest.fail("the server started:\n" + "".join(lines))
    return process.wait(timeout=30), lines


def assert_one_line_refusal(lines: list[str], *parts: str) -> None:
    errors = [line for line in lines if "ERROR" in line]
    assert len(errors) == 1, lines
    assert "cannot start: " in errors[0]
    for part in parts:
        assert part in errors[0]
    assert "Traceback" not in "".join(lines)


def test_a_second_server_on_one_database_exits_1_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    first = ServerProcess(["--store", sqlite_url(db)])
    first.start()
    try:
        assert first.process is not None
        status, lines = refused_start(db)
        assert status == 1
        assert_one_line_refusal(lines, f"{db.resolve()} is in use by another chat-server (pid {first.process.pid})")
    finally:
        first.stop(signal.SIGKILL)
    again = ServerProcess(["--store", sqlite_url(db)])  # a killed holder's lock dies with it
    again.start()
    again.stop()


def test_a_server_on_a_damaged_database_exits_1_saying_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    store = SqliteStore(db)
    store.create_group("team", "team", "hash", 0)
    store.append([StoredMessage(1, seq, seq, "Ann", "a" * 300) for seq in range(1, 1001)])
    store.close()
    data = bytearray(db.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    middle = len(data) // size // 2 * size  # a page of the message log, deep in the file
    data[middle : middle + size] = b"\xff" * size
    db.write_bytes(bytes(data))
    status, lines = refused_start(db)
    assert status == 1
    assert_one_line_refusal(lines, str(db.resolve()), "damaged", ".recover")
