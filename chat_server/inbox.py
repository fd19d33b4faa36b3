"""Inbox: one connection's decoded requests, waiting their turn, and the budget that paces them.

A read can decode hundreds of pipelined requests at once. Handling them all in that turn let one
connection take the loop from everyone (a pipelined ``fetch_history`` flood took a healthy client's
p99 from 3 ms to 2 s). Instead the loop keeps them here, in the order sent, and hands them to the core
one at a time while the connection's budget allows: a token bucket in which a history page costs the
rows it asks for and any other request costs 1. The loop stops reading a connection while its inbox
is over ``inbox_limit``, so what waits here is bounded too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from chat_server.config import ServerConfig
from chat_server.ratelimit import TokenBucket
from shared import Event, FetchHistory, ProtocolError, SearchHistory, limits

# What a connection sent, in order: its requests, and the protocol violation that ended its input (if
# any), which is answered only after the requests sent before it.
Item = Event | ProtocolError


def cost(item: Item) -> int:
    """What handling ``item`` spends from the budget: the rows of a history page, a full page for a
    search (it scans far more rows than it returns; its own rate bounds it further), 1 for anything else."""
    if isinstance(item, FetchHistory):
        return max(1, item.limit)
    return limits.MAX_HISTORY_PAGE if isinstance(item, SearchHistory) else 1


class Inbox:
    """The waiting items of one connection and its request budget. ``now`` is monotonic seconds."""

    __slots__ = ("_budget", "_items")

    def __init__(self, config: ServerConfig) -> None:
        # Made on first use: an empty deque is 760 bytes, and most idle connections never queue anything.
        self._items: deque[Item] | None = None
        # The burst is at least one full page (a config check), so tokens never need to go below zero.
        self._budget = TokenBucket(config.request_rate, config.request_burst)

    def __len__(self) -> int:
        return len(self._items) if self._items else 0

    def put(self, items: Iterable[Item]) -> None:
        if self._items is None:
            self._items = deque(items)
        else:
            self._items.extend(items)

    def clear(self) -> None:
        """Forget everything waiting: the connection is closing, nothing more of it is handled."""
        self._items = None

    def take(self, now: float) -> Item | None:
        """The next item, if the budget affords it now (spending its cost); None otherwise."""
        items = self._items
        if not items:
            return None
        need = cost(items[0])
        self._budget.next_token_at(now)  # refills the bucket up to now
        if self._budget.tokens < need:
            return None
        self._budget.tokens -= need
        item = items.popleft()
        if not items:
            self._items = None  # drained: give its memory back
        return item

    def ready_at(self, now: float) -> float:
        """When the budget affords the next item (``now`` if it does already, or if there is none)."""
        items = self._items
        if not items:
            return now
        self._budget.next_token_at(now)  # refills the bucket up to now
        shortfall = cost(items[0]) - self._budget.tokens
        return now if shortfall <= 0 else now + shortfall / self._budget.rate
