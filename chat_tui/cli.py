"""`chat-tui` / `python -m chat_tui`: flags, then the Textual app, the plain line client, or the web server.

Everything past argparse is imported when it is used, so ``--help`` and ``--version`` load neither
Textual nor asyncio, ssl or the protocol package (a test checks this).

``GROUPCHAT_HOST``, ``GROUPCHAT_PORT``, ``GROUPCHAT_NAME`` and ``GROUPCHAT_TLS`` stand in for the flags of the
same name when those are not given (a flag always wins; an empty variable counts as unset). A bad value is a
usage error that names the variable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from chat_tui import __version__

if TYPE_CHECKING:
    import ssl

T = TypeVar("T")


MAX_PORT = 65535
"""TCP ports are 16-bit; port 0 means "any" to a listener and cannot be connected to."""
MAX_SCROLLBACK = 1_000_000
"""Messages a chat may keep in memory: a million 4,000-character messages is already several GB."""
DEFAULT_WEB_PORT = 8000
"""Where ``--web`` listens unless told (textual-serve's own default)."""
DEFAULT_WEB_SESSIONS = 20
"""Browser tabs ``--web`` serves at once: each is one client process of about 50 MB."""
MAX_WEB_SESSIONS = 1000

ENVIRONMENT = {"host": "GROUPCHAT_HOST", "port": "GROUPCHAT_PORT", "name": "GROUPCHAT_NAME", "tls": "GROUPCHAT_TLS"}
"""The environment variable standing in for each flag (by its argparse ``dest``)."""
DEFAULTS: dict[str, object] = {"host": "127.0.0.1", "port": 7030, "name": "", "tls": False}


@dataclass(frozen=True, slots=True)
class FromEnvironment:
    """A flag's default taken from the environment, still unchecked: :func:`parse_args` checks it, only
    when the flag itself was not given (so a bad variable that a flag overrides is no error)."""

    variable: str
    text: str

    def __str__(self) -> str:
        return f"${self.variable}={self.text!r}"


def _seconds(text: str) -> float:
    value = _number(text, float, "a number of seconds")
    if not 0 < value < float("inf"):  # also refuses nan, which compares false with everything
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ``minimum..maximum`` (a usage error, exit 2, otherwise)."""

    def check(text: str) -> int:
        value = _number(text, int, "a whole number")
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be a whole number from {minimum} to {maximum}, not {text!r}")
        return value

    return check


def _number(text: str, kind: Callable[[str], T], what: str) -> T:
    try:
        return kind(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _host(text: str) -> str:
    if not text.strip() or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise argparse.ArgumentTypeError(f"must be a host name or IP address, not {text!r}")
    return text


def _name(text: str) -> str:
    if not text:
        return text  # no name: the connect screen asks for one
    from shared import InvalidField, fields  # noqa: PLC0415 - see the module docstring

    try:
        return fields.display_name(text)
    except InvalidField as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _switch(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"must be 1, true, yes, on, 0, false, no or off, not {text!r}")


CHECKS: dict[str, Callable[[str], object]] = {"host": _host, "port": _whole(1, MAX_PORT), "name": _name, "tls": _switch}


def _default(dest: str, environ: Mapping[str, str]) -> object:
    text = environ.get(ENVIRONMENT[dest], "")
    return FromEnvironment(ENVIRONMENT[dest], text) if text else DEFAULTS[dest]


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The command-line interface; every value is checked by its type, so a bad one is a usage error.

    ``environ`` (default: ``os.environ``) supplies the ``GROUPCHAT_*`` defaults; use :func:`parse_args`,
    which checks them, rather than this parser's own ``parse_args``.
    """
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="chat-tui",
        description="Password-protected group chat.",
        epilog="GROUPCHAT_HOST, GROUPCHAT_PORT, GROUPCHAT_NAME and GROUPCHAT_TLS (1/0, true/false, yes/no, on/off) "
        "stand in for --host, --port, --name and --tls when those flags are not given.",
    )
    host_help = "server host name or IP address (default: $GROUPCHAT_HOST, else 127.0.0.1)"
    parser.add_argument("--host", type=_host, default=_default("host", env), metavar="ADDRESS", help=host_help)
    parser.add_argument(
        "--port",
        type=_whole(1, MAX_PORT),
        default=_default("port", env),
        metavar="PORT",
        help=f"server TCP port, 1-{MAX_PORT} (default: $GROUPCHAT_PORT, else 7030)",
    )
    parser.add_argument(
        "--name",
        type=_name,
        default=_default("name", env),
        metavar="NAME",
        help="your display name in groups (default: $GROUPCHAT_NAME)",
    )
    parser.add_argument("--plain", action="store_true", help="line-mode client without the full-screen UI")
    parser.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=_default("tls", env),
        help="use TLS, verifying the server against the system CAs (default: $GROUPCHAT_TLS, else off)",
    )
    parser.add_argument(
        "--ca", metavar="PEM_FILE", help="trust this PEM CA or self-signed certificate for the server (implies --tls)"
    )
    parser.add_argument(
        "--reconnect-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up reconnecting after this long (default: retry forever; 60 s with --plain)",
    )
    parser.add_argument(
        "--scrollback",
        type=_whole(1, MAX_SCROLLBACK),
        default=5000,
        metavar="MESSAGES",
        help="messages each chat keeps in memory; older ones are fetched again on scroll (default: %(default)s)",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        default=default_log_file(),
        metavar="PATH",
        help="append the client's log here; it rotates, so it stays small (default: %(default)s)",
    )
    web = parser.add_argument_group("browser", "serve the app to web browsers (needs groupchat[web])")
    web.add_argument(
        "--web",
        action="store_true",
        help="serve this client over HTTP through textual-serve, one client process per browser tab, "
        "locked to --host/--port: visitors give only a name",
    )
    web.add_argument(
        "--web-host", type=_host, default="127.0.0.1", metavar="ADDRESS", help="listen here (default: %(default)s)"
    )
    web.add_argument(
        "--web-port",
        type=_whole(1, MAX_PORT),
        default=DEFAULT_WEB_PORT,
        metavar="PORT",
        help="HTTP port (default: %(default)s)",
    )
    web.add_argument(
        "--web-url",
        type=_url,
        metavar="URL",
        help="the address browsers use, when a reverse proxy is in front, e.g. https://chat.example.org "
        "(default: http://WEB_HOST:WEB_PORT)",
    )
    web.add_argument(
        "--web-sessions",
        type=_whole(1, MAX_WEB_SESSIONS),
        default=DEFAULT_WEB_SESSIONS,
        metavar="N",
        help="browser tabs served at once; more are turned away (default: %(default)s)",
    )
    web.add_argument(
        "--locked",
        action="store_true",
        help="connect only to --host/--port: the connect screen asks for a name alone (what --web runs)",
    )
    parser.add_argument("--version", action="version", version=f"chat-tui {__version__}")
    return parser


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// address, not {text!r}")
    return text.rstrip("/")


