"""`chat-tui` / `python -m chat_tui`: flags, then the Textual app or the plain line client."""

from __future__ import annotations

import argparse
import ssl
import sys

from chat_tui.net import __version__


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="chat-tui", description="Password-protected group chat.")
    parser.add_argument("--host", default="127.0.0.1", help="server address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=7030, help="server port (default: %(default)s)")
    parser.add_argument("--name", default="", help="your display name in groups")
    parser.add_argument("--plain", action="store_true", help="line-mode client without the full-screen UI")
    parser.add_argument("--tls", action="store_true", help="use TLS, verifying the server against the system CAs")
    parser.add_argument(
        "--ca", metavar="PATH", help="trust this PEM CA or self-signed certificate for the server (implies --tls)"
    )
    parser.add_argument(
        "--reconnect-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up reconnecting after this long (default: retry forever; 60 s with --plain)",
    )
    parser.add_argument(
        "--scrollback",
        type=_positive,
        default=5000,
        metavar="N",
        help="messages each chat keeps in memory; older ones are fetched again on scroll (default: %(default)s)",
    )
    parser.add_argument("--version", action="version", version=f"chat-tui {__version__}")
    return parser


def ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The one TLS context for ``--tls``/``--ca`` (None: plain TCP).

    Raises:
        OSError, ssl.SSLError: the ``--ca`` file cannot be read or holds no certificate.
    """
    if not (args.tls or args.ca):
        return None
    return ssl.create_default_context(cafile=args.ca)


def main(argv: list[str] | None = None) -> int:
    """Run the client; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        context = ssl_context(args)
    except (OSError, ssl.SSLError) as exc:
        parser.exit(2, f"chat-tui: error: --ca {args.ca}: {exc}\n")
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
