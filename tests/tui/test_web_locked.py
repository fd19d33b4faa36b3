"""The client each `chat-tui --web` browser tab runs (``--locked``): it asks only for a name, and connects
only to the server given on the command line, whatever a visitor does."""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from datetime import UTC
from pathlib import Path

from textual.widgets import Input

from chat_tui.cli import parse_args
from chat_tui.screens import ConnectScreen, HomeScreen
from chat_tui.web import LockedChatApp, LockedConnectScreen, child_command, default_url, is_loopback, warnings
from tests.tui.helpers import FIXED_NOW, SIZE, wait_until


def _locked_app(host: str, port: int, name: str = "") -> LockedChatApp:
    return LockedChatApp(host, port, name, clock=lambda: FIXED_NOW, tz=UTC)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _shown_inputs(screen: ConnectScreen) -> list[str]:
    return [str(widget.id) for widget in screen.query(Input) if widget.display]


async def test_the_connect_screen_asks_only_for_a_name_and_connects_to_the_locked_server(
    server_address: tuple[str, int],
) -> None:
    host, port = server_address
    app = _locked_app(host, port)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LockedConnectScreen)
        assert _shown_inputs(screen) == ["name"]
        assert app.focused is screen.query_one("#name", Input)
        await pilot.press(*"Alice", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.session is not None
        assert (app.session.host, app.session.port, app.you) == (host, port, "Alice")


async def test_a_request_for_another_server_still_goes_to_the_locked_one(server_address: tuple[str, int]) -> None:
    host, port = server_address
    app = _locked_app(host, port, "Eve")
    async with app.run_test(size=SIZE) as pilot:
        # What a visitor could never type (the fields are hidden), posted by hand: elsewhere is a closed port.
        app.screen.post_message(ConnectScreen.ConnectRequested("127.0.0.2", _closed_port(), "Eve"))
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.session is not None
        assert (app.session.host, app.session.port) == (host, port)
        assert (app.host, app.port) == (host, port)


def test_make_session_ignores_the_address_it_is_given() -> None:
    app = _locked_app("127.0.0.1", 7030)
    session = app.make_session("203.0.113.9", 25)
    assert (session.host, session.port) == ("127.0.0.1", 7030)


async def test_after_a_disconnect_the_connect_screen_is_still_locked(server_address: tuple[str, int]) -> None:
    host, port = server_address
    app = _locked_app(host, port, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is not None
        assert app.focused.id == "connect"  # the name was given: a lone Enter connects
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        screen = app.screen
        assert isinstance(screen, LockedConnectScreen)
        assert _shown_inputs(screen) == ["name"]
        assert app.focused is screen.query_one("#name", Input)
        assert screen.query_one("#name", Input).value == "Alice"


def _args(*argv: str) -> argparse.Namespace:
    return parse_args(["--web", *argv], {})


def test_each_tab_runs_a_locked_client_with_the_serving_flags(tmp_path: Path) -> None:
    log = tmp_path / "a dir; rm -rf ~" / "chat.log"  # the command goes through a shell: quoted
    argv = shlex.split(child_command(_args("--host", "chat.example", "--port", "7443", "--log-file", str(log))))
    assert argv[:3] == [sys.executable, "-m", "chat_tui"]
    assert "--locked" in argv
    assert argv[argv.index("--host") + 1 : argv.index("--host") + 4] == ["chat.example", "--port", "7443"]
    assert argv[argv.index("--name") + 1] == ""  # each visitor gives a name, whatever GROUPCHAT_NAME says
    assert argv[argv.index("--log-file") + 1] == str(log)
    assert "--no-tls" in argv
    tls = shlex.split(child_command(_args("--ca", "/etc/ca.pem", "--reconnect-timeout", "2.5")))
    assert tls[tls.index("--ca") + 1] == "/etc/ca.pem"
    assert tls[tls.index("--reconnect-timeout") + 1] == "2.5"
    assert "--tls" in shlex.split(child_command(parse_args(["--web"], {"GROUPCHAT_TLS": "yes"})))


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.5", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.2", "example.org"]))


def test_serving_beyond_loopback_warns_and_asks_for_the_public_address() -> None:
    assert warnings(_args()) == []
    said = warnings(_args("--web-host", "0.0.0.0"))
    assert len(said) == 2
    assert "without a login" in said[0]
    assert "--web-url" in said[1]
    assert len(warnings(_args("--web-host", "::", "--web-url", "https://chat.example.org"))) == 1
    assert default_url(_args("--web-host", "::1", "--web-port", "9000")) == "http://[::1]:9000"
