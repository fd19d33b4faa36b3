"""`chat-tui` / `python -m chat_tui`: flags, then the Textual app or the plain line client."""

from __future__ import annotations

import argparse
import sys

from chat_tui.net import __version__


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="chat-tui", description="Password-protected group chat.")
    parser.add_argument("--host", default="127.0.0.1", help="server address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=7030, help="server port (default: %(default)s)")
    parser.add_argument("--name", default="", help="your display name in groups")
    parser.add_argument("--plain", action="store_true", help="line-mode client without the full-screen UI")
    parser.add_argument("--version", action="version", version=f"chat-tui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the client; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.plain:
        # Imported lazily: the plain client must not pay for (or depend on) Textual.
        from chat_tui import plain  # noqa: PLC0415

        return plain.run(args.host, args.port, sys.stdin, sys.stdout)
    from chat_tui.app import ChatApp  # noqa: PLC0415

    app = ChatApp(host=args.host, port=args.port, name=args.name)
    app.run()
    return app.return_code or 0
