"""`chat-tui --web`: the same app in a browser, one client process per browser tab, through textual-serve.

The serving side (:func:`serve`) runs ``python -m chat_tui --locked --host H --port P …`` for each browser tab
(textual-serve's ``WebDriver`` speaks the terminal over the page's websocket). ``--locked`` starts a
:class:`LockedChatApp`: its connect screen asks only for a name, and whatever a visitor does, its session
connects only to the chat server given on the serving command line, so a visitor cannot make the serving
machine open connections elsewhere.

textual-serve has no login of its own: bind it to loopback (the default) and put a TLS reverse proxy with
authentication in front when browsers come from elsewhere (README, "In a browser"). Each tab costs one client
process (about 50 MB), so at most ``--web-sessions`` run at once; more are turned away with 503.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import shlex
import sys
from typing import Any

from textual import on
from textual.await_complete import AwaitComplete
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Label

from chat_tui.app import ChatApp
from chat_tui.screens import ConnectScreen
from chat_tui.session import ChatSession

log = logging.getLogger("chat_tui.web")

TITLE = "groupchat"
"""The browser tab's title."""


# --- the client each browser tab runs -------------------------------------------------------------


class LockedConnectScreen(ConnectScreen):
    """The connect screen with the host and port fixed: only the name can be typed."""

    def on_mount(self) -> None:
        """Hide the host and port fields and their labels (ConnectScreen's own on_mount then focuses
        the name, or Connect when the name is already filled in)."""
        host, port, _name = self._defaults
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.query_one(".form-title", Label).update(Content(f"Connect to the groupchat server at {where}"))
        for field_id in ("host", "port"):
            field = self.query_one(f"#{field_id}", Input)
            siblings = list(field.parent.children) if field.parent is not None else []
            label = siblings[siblings.index(field) - 1]
            for widget in (label, field):
                widget.display = False  # neither shown nor focusable nor clickable

    @classmethod
    def replacing(cls, screen: ConnectScreen, host: str, port: int) -> LockedConnectScreen:
        """The locked form for a connect screen the app asked for: its name, status and focus kept."""
        return cls(host, port, screen._defaults[2], status=screen._status, focus=screen._focus)


class LockedChatApp(ChatApp):
    """A ChatApp that only ever connects to the ``host`` and ``port`` it was started with.

    :meth:`make_session`, the one place a session (and so a socket) is made, ignores the address it is
    given: that alone keeps a visitor from making the serving machine connect elsewhere. The other two
    locks keep what the visitor sees true to it: every connect screen ChatApp shows becomes a
    :class:`LockedConnectScreen` (no host or port field), and a connect request's host and port are set to
    the locked ones before ChatApp's own handler reads them.
    """

    def __init__(self, host: str, port: int, name: str = "", **options: Any) -> None:
        super().__init__(host, port, name, **options)
        self.locked_host, self.locked_port = host, port

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """ChatApp's screens, with the connect screen locked (ChatApp pushes one at start)."""
        return super().push_screen(self._lock(screen), *args, **kwargs)

    def switch_screen(self, screen: Screen[Any] | str) -> AwaitComplete:
        """ChatApp's screens, with the connect screen locked (ChatApp switches to one after a disconnect
        or giving up)."""
        return super().switch_screen(self._lock(screen))

    def _lock(self, screen: Screen[Any] | str) -> Screen[Any] | str:
        if type(screen) is ConnectScreen:
            return LockedConnectScreen.replacing(screen, self.locked_host, self.locked_port)
        return screen

    @on(ConnectScreen.ConnectRequested)
    def _lock_request(self, request: ConnectScreen.ConnectRequested) -> None:
        # Runs before ChatApp's own handler (a subclass's handlers come first in Textual's dispatch).
        request.host, request.port = self.locked_host, self.locked_port

    def make_session(self, host: str, port: int) -> ChatSession:
        """A session for the locked server, whatever ``host`` and ``port`` say."""
        if (host, port) != (self.locked_host, self.locked_port):
            log.warning("refused %r port %d: locked to %s:%d", host, port, self.locked_host, self.locked_port)
        return super().make_session(self.locked_host, self.locked_port)


# --- the web server -------------------------------------------------------------------------------


def child_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser tab (it runs it through the shell)."""
    argv = [sys.executable, "-m", "chat_tui", "--locked", "--host", args.host, "--port", str(args.port)]
    argv += ["--name", ""]  # each visitor gives their own name, whatever GROUPCHAT_NAME says
    argv += ["--tls" if args.tls else "--no-tls"]
    if args.ca:
        argv += ["--ca", args.ca]
    if args.reconnect_timeout is not None:
        argv += ["--reconnect-timeout", repr(args.reconnect_timeout)]
    argv += ["--scrollback", str(args.scrollback), "--log-file", str(args.log_file)]
    return shlex.join(argv)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (names are not resolved)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warnings(args: argparse.Namespace) -> list[str]:
    """What to tell the operator before serving: an open port with no login, a page that cannot work."""
    said = []
    if not is_loopback(args.web_host):
        said.append(
            f"serving on {args.web_host} without a login: anyone who can reach it can chat here under any name. "
            "Put a reverse proxy with TLS and authentication in front (README, In a browser)."
        )
        if args.web_url is None:
            said.append(
                f"the page tells browsers to open their websocket at {default_url(args)}; "
                "give --web-url with the address browsers use"
            )
    return said


def default_url(args: argparse.Namespace) -> str:
    """``http://WEB_HOST:WEB_PORT``, what the page points browsers at without ``--web-url``."""
    where = f"[{args.web_host}]" if ":" in args.web_host else args.web_host
    return f"http://{where}:{args.web_port}"


def serve(args: argparse.Namespace) -> int:
    """Serve the locked client at ``args.web_host:args.web_port`` until Ctrl+C or SIGTERM; the exit code."""
    try:
        server = make_server(args)
    except ImportError as exc:
        print(f"chat-tui: error: --web needs textual-serve ({exc}): pip install 'groupchat[web]'", file=sys.stderr)
        return 2
    for warning in warnings(args):
        print(f"chat-tui: warning: {warning}", file=sys.stderr)
    server.serve()
    return 0


def make_server(args: argparse.Namespace) -> Any:
    """A textual-serve ``Server`` for ``args`` that serves at most ``args.web_sessions`` tabs at once.

    Raises:
        ImportError: textual-serve (the ``web`` extra) is not installed.
    """
    from aiohttp import web  # noqa: PLC0415 - optional: installed with textual-serve
    from textual_serve.server import Server  # noqa: PLC0415

    limit: int = args.web_sessions

    class LimitedServer(Server):
        """textual-serve's Server, with a cap on concurrent browser tabs (each one is a client process)."""

        def __init__(self, command: str, **options: Any) -> None:
            super().__init__(command, **options)
            self.sessions = 0

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            if self.sessions >= limit:
                log.warning("turned a browser away: already serving %d tabs (--web-sessions)", limit)
                raise web.HTTPServiceUnavailable(text=f"groupchat serves at most {limit} browser tabs at once")
            self.sessions += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions -= 1

    public_url = args.web_url or default_url(args)
    return LimitedServer(
        child_command(args), host=args.web_host, port=args.web_port, title=TITLE, public_url=public_url
    )
