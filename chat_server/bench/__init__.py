"""``chat-bench``: a load generator that drives a real ``chat-server`` over loopback and prints JSON."""

from __future__ import annotations

from chat_server.bench.cli import main

__all__ = ["main"]
