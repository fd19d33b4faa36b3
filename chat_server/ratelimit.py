"""Rate limits as pure data structures: every method takes ``now`` (monotonic seconds), nothing sleeps."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; one token per action."""

    rate: float
    burst: float
    tokens: float = -1.0  # -1: full on first use
    updated: float = 0.0

    def _refill(self, now: float) -> None:
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
            return
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self, now: float) -> bool:
        """Spend a token if there is one."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def next_token_at(self, now: float) -> float:
        """When the next whole token will be there (``now`` if one is there already)."""
        self._refill(now)
        return now if self.tokens >= 1 else now + (1 - self.tokens) / self.rate


class WindowCounter:
    """Events per key in a sliding window, with a bounded number of keys (oldest forgotten first).

    Used for connection attempts per address, wrong passwords per (address, group) and per address,
    and groups created per address. Forgetting the oldest key when full bounds memory under a flood of
    distinct addresses; such a flood is then limited by the global caps instead.
    """

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            if len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def blocked_for(self, key: Hashable, now: float) -> float:
        """Seconds until ``key`` may act again (0 when it may act now)."""
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now

    def record(self, key: Hashable, now: float) -> None:
        """Count one event for ``key``."""
        events = self._recent(key, now)
        events.append(now)
        if len(events) > self.limit:
            events.popleft()  # only the newest `limit` matter for blocked_for

    def forget(self, key: Hashable) -> None:
        self._events.pop(key, None)

    def __len__(self) -> int:
        return len(self._events)
