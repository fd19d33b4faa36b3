"""The chat-tui command line: flags, --version, --help and the --plain hand-off."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chat_tui.cli import build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == "chat-tui 0.1.0"


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for flag in (
        "--host",
        "--port",
        "--name",
        "--plain",
        "--tls",
        "--ca",
        "--reconnect-timeout",
        "--scrollback",
        "--version",
    ):
        assert flag in out


def test_defaults_and_flags() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.name, args.plain) == ("127.0.0.1", 7030, "", False)
    args = build_parser().parse_args(["--host", "::1", "--port", "9", "--name", "Bob", "--plain"])
    assert (args.host, args.port, args.name, args.plain) == ("::1", 9, "Bob", True)
    assert (args.tls, args.ca, args.reconnect_timeout) == (False, None, None)  # None: the TUI retries forever
    args = build_parser().parse_args(["--tls", "--reconnect-timeout", "2.5"])
    assert (args.tls, args.reconnect_timeout) == (True, 2.5)


def test_reconnect_timeout_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--reconnect-timeout", "0"])
    assert "above 0" in capsys.readouterr().err


def test_scrollback_defaults_to_5000_and_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args([]).scrollback == 5000
    assert build_parser().parse_args(["--scrollback", "50"]).scrollback == 50
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--scrollback", "0"])
    assert "above 0" in capsys.readouterr().err


def test_plain_runs_the_line_client_and_returns_its_status(server_address: tuple[str, int]) -> None:
    host, port = server_address
    command = [sys.executable, "-m", "chat_tui", "--plain", "--host", host, "--port", str(port)]
    result = subprocess.run(command, input="3\n", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_plain_against_a_closed_port_fails_cleanly() -> None:
    command = [sys.executable, "-m", "chat_tui", "--plain", "--port", "1"]
    result = subprocess.run(command, input="", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
