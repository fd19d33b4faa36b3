"""``chat-server``: parse flags, set up logging and signals, run the loop."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType

from chat_server import __version__
from chat_server.config import ServerConfig
from chat_server.listener import format_address
from chat_server.loop import ChatServer
from chat_server.setting_kinds import Kind
from chat_server.store import StoreError

log = logging.getLogger("chat_server")
_FLAG_NAMES = {"store_url": "store"}  # field -> flag, where the field name would read oddly


def _flag(field: dataclasses.Field[object]) -> str:
    return "--" + _FLAG_NAMES.get(field.name, field.name).replace("_", "-")


def _argparse_type(kind: Kind) -> Callable[[str], object]:
    """The kind's parser, with its ValueError turned into argparse's usage error (exit status 2)."""

    def parse(text: str) -> object:
        try:
            return kind.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _help(field: dataclasses.Field[object], kind: Kind) -> str:
    # A None default has no value to show: its help text says what leaving the flag out does.
    shown = "" if field.default is None else f" (default: {kind.show(field.default)})"
    return f"{field.metadata['help']}{shown}".replace("%", "%%")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-server",
        usage="chat-server [options]",  # the full list is --help's job; a usage error stays readable
        description="Run a groupchat server (headless; one log line per event on stderr).",
    )
    for field in dataclasses.fields(ServerConfig):
        if "help" not in field.metadata:
            continue
        kind: Kind = field.metadata["kind"]
        parser.add_argument(
            _flag(field),
            dest=field.name,
            type=_argparse_type(kind),
            default=field.default,
            help=_help(field, kind),
            metavar=kind.metavar,
        )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info)",
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
    except ValueError as exc:
        parser.error(str(exc))  # flags that cannot go together are a usage error, like a bad value
    try:
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
        log.error("cannot listen on %s: %s", format_address(config.host, config.port), exc.strerror)
        return 1
    server.serve_forever()
    return 0
