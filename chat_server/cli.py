"""``chat-server``: parse flags, set up logging and signals, run the loop."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from types import FrameType

from chat_server import __version__
from chat_server.config import ServerConfig
from chat_server.loop import ChatServer
from chat_server.store import StoreError

log = logging.getLogger("chat_server")
_FLAG_NAMES = {"store_url": "store"}  # field -> flag, where the field name would read oddly
_METAVARS = {"store_url": "URL", "tls_cert": "PEM", "tls_key": "PEM", "host": "HOST"}


def _flag(field: dataclasses.Field[object]) -> str:
    return "--" + _FLAG_NAMES.get(field.name, field.name).replace("_", "-")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-server",
        description="Run a groupchat server (headless; one log line per connection event on stderr).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(ServerConfig):
        if "help" not in field.metadata:
            continue
        kind = type(field.default) if field.default is not None else str
        choices = ["normal", "full"] if field.name == "sync" else None
        parser.add_argument(
            _flag(field),
            dest=field.name,
            type=kind,
            default=field.default,
            choices=choices,
            help=field.metadata["help"],
            metavar=None if choices else field.name.split("_")[-1].upper(),
        )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"], help="log verbosity"
    )
    parser.add_argument("--version", action="version", version=f"chat-server {__version__}")
    return parser


def config_from(args: argparse.Namespace) -> ServerConfig:
    """The ServerConfig the parsed flags describe."""
    names = {f.name for f in dataclasses.fields(ServerConfig) if "help" in f.metadata}
    config = ServerConfig(**{name: getattr(args, name) for name in names})
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    return config


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``chat-server`` and ``python -m chat_server``."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = config_from(args)
        server = ChatServer(config)
    except (StoreError, ValueError, OSError) as exc:
        log.error("cannot start: %s", exc)
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
        log.error("cannot listen on %s:%d: %s", config.host, config.port, exc.strerror)
        return 1
    server.serve_forever()
    return 0
