"""The message pane's records and their row offsets: pure bookkeeping, no Textual, unit-testable.

A :class:`PaneLayout` holds the settled records (messages in ``seq`` order, notices, rules), our own
messages still waiting for the server, and, at one width, the rows each record takes and the row each
starts on. A screen row maps to its record with ``bisect`` over those starts. Older history is
prepended: the new records get row offsets counting down from the first one (so starts may go below
0), and a page costs the measuring of its own records, not a re-layout of the pane.

Measuring a record (wrapping it for the width) is the widget's business: the layout is given a
``measure`` callable and calls it only for records it lays out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, count
from typing import Literal

EntryState = Literal["sent", "pending", "delayed", "failed"]
EntryKind = Literal["message", "notice", "error", "marker"]
SCROLLBACK = 5000
"""Settled records a pane keeps by default (irssi's ``scrollback_lines`` is 5000 too); ``--scrollback``."""
_TRIM_BATCH = 10
"""A trim drops a tenth of the cap beyond it, so trimming is rare, not an O(n) shift per message."""
_keys = count()


@dataclass(slots=True)
class Entry:
    """One record in the pane: a chat message (``sender`` set), a notice or a marker line.

    ``seq`` is the group's sequence number of a message the server stored; ``key`` identifies the record
    in the render cache (indexes shift when history is prepended or a pending message settles).
    """

    time: str
    sender: str
    text: str
    own: bool = False
    state: EntryState = "sent"
    kind: EntryKind = "message"
    seq: int | None = None
    key: int = field(default_factory=lambda: next(_keys))
    gap: tuple[int, int] | None = None
    """For a gap rule: the seqs ``after < seq < before`` it stands for (a fillable hole in the history)."""

    @property
    def error(self) -> bool:
        """An error notice (shown in the error colour)."""
        return self.kind == "error"


def gap_rule_text(after_seq: int, before_seq: int) -> str:
    """The words of a gap rule for the seqs strictly between ``after_seq`` and ``before_seq``."""
    return f"{before_seq - after_seq - 1} earlier messages not shown"


class PaneLayout:
    """Settled and pending records, the seqs shown, the header row, and the rows of each at ``width``.

    ``width`` 0 means "not laid out yet": records are kept but not measured until :meth:`relayout`.
    """

    def __init__(self, cap: int, measure: Callable[[Entry], int]) -> None:
        self.cap = max(1, cap)
        self.width = 0
        self.header: str | None = None
        self.entries: list[Entry] = []
        self.heights: list[int] = []  # rows of each settled entry at ``self.width``
        self.starts: list[int] = []  # first row of each settled entry; may start below 0 after a prepend
        self.pending: list[Entry] = []
        self.pending_heights: list[int] = []
        self.pending_ids: list[str] = []  # the caller's key of each pending entry (its client_msg_id)
        self.seqs: set[int] = set()
        self._measure = measure

    # --- rows -------------------------------------------------------------------------------------

    @property
    def header_rows(self) -> int:
        """Rows of the header: 1 while there is one."""
        return 0 if self.header is None else 1

    @property
    def settled_rows(self) -> int:
        """Rows of the settled records."""
        return self.starts[-1] + self.heights[-1] - self.starts[0] if self.heights else 0

    @property
    def total_rows(self) -> int:
        """Rows of everything: the header, the settled records and the pending ones."""
        return self.header_rows + self.settled_rows + sum(self.pending_heights)

    def relayout(self, width: int) -> None:
        """Measure every record again for ``width``."""
        self.width = width
        self.heights = [self._measure(entry) for entry in self.entries]
        self.starts = _starts(0, self.heights)
        self.pending_heights = [self._measure(entry) for entry in self.pending]

    def locate(self, row: int) -> tuple[Entry, int] | None:
        """The record at ``row`` (0 is the first settled row) and the row's offset inside it."""
        settled = self.settled_rows
        if row < settled:
            absolute = row + self.starts[0]
            index = bisect_right(self.starts, absolute) - 1
            return self.entries[index], absolute - self.starts[index]
        row -= settled
        for entry, height in zip(self.pending, self.pending_heights, strict=True):
            if row < height:
                return entry, row
            row -= height
        return None

    # --- settled records --------------------------------------------------------------------------

    def append(self, entry: Entry) -> None:
        """Add ``entry`` below the settled records."""
        self.entries.append(entry)
        if self.width:
            end = self.starts[-1] + self.heights[-1] if self.heights else 0
            self.starts.append(end)
            self.heights.append(self._measure(entry))

    def insert_top(self, new: list[Entry]) -> int:
        """Add ``new`` above the settled records (laid out, ``new`` not empty); returns the rows added."""
        self.entries[:0] = new
        heights = [self._measure(entry) for entry in new]
        top = self.starts[0] if self.starts else 0
        first = top - sum(heights)
        self.starts[:0] = _starts(first, heights)
        self.heights[:0] = heights
        return top - first

    def replace(self, start: int, stop: int, new: list[Entry]) -> tuple[int, int]:
        """Put ``new`` in place of records ``start:stop`` (laid out; O(n) for the row offsets below).

        Returns the first changed row counted from the top settled row, and the rows added (or removed).
        """
        self.entries[start:stop] = new
        old_rows = sum(self.heights[start:stop])
        heights = [self._measure(entry) for entry in new]
        first = self.starts[start] if start < len(self.starts) else self.starts[0] + self.settled_rows
        self.heights[start:stop] = heights
        self.starts[start:] = _starts(first, self.heights[start:])
        return first - self.starts[0], sum(heights) - old_rows

    def index_of(self, key: int) -> int:
        """The index of the settled record ``key`` (-1: none)."""
        return next((i for i, entry in enumerate(self.entries) if entry.key == key), -1)

    # --- trimming ---------------------------------------------------------------------------------

    def plan_trim(self, *, slack: int, top_first: bool, view: tuple[int, int] | None) -> tuple[bool, int] | None:
        """Which end to trim and how many records: beyond the cap (plus ``slack``: a page just added),
        from the ``top_first`` end unless the view is there (a live message drops the oldest, a history
        page the newest). ``view`` is (first row on screen, rows on screen), None while following the end.
        None: nothing to drop."""
        excess = len(self.entries) - self.cap - slack
        if excess <= 0:
            return None
        want = min(len(self.entries), excess + self.cap // _TRIM_BATCH)
        top, count = top_first, want  # the view is larger than the cap: drop regardless
        for side in (top_first, not top_first):
            room = self.outside_view(view, top=side)
            if room >= excess:
                top, count = side, min(want, room)
                break
        return top, count

    def outside_view(self, view: tuple[int, int] | None, *, top: bool) -> int:
        """How many settled records lie wholly above (``top``) or below the rows on screen (``view``)."""
        if not self.width or not self.starts or view is None:
            return len(self.entries) if top else 0  # not laid out, or following the end: the top is free
        view_top = view[0] - self.header_rows + self.starts[0]
        if top:
            return max(0, bisect_right(self.starts, view_top) - 1)
        return len(self.starts) - bisect_left(self.starts, view_top + view[1])

    def dropping(self, *, top: bool, count: int) -> list[Entry]:
        """The records a trim of ``count`` from the top (``top``) or the bottom drops; forgets their seqs."""
        dropped = self.entries[:count] if top else self.entries[-count:]
        for entry in dropped:
            if entry.seq is not None:
                self.seqs.discard(entry.seq)
        return dropped

    def drop_top(self, count: int) -> int:
        """Drop the top ``count`` settled records; returns the rows they took."""
        rows = sum(self.heights[:count])
        del self.entries[:count], self.heights[:count], self.starts[:count]
        return rows

    def drop_bottom(self, count: int) -> None:
        """Drop the bottom ``count`` settled records."""
        del self.entries[-count:], self.heights[-count:], self.starts[-count:]

    # --- pending records --------------------------------------------------------------------------

    def add_pending(self, key: str, entry: Entry) -> None:
        """Add our own ``entry``, waiting for the server as ``key``, below everything settled."""
        self.pending.append(entry)
        self.pending_ids.append(key)
        self.pending_heights.append(self._measure(entry))

    def find_pending(self, key: str) -> Entry | None:
        """The pending record ``key`` (None: not pending)."""
        if key not in self.pending_ids:
            return None
        return self.pending[self.pending_ids.index(key)]

    def take_pending(self, key: str) -> Entry | None:
        """Remove and return the pending record ``key`` (None: not pending)."""
        ids = self.pending_ids
        if key not in ids:
            return None
        index = ids.index(key)
        del ids[index], self.pending_heights[index]
        return self.pending.pop(index)


def _starts(first: int, heights: list[int]) -> list[int]:
    """The first row of each record, given the first record's row and every record's height."""
    return list(accumulate(heights, initial=first))[:-1]
