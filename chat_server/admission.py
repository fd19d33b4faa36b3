"""Who may connect: caps on connections in total and per host, and on connection attempts per host."""

from __future__ import annotations

import math
from collections import Counter

from chat_server.config import ServerConfig
from chat_server.ratelimit import WindowCounter
from shared import Error


class Admission:
    """Counts open connections per host; refuses with an Error frame to send before closing."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.open_by_host: Counter[str] = Counter()
        self._attempts = WindowCounter(config.connect_attempts, config.connect_window)

    @property
    def open(self) -> int:
        return self.open_by_host.total()

    def admit(self, host: str, now: float) -> Error | None:
        """Count a new connection from ``host``, or say why it is refused.

        Every attempt counts towards the attempt window, refused ones too: hammering is what it limits.
        """
        wait = self._attempts.blocked_for(host, now)
        self._attempts.record(host, now)
        if self.open >= self.config.max_connections:
            return Error(None, "server_full", "the server is full; try again later")
        if self.open_by_host[host] >= self.config.max_connections_per_address:
            limit = self.config.max_connections_per_address
            return Error(None, "too_many_connections", f"your address already has {limit} connections open")
        if wait:
            message = f"too many connection attempts from your address; try again in {math.ceil(wait)} s"
            return Error(None, "too_many_connections", message)
        self.open_by_host[host] += 1
        return None

    def release(self, host: str) -> None:
        """A connection from ``host`` closed."""
        self.open_by_host[host] -= 1
        if self.open_by_host[host] <= 0:
            del self.open_by_host[host]
