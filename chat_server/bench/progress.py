"""A one-line progress bar on stderr, for runs long enough to wonder about (and only on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

SHOW_AFTER = 2.0  # seconds: short runs print nothing
WIDTH = 30


class ProgressBar:
    """Redrawn in place; ``done()`` clears it so stdout's JSON stays the only output left."""

    def __init__(self, total: int, stream: TextIO | None = None, show_after: float = SHOW_AFTER) -> None:
        self.total, self.stream, self.show_after = max(total, 1), stream or sys.stderr, show_after
        self.started = time.monotonic()
        self.shown = False
        self.enabled = self.stream.isatty()

    def update(self, done: int) -> None:
        """Show ``done`` of ``total`` deliveries."""
        elapsed = time.monotonic() - self.started
        if not self.enabled or elapsed < self.show_after:
            return
        share = min(done / self.total, 1.0)
        bar = "#" * round(share * WIDTH)
        rate = done / elapsed
        self.stream.write(f"\r[{bar:<{WIDTH}}] {share:4.0%} {done:,} deliveries  {rate:,.0f}/s  {elapsed:.0f} s ")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        """Erase the bar."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