def parse_args(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` with ``GROUPCHAT_*`` defaults from ``environ`` (default: ``os.environ``).

    Exits with status 2 (usage) on a bad flag, a bad variable, or flags that do not go together.
    """
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    if args.web and isinstance(args.name, str) and args.name:
        parser.error("--web: each visitor gives their own name on the connect screen; drop --name")
    for dest, check in CHECKS.items():
        value = getattr(args, dest)
        if isinstance(value, FromEnvironment):
            try:
                setattr(args, dest, check(value.text))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"{value.variable}: {exc}")
    if args.web and args.plain:
        parser.error("--web serves the full-screen app; it cannot be used with --plain")
    if args.web and args.locked:
        parser.error("--web already locks each visitor's client to --host/--port; drop --locked")
    return args


def default_log_file() -> Path:
    """``chat-tui.log`` in the per-user log directory (``~/.local/state/groupchat/log`` on Linux)."""
    import platformdirs  # noqa: PLC0415 - see the module docstring

    return Path(platformdirs.user_log_dir("groupchat")) / "chat-tui.log"


def ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The one TLS context for ``--tls``/``--ca`` (None: plain TCP).

    Raises:
        OSError, ssl.SSLError: the ``--ca`` file cannot be read or holds no certificate.
    """
    if not (args.tls or args.ca):
        return None
    import ssl  # noqa: PLC0415 - see the module docstring

    return ssl.create_default_context(cafile=args.ca)


def main(argv: list[str] | None = None) -> int:
    """Run the client; returns the process exit code."""
    parser = build_parser()  # for its exit(); parse_args builds its own
    args = parse_args(argv)
    import ssl  # noqa: PLC0415 - see the module docstring

    from chat_tui import logfile  # noqa: PLC0415

    try:
        context = ssl_context(args)
    except (OSError, ssl.SSLError) as exc:
        parser.exit(2, f"chat-tui: error: --ca {args.ca}: {exc}\n")
    with ExitStack() as stack:
        try:
            stack.enter_context(logfile.logging_to(args.log_file))
        except OSError as exc:
            parser.exit(2, f"chat-tui: error: --log-file {args.log_file}: {exc}\n")
        return _run(args, context)


def _run(args: argparse.Namespace, context: ssl.SSLContext | None) -> int:
    if args.web:
        from chat_tui import web  # noqa: PLC0415 - needs the optional textual-serve

        return web.serve(args)
    if args.plain:
        # Imported lazily: the plain client must not pay for (or depend on) Textual.
        from chat_tui import plain  # noqa: PLC0415

        return plain.run(
            args.host, args.port, sys.stdin, sys.stdout, ssl_context=context, reconnect_timeout=args.reconnect_timeout
        )
    from chat_tui.app import ChatApp  # noqa: PLC0415
    from chat_tui.settings import settings_path  # noqa: PLC0415

    app_class: type[ChatApp] = ChatApp
    if args.locked:
        from chat_tui.web import LockedChatApp  # noqa: PLC0415

        app_class = LockedChatApp
    app = app_class(
        host=args.host,
        port=args.port,
        name=args.name,
        ssl_context=context,
        reconnect_timeout=args.reconnect_timeout,
        scrollback=args.scrollback,
        # A browser visitor's tab (--locked) must not write the serving machine's settings file.
        settings_path=None if args.locked else settings_path(),
    )
    app.run()
    return app.return_code or 0
