"""Mentions: does a message name you, and when may the terminal bell ring for it.

Word-bounded and case-insensitive, as irssi's ``hilight`` and weechat's ``highlight_words`` are: "alice"
is named in "Alice: lunch?" and "@ALICE", not in "malice". No Textual here; the bell's sound is a callable
the app gives (``App.bell``), so tests observe the seam instead of a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

BELL_INTERVAL = 5.0
"""Seconds between two rings at most: a busy group naming you ten times rings once (irssi's beep_flood)."""


@lru_cache(maxsize=64)
def _pattern(name: str) -> re.Pattern[str]:
    # A name may hold characters \b does not see as word characters ("dr.who", "anna-lena"), so the
    # boundary is explicit: no letter, digit or underscore on either side.
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])", re.IGNORECASE)


def names_you(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole word, ignoring case."""
    return bool(name) and _pattern(name).search(text) is not None


def mention_spans(text: str, name: str) -> list[tuple[int, int]]:
    """Where ``text`` names ``name`` (start, end), for highlighting."""
    if not name:
        return []
    return [match.span() for match in _pattern(name).finditer(text)]


class Bell:
    """Rings for mentions, at most once per ``interval`` seconds, and not at all when turned off."""

    def __init__(
        self, sound: Callable[[], None], clock: Callable[[], float], *, interval: float = BELL_INTERVAL
    ) -> None:
        self._sound = sound
        self._clock = clock
        self._interval = interval
        self._last: float | None = None
        self.enabled = True
        self.rung = 0
        """Rings so far: what tests (and a status line) read."""

    def ring(self) -> bool:
        """Ring unless turned off or rung less than ``interval`` ago; whether it rang."""
        now = self._clock()
        if not self.enabled or (self._last is not None and now - self._last < self._interval):
            return False
        self._last = now
        self.rung += 1
        self._sound()
        return True
