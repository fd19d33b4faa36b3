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
        if now == self.updated:  # a batch of requests is handled at one ``now``: nothing to add
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


class KeyedBuckets:
    """One :class:`TokenBucket` per key (an address), with a bounded number of keys (least recent forgotten).

    A forgotten key starts again with a full bucket; a flood of distinct keys is limited by the global
    caps instead, as with :class:`WindowCounter`.
    """

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def _bucket(self, key: Hashable) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    def take(self, key: Hashable, now: float) -> float:
        """Spend a token of ``key``'s bucket: 0 if there was one, else the seconds until there is one."""
        bucket = self._bucket(key)
        if bucket.take(now):
            return 0.0
        return bucket.next_token_at(now) - now

    def give_back(self, key: Hashable) -> None:
        """Return a token taken for an action that did not happen after all."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + 1)


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class Backoff:
    """Failures per key, each failure past ``free`` making the next attempt wait longer (capped).

    After ``free`` failures, the next attempt must wait ``base`` seconds after the latest failure,
    then twice that, and so on up to ``cap``. A key's failures are forgotten once ``window`` seconds
    pass without a new one. Used for password guesses per (address, group): guessing is slowed to a
    published rate, and nobody is ever locked out for more than ``cap`` seconds.
    """

    def __init__(self, free: int, base: float, cap: float, window: float, max_keys: int = 100_000) -> None:
        self.free, self.base, self.cap, self.window, self.max_keys = free, base, cap, window, max_keys
        self._failures: OrderedDict[Hashable, _Failures] = OrderedDict()

    def _current(self, key: Hashable, now: float) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and now - failures.last >= self.window:
            del self._failures[key]
            return None
        return failures

    def delay(self, failures: int) -> float:
        """Seconds an attempt must wait after the latest of ``failures`` failures."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(failures - self.free, 64))

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds before ``key`` may attempt again (0: now)."""
        failures = self._current(key, now)
        if failures is None:
            return 0.0
        return max(0.0, failures.last + self.delay(failures.count) - now)

    def record(self, key: Hashable, now: float) -> None:
        """Count one failure (or one attempt whose outcome is not known yet) for ``key``."""
        failures = self._current(key, now)
        if failures is None:
            self._failures[key] = _Failures(1, now)
            if len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
            return
        failures.count += 1
        failures.last = now
        self._failures.move_to_end(key)

    def refund(self, key: Hashable) -> None:
        """Take back one counted attempt: it turned out to be a success."""
        failures = self._failures.get(key)
        if failures is not None:
            failures.count = max(0, failures.count - 1)

    def most_per_minute(self) -> int:
        """The most attempts one key can make in any 60 s, each made as soon as it is allowed.

        The published bound (PROTOCOL.md): a fresh key is the worst case, as its free attempts come first.
        Assumes ``cap`` < ``window`` (checked by the config), so the failures are never forgotten meanwhile.
        """
        now, made = 0.0, 0
        while now < 60.0:
            made += 1
            now += self.delay(made)
        return made

    def __len__(self) -> int:
        return len(self._failures)
