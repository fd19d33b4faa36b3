"""``chat-server``: parse flags, set up logging and signals, run the loop."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from chat_server import __version__
from chat_server.config import ServerConfig
from chat_server.loop import ChatServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-server", description="Run a groupchat server (headless; logs go to stderr)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=7030,
        help="TCP port; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default %(default)s)",
    )
    parser.add_argument("--version", action="version", version=f"chat-server {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``chat-server`` and ``python -m chat_server``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(message)s",
    )
    server = ChatServer(ServerConfig(host=args.host, port=args.port))
    try:
        server.bind()
    except OSError as exc:
        logging.getLogger("chat_server").error("cannot listen on %s:%d: %s", args.host, args.port, exc.strerror)
        return 1

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("chat_server").info("received %s", signal.Signals(signum).name)
        server.request_stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    return 0
