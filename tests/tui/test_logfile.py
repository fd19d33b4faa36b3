"""The log file: what Textual would swallow from stderr lands in the file that --log-file names."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from chat_tui import logfile
from chat_tui.cli import build_parser, main
from chat_tui.screens import ConnectScreen
from tests.conftest import ServerProcess
from tests.tui.helpers import SIZE, connect, create_group, label_text, make_app, wait_until

NOT_A_FRAME = b"\xff\xff\xff\xff"
"""A frame header announcing 4 GB: any client must refuse it as a protocol error."""


async def _send_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(NOT_A_FRAME)
    await writer.drain()
    await reader.read()  # until the client hangs up
    writer.close()


async def test_a_server_speaking_garbage_is_logged_to_the_log_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "chat-tui.log"
    args = build_parser().parse_args(["--log-file", str(path)])
    server = await asyncio.start_server(_send_garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with logfile.logging_to(args.log_file):
            app = make_app("127.0.0.1", port, "Alice")
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("enter")
                await wait_until(pilot, lambda: "no handshake" in label_text(app, "#status"))
                assert isinstance(app.screen, ConnectScreen)
    finally:
        server.close()
        await server.wait_closed()
    lines = path.read_text().splitlines()
    assert any("WARNING chat_tui.session.link: dropping the link: the server sent something" in line for line in lines)
    assert any(f"WARNING chat_tui.app: no handshake from 127.0.0.1:{port}" in line for line in lines)


def test_the_log_file_is_bounded_and_released(tmp_path: Path) -> None:
    path = tmp_path / "chat-tui.log"
    with logfile.logging_to(path) as handler:
        assert (handler.maxBytes, handler.backupCount) == (logfile.LOG_BYTES, logfile.LOG_BACKUPS)
        logging.getLogger("chat_tui.test").warning("one line")
    logging.getLogger("chat_tui.test").warning("after the block")
    assert path.read_text().count("\n") == 1
    assert handler not in logging.getLogger().handlers


def test_a_log_file_that_cannot_be_opened_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["--plain", "--log-file", str(blocker / "chat-tui.log")])
    assert exit_info.value.code == 2
    assert f"--log-file {blocker / 'chat-tui.log'}:" in capsys.readouterr().err


async def test_the_log_never_holds_the_password(server: ServerProcess, tmp_path: Path) -> None:
    path = tmp_path / "chat-tui.log"
    with logfile.logging_to(path, level=logging.DEBUG):  # even debug records: nothing may carry it
        app = make_app(*server.address, "Alice", reconnect_timeout=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await connect(pilot)
            await create_group(pilot, "doomed", "hunter2-secret")
            server.stop()
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen) and app.screen.is_mounted)
    text = path.read_text()
    assert f"connected to {server.address[0]}:{server.address[1]}" in text
    assert "Connection lost" in text
    assert "gave up on" in text
    assert "hunter2" not in text
