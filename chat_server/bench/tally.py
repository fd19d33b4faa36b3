"""What one process saw: counts, a bounded latency histogram, and losses and duplicates per sender."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

# Latencies go into buckets 2 % wide (a log scale): memory stays bounded (about 1,000 buckets up to
# an hour) however many deliveries a run makes, and a quantile is off by at most 2 %.
_BASE = math.log(1.02)


def _bucket(ns: int) -> int:
    return int(math.log(max(ns, 1000) / 1000) / _BASE)


def _bucket_top_ms(bucket: int) -> float:
    return 1.02 ** (bucket + 1) / 1000


@dataclass(slots=True)
class Histogram:
    """Latencies in 2 % buckets, plus the exact largest."""

    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    max_ns: int = 0

    def add(self, ns: int) -> None:
        """Count one latency of ``ns`` nanoseconds."""
        self.buckets[_bucket(ns)] += 1
        self.count += 1
        self.max_ns = max(self.max_ns, ns)

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to these."""
        self.buckets.update(other.buckets)
        self.count += other.count
        self.max_ns = max(self.max_ns, other.max_ns)

    def quantile_ms(self, q: float) -> float:
        """The latency under which a fraction ``q`` of the counted ones fall (the bucket's top), in ms."""
        if not self.count:
            return 0.0
        rank, seen = q * self.count, 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return round(min(_bucket_top_ms(bucket), self.max_ns / 1e6), 3)
        return round(self.max_ns / 1e6, 3)


@dataclass(slots=True)
class Receipts:
    """One recipient's check of what arrived: each sender's messages must come once each, in order.

    Every server here keeps one sender's messages in order, so a number below the next expected one
    is a duplicate and one above it skips the ones between (counted lost at once); O(senders) memory.
    """

    next_number: dict[int, int] = field(default_factory=dict)
    unique: int = 0
    duplicated: int = 0
    skipped: int = 0

    def record(self, sender: int, number: int) -> bool:
        """Note message ``number`` from ``sender``; False for a duplicate."""
        expected = self.next_number.get(sender, 0)
        if number < expected:
            self.duplicated += 1
            return False
        self.skipped += number - expected
        self.next_number[sender] = number + 1
        self.unique += 1
        return True


@dataclass(slots=True)
class Tally:
    """The figures of one generator process, merged across processes at the end."""

    delivered: int = 0
    expected: int = 0
    unique: int = 0
    duplicated: int = 0
    acked: int = 0
    refused: int = 0
    closed: int = 0
    first_send_ns: int = 0
    last_event_ns: int = 0
    cpu_seconds: float = 0.0
    delivery: Histogram = field(default_factory=Histogram)
    cross: Histogram = field(default_factory=Histogram)  # deliveries that crossed from one server process to another
    ack: Histogram = field(default_factory=Histogram)
    refusals: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        """Add another process's figures to these."""
        for name in ("delivered", "expected", "unique", "duplicated", "acked", "refused", "closed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        starts = [t for t in (self.first_send_ns, other.first_send_ns) if t]
        self.first_send_ns = min(starts) if starts else 0
        self.last_event_ns = max(self.last_event_ns, other.last_event_ns)
        self.cpu_seconds += other.cpu_seconds
        self.delivery.merge(other.delivery)
        self.cross.merge(other.cross)
        self.ack.merge(other.ack)
        self.refusals.update(other.refusals)

    @property
    def lost(self) -> int:
        """Deliveries expected that never came."""
        return max(0, self.expected - self.unique)


def quantile_ms(sorted_seconds: list[float], percent: int) -> float:
    """The ``percent``-th percentile of a few sorted latencies in seconds, in ms. Inclusive: never above
    the largest one (the default "exclusive" method extrapolates past it for small samples)."""
    if len(sorted_seconds) < 2:
        return round(sorted_seconds[0] * 1000, 2) if sorted_seconds else 0.0
    return round(statistics.quantiles(sorted_seconds, n=100, method="inclusive")[percent - 1] * 1000, 2)
