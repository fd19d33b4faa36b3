"""``plain.run`` over TLS, driven in-process with in-memory stdin and stdout."""

from __future__ import annotations

import io
import os
import signal
import ssl
import threading
import time
from pathlib import Path

import pytest

from chat_tui import plain
from tests.client.helpers import start_tls_server
from tests.plain.helpers import CREATE_PROMPTS, MENU, TIMEOUT


def test_plain_run_creates_and_chats_over_tls(tmp_path: Path) -> None:
    server, cert = start_tls_server(tmp_path)
    try:
        stdin = io.StringIO("2\nAlice\nLobby\npw\nhello over TLS\nqqq\n3\n")
        stdout = io.StringIO()
        context = ssl.create_default_context(cafile=cert)
        status = plain.run(*server.address, stdin, stdout, ssl_context=context, reconnect_timeout=5)
    finally:
        server.stop()
    assert status == 0
    assert stdout.getvalue().splitlines() == [
        *MENU,
        *CREATE_PROMPTS,
        "Created the chat with ID 1.",
        "You have joined the chat with ID 1.",
        "Alice: hello over TLS",
        *MENU,
    ]


def test_plain_run_with_an_untrusted_certificate_prints_one_error_and_exits_1(tmp_path: Path) -> None:
    server, _cert = start_tls_server(tmp_path)
    try:
        stdout = io.StringIO()
        status = plain.run(*server.address, io.StringIO("3\n"), stdout, ssl_context=ssl.create_default_context())
    finally:
        server.stop()
    host, port = server.address
    assert status == 1
    assert stdout.getvalue().startswith(f"Error: TLS handshake with {host}:{port} failed: certificate verify failed")
    assert len(stdout.getvalue().splitlines()) == 1


def test_a_bad_reconnect_timeout_keyword_is_one_error_line(tmp_path: Path) -> None:
    stdout = io.StringIO()
    assert plain.run("127.0.0.1", 9, io.StringIO(""), stdout, reconnect_timeout=0) == 1
    assert stdout.getvalue() == "Error: the reconnect timeout must be a positive number of seconds, not 0\n"


def test_the_reconnect_timeout_keyword_replaces_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUPCHAT_RECONNECT_TIMEOUT", "3600")  # would keep the client alive for an hour
    server, cert = start_tls_server(tmp_path)
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end, encoding="utf-8")
    stdout = io.StringIO()
    statuses: list[int] = []
    context = ssl.create_default_context(cafile=cert)

    def run() -> None:
        statuses.append(plain.run(*server.address, stdin, stdout, ssl_context=context, reconnect_timeout=0.5))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        os.write(write_end, b"2\nAlice\nLobby\npw\n")
        deadline = time.monotonic() + TIMEOUT
        while "You have joined" not in stdout.getvalue():
            assert time.monotonic() < deadline, stdout.getvalue()
            time.sleep(0.02)
    finally:
        server.stop(signal.SIGKILL)
    thread.join(TIMEOUT)
    os.close(write_end)
    assert statuses == [1], stdout.getvalue()
    assert stdout.getvalue().splitlines()[-1].startswith("Error: gave up reconnecting: cannot connect to")
