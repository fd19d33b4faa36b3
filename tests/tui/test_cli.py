"""The chat-tui command line: flags, --version, --help and the --plain hand-off."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from chat_tui.cli import DEFAULT_WEB_PORT, DEFAULT_WEB_SESSIONS, build_parser, main, parse_args


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
        "--log-file",
        "--version",
        "--web",
        "--web-host",
        "--web-port",
        "--web-url",
        "--web-sessions",
        "--locked",
        "--no-tls",
    ):
        assert flag in out
    for variable in ("GROUPCHAT_HOST", "GROUPCHAT_PORT", "GROUPCHAT_NAME", "GROUPCHAT_TLS"):
        assert variable in out


def test_defaults_and_flags() -> None:
    args = parse_args([], {})
    assert (args.host, args.port, args.name, args.plain) == ("127.0.0.1", 7030, "", False)
    args = parse_args(["--host", "::1", "--port", "9", "--name", "Bob", "--plain"], {})
    assert (args.host, args.port, args.name, args.plain) == ("::1", 9, "Bob", True)
    assert (args.tls, args.ca, args.reconnect_timeout) == (False, None, None)  # None: the TUI retries forever
    args = parse_args(["--tls", "--reconnect-timeout", "2.5"], {})
    assert (args.tls, args.reconnect_timeout) == (True, 2.5)
    args = parse_args([], {})
    assert (args.web, args.web_host, args.web_port, args.web_url) == (False, "127.0.0.1", DEFAULT_WEB_PORT, None)
    assert (args.web_sessions, args.locked) == (DEFAULT_WEB_SESSIONS, False)


ENV = {"GROUPCHAT_HOST": "chat.example", "GROUPCHAT_PORT": "7443", "GROUPCHAT_NAME": "Zoë", "GROUPCHAT_TLS": "yes"}


def test_environment_variables_stand_in_for_the_flags() -> None:
    args = parse_args([], ENV)
    assert (args.host, args.port, args.name, args.tls) == ("chat.example", 7443, "Zoë", True)
    for value, expected in [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False), ("Off", False)]:
        assert parse_args([], {"GROUPCHAT_TLS": value}).tls is expected


def test_flags_win_over_the_environment() -> None:
    args = parse_args(["--host", "::1", "--port", "9", "--name", "Bob", "--no-tls"], ENV)
    assert (args.host, args.port, args.name, args.tls) == ("::1", 9, "Bob", False)
    assert parse_args(["--tls"], {"GROUPCHAT_TLS": "0"}).tls is True


def test_an_empty_variable_counts_as_unset() -> None:
    args = parse_args([], dict.fromkeys(ENV, ""))
    assert (args.host, args.port, args.name, args.tls) == ("127.0.0.1", 7030, "", False)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("GROUPCHAT_PORT", "70000", "must be a whole number from 1 to 65535"),
        ("GROUPCHAT_PORT", "seven", "must be a whole number"),
        ("GROUPCHAT_HOST", "a host", "must be a host name or IP address"),
        ("GROUPCHAT_NAME", "Bob: hi", ""),
        ("GROUPCHAT_TLS", "maybe", "must be 1, true, yes, on, 0, false, no or off"),
    ],
)
def test_a_bad_variable_is_a_usage_error_naming_it(
    variable: str, value: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args([], {variable: value})
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"chat-tui: error: {variable}: {problem}" in err
    assert "Traceback" not in err


def test_a_bad_variable_that_a_flag_overrides_is_no_error() -> None:
    assert parse_args(["--port", "9"], {"GROUPCHAT_PORT": "seven"}).port == 9


def test_the_variables_reach_a_real_client(server_address: tuple[str, int]) -> None:
    host, port = server_address
    env = {**os.environ, "GROUPCHAT_HOST": host, "GROUPCHAT_PORT": str(port)}
    command = [sys.executable, "-m", "chat_tui", "--plain"]
    result = subprocess.run(command, input="3\n", capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--web", "--plain"], "cannot be used with --plain"),
        (["--web", "--locked"], "drop --locked"),
        (["--web", "--name", "Bob"], "each visitor gives their own name"),
        (["--web", "--web-url", "ftp://x"], "must be an http:// or https:// address"),
        (["--web", "--web-sessions", "0"], "from 1 to"),
        (["--web", "--web-port", "0"], "from 1 to 65535"),
    ],
)
def test_web_flags_that_do_not_go_together(argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv, {})
    assert exit_info.value.code == 2
    assert problem in capsys.readouterr().err


def test_web_keeps_a_name_from_the_environment_out_of_its_way() -> None:
    args = parse_args(["--web", "--web-url", "https://chat.example.org/"], {"GROUPCHAT_NAME": "Bob"})
    assert (args.web, args.web_url) == (True, "https://chat.example.org")


def test_reconnect_timeout_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--reconnect-timeout", "0"])
    assert "above 0" in capsys.readouterr().err


def test_scrollback_defaults_to_5000_and_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args([]).scrollback == 5000
    assert build_parser().parse_args(["--scrollback", "50"]).scrollback == 50
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--scrollback", "0"])
    assert "from 1 to" in capsys.readouterr().err


def test_plain_runs_the_line_client_and_returns_its_status(server_address: tuple[str, int]) -> None:
    host, port = server_address
    command = [sys.executable, "-m", "chat_tui", "--plain", "--host", host, "--port", str(port)]
    result = subprocess.run(command, input="3\n", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def _closed_port() -> int:
    """A loopback port nothing listens on: one the kernel just handed out and that was closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_plain_against_a_closed_port_fails_cleanly() -> None:
    command = [sys.executable, "-m", "chat_tui", "--plain", "--port", str(_closed_port())]
    result = subprocess.run(command, input="", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


BAD_VALUES = [
    ("--port", "70000"),
    ("--port", "-1"),
    ("--port", "0"),
    ("--port", "seven"),
    ("--host", ""),
    ("--name", "Bob: hi"),
    ("--reconnect-timeout", "inf"),
    ("--reconnect-timeout", "nan"),
    ("--reconnect-timeout", "-5"),
    ("--scrollback", "0"),
    ("--scrollback", "10000000000"),
]


@pytest.mark.parametrize(("flag", "value"), BAD_VALUES)
def test_a_bad_flag_value_is_a_usage_error(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--plain", f"{flag}={value}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {flag}: " in err
    assert "Traceback" not in err


def test_plain_with_port_70000_is_a_usage_error_not_a_traceback() -> None:
    command = [sys.executable, "-m", "chat_tui", "--plain", "--port", "70000"]
    result = subprocess.run(command, input="", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--port: must be a whole number from 1 to 65535" in result.stderr


def test_metavars_say_what_each_flag_takes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines by the terminal width
    for usage in ("--host ADDRESS", "--port PORT", "--name NAME", "--ca PEM_FILE", "--reconnect-timeout SECONDS"):
        assert usage in out
    assert "--scrollback MESSAGES" in out
    assert "(default: None)" not in out
