"""`chat-tui` / `python -m chat_tui`: flags, then the Textual app or the plain line client.

Everything past argparse is imported when it is used, so ``--help`` and ``--version`` load neither
Textual nor asyncio, ssl or the protocol package (a test checks this).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
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


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; every value is checked by its type, so a bad one is a usage error."""
    parser = argparse.ArgumentParser(prog="chat-tui", description="Password-protected group chat.")
    host_help = "server host name or IP address (default: %(default)s)"
    parser.add_argument("--host", type=_host, default="127.0.0.1", metavar="ADDRESS", help=host_help)
    parser.add_argument(
        "--port",
        type=_whole(1, MAX_PORT),
        default=7030,
        metavar="PORT",
        help=f"server TCP port, 1-{MAX_PORT} (default: %(default)s)",
    )
    parser.add_argument("--name", type=_name, default="", metavar="NAME", help="your display name in groups")
    parser.add_argument("--plain", action="store_true", help="line-mode client without the full-screen UI")
    parser.add_argument("--tls", action="store_true", help="use TLS, verifying the server against the system CAs")
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
    parser.add_argument("--version", action="version", version=f"chat-tui {__version__}")
    return parser


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
    parser = build_parser()
    args = parser.parse_args(argv)
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
    if args.plain:
        # Imported lazily: the plain client must not pay for (or depend on) Textual.
        from chat_tui import plain  # noqa: PLC0415

        return plain.run(
            args.host, args.port, sys.stdin, sys.stdout, ssl_context=context, reconnect_timeout=args.reconnect_timeout
        )
    from chat_tui.app import ChatApp  # noqa: PLC0415

    app = ChatApp(
        host=args.host,
        port=args.port,
        name=args.name,
        ssl_context=context,
        reconnect_timeout=args.reconnect_timeout,
        scrollback=args.scrollback,
    )
    app.run()
    return app.return_code or 0
