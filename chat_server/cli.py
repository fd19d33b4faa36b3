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
from chat_server.store import StoreError

log = logging.getLogger("chat_server")


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
    parser.add_argument(
        "--store",
        metavar="URL",
        help="memory: or sqlite:///PATH (default: groupchat.db under the user's data directory)",
    )
    parser.add_argument(
        "--sync",
        choices=["normal", "full"],
        default="normal",
        help="SQLite durability: normal survives a server crash, full also a power loss (default %(default)s)",
    )
    parser.add_argument(
        "--history-on-join",
        type=int,
        default=50,
        metavar="N",
        help="messages replayed to a member who joins (default %(default)s)",
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
    config = ServerConfig(
        host=args.host, port=args.port, store_url=args.store, sync=args.sync, history_on_join=args.history_on_join
    )
    try:
        server = ChatServer(config)
    except (StoreError, ValueError) as exc:
        log.error("cannot open the store: %s", exc)
        return 1

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        server.request_stop()

    # Handlers go in before bind() logs "listening", so a signal sent on seeing that line is handled.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.bind()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc.strerror)
        return 1
    server.serve_forever()
    return 0
