"""Who may connect: caps on connections in total and per address, and on connection attempts per address.

Caps count per *address key* (:func:`address_key`), not per literal address: one IPv6 host is usually
handed a whole /64, so counting single IPv6 addresses would give it 2**64 separate allowances.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter

from chat_server.config import ServerConfig
from chat_server.ratelimit import WindowCounter
from shared import Error

# How long a client refused for having too many connections open should wait: nothing tells us when
# one of them will close, so this is a hint, long enough that a reconnect loop does not hammer.
_OPEN_CAP_RETRY_MS = 5000


def address_key(host: str) -> str:
    """The key limits count per: an IPv4 address as is, an IPv6 address as its /64 network
    (``2001:db8::/64``), an IPv4-mapped IPv6 address (a dual-stack listener's IPv4 client) as IPv4."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP address (a Unix socket in a test): count it as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))  # int(): drops a %scope suffix
    return str(ip)


class Admission:
    """Counts open connections per address key; refuses with an Error frame to send before closing."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.open_by_key: Counter[str] = Counter()
        self._attempts = WindowCounter(config.connect_attempts, config.connect_window)

    @property
    def open(self) -> int:
        return self.open_by_key.total()

    def admit(self, key: str, now: float) -> Error | None:
        """Count a new connection from address ``key``, or say why it is refused.

        Every attempt counts towards the attempt window, refused ones too: hammering is what it limits.
        """
        wait = self._attempts.blocked_for(key, now)
        self._attempts.record(key, now)
        if self.open >= self.config.max_connections:
            return Error(None, "server_full", "the server is full; try again later")
        if self.open_by_key[key] >= self.config.max_connections_per_address:
            limit = self.config.max_connections_per_address
            message = f"your address already has {limit} connections open"
            return Error(None, "too_many_connections", message, _OPEN_CAP_RETRY_MS)
        if wait:
            message = f"too many connection attempts from your address; try again in {math.ceil(wait)} s"
            return Error(None, "too_many_connections", message, math.ceil(wait * 1000))
        self.open_by_key[key] += 1
        return None

    def release(self, key: str) -> None:
        """A connection from address ``key`` closed."""
        self.open_by_key[key] -= 1
        if self.open_by_key[key] <= 0:
            del self.open_by_key[key]
