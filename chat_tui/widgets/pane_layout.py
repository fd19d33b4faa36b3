"""The message pane's rows: how many each entry takes at one width, and which entry a row shows.

Pure bookkeeping, no Textual, unit-testable. :class:`RowLayout` keeps, per index of the
:class:`~chat_tui.session.entries.EntryList` the pane shows, the entry's size and its rows at the
current width, estimated until the pane renders the entry and records the exact count (as toolong's
LogLines does). Row sums per block of entries map a screen row to its entry with one ``bisect`` and a
short walk, and a change touches only the blocks from where it happened.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate

BLOCK = 128
"""Entries per block of row sums: locating a row costs a bisect over the blocks plus a walk inside one
block, and a change dirties only the block sums from its block on (100k entries are 782 blocks)."""
_PLACEHOLDER = b"\x02"
"""In ``RowLayout.exact``: an entry added by a splice whose size has not been read yet."""
_CLEAN = 1 << 62
"""``RowLayout._stale_block`` when every block's row sum is current."""
_ODD = 255
"""In ``RowLayout.short``: an entry of several lines or of 255 cells or more, estimated one at a time."""


class RowLayout:
    """How many rows each entry of a list takes at one width, and which entry a row belongs to.

    Pure bookkeeping (no Textual), kept per index in step with the list the pane shows. An entry's rows
    are *estimated* from its size until the pane renders it and :meth:`measure` records the exact count,
    as toolong's LogLines does. One line that fits needs no wrapping: its estimate is exact (its cells
    must then be its true cell length, not an underestimate). Appending costs O(added), wrapping is done
    only for what comes on screen, and a width change re-estimates 100k entries in a few milliseconds:
    most chat lines are one line under 255 cells, kept in one byte each (``short``), so their rows and
    whether they fit come from two ``bytes.translate`` calls; only the others take a Python step each.

    ``avail`` is the cells a body wraps in (the pane's width less the time column); 0: not laid out.
    """

    def __init__(self) -> None:
        self.avail = 0
        self.cells = array("I")  # per entry: its body's length in cells (see entry_rows.entry_size)
        self.lines = array("I")  # per entry: its body's hard lines (newlines + 1)
        self.short = bytearray()  # per entry: its cells when one line under 255 cells, else _ODD
        self.heights: list[int] = []  # per entry: rows at ``avail``, exact or estimated
        self.exact = bytearray()  # per entry: 1 when ``heights`` was measured at ``avail``, 0 estimated
        self._blocks: list[int] = []  # rows of each block of BLOCK entries
        self._block_starts: list[int] = []  # the first row of each block, valid below ``_dirty``
        self._dirty = 0  # the first block whose start is stale
        self._fill_from = 0  # no placeholder lies before this index
        self._stale_block = _CLEAN  # the first block whose row sum is stale
        self._rows_table = self._fits_table = bytes(256)  # by short: rows at avail; 1 if it fits
        self.total = 0

    def __len__(self) -> int:
        return len(self.heights)

    # -- changes -----------------------------------------------------------------------------------
    def splice(self, start: int, removed: int, added: int) -> None:
        """Replay one splice's shape: ``removed`` entries at ``start`` became ``added`` placeholders.

        A change's splices are replayed in order, then :meth:`fill` reads the added entries as the list
        has them after the change (an entry added by one splice may be gone again by a later one).
        """
        stop = start + removed
        zeros = array("I", bytes(4 * added))
        self.cells[start:stop] = zeros
        self.lines[start:stop] = zeros
        self.short[start:stop] = bytes(added)
        self.heights[start:stop] = [0] * added
        self.exact[start:stop] = _PLACEHOLDER * added
        self._fill_from = min(self._fill_from, start)
        self._stale_block = min(self._stale_block, start // BLOCK)

    def unmeasure(self, index: int) -> None:
        """Entry ``index`` may render to other rows now (its day rule came or went): measure it again
        when it is next rendered. Its height stays as an estimate until then."""
        if 0 <= index < len(self.exact) and self.exact[index] == 1:
            self.exact[index] = 0

    def fill(self, size_of: Callable[[int], tuple[int, int]]) -> None:
        """Estimate the placeholders' rows from ``size_of(index)`` (cells, lines), then the row sums."""
        exact, start = self.exact, self._fill_from
        while (start := exact.find(_PLACEHOLDER, start)) >= 0:
            stop = _run_end(exact, start)
            sizes = [size_of(index) for index in range(start, stop)]
            self.cells[start:stop] = array("I", [cells for cells, _ in sizes])
            self.lines[start:stop] = array("I", [lines for _, lines in sizes])
            self.short[start:stop] = bytes([cells if lines == 1 and cells < _ODD else _ODD for cells, lines in sizes])
            self.heights[start:stop], exact[start:stop] = self._estimate(start, stop)
            start = stop
        self._fill_from = len(exact)
        if self._stale_block != _CLEAN:
            self._rebuild_blocks(self._stale_block)
            self._stale_block = _CLEAN

    def measure(self, index: int, rows: int) -> int:
        """Record that entry ``index`` takes exactly ``rows`` rows; returns the change in rows."""
        delta = rows - self.heights[index]
        self.heights[index] = rows
        self.exact[index] = 1
        if delta:
            block = index // BLOCK
            self._blocks[block] += delta
            self.total += delta
            self._dirty = min(self._dirty, block + 1)
        return delta

    def relayout(self, avail: int) -> None:
        """Every entry's rows at a new ``avail``: estimates for all (exact ones are measured again on view)."""
        self.avail = avail
        self._rows_table = bytes(1 + max(0, cells - 1) // avail for cells in range(256))
        self._fits_table = bytes(1 if cells <= avail and cells != _ODD else 0 for cells in range(256))
        self.heights, self.exact = self._estimate(0, len(self.heights))
        self._rebuild_blocks(0)

    def _estimate(self, start: int, stop: int) -> tuple[list[int], bytearray]:
        """The estimated rows of entries ``start:stop`` and which estimates are exact (see the class)."""
        if not self.avail:
            return list(self.lines[start:stop]), bytearray(stop - start)
        short = self.short[start:stop]
        heights = list(short.translate(self._rows_table))
        exact = bytearray(short.translate(self._fits_table))
        avail, cells, lines = self.avail, self.cells, self.lines
        odd = short.find(_ODD)
        while odd >= 0:
            count, index = lines[start + odd], start + odd
            heights[odd] = count + max(0, cells[index] - count) // avail
            odd = short.find(_ODD, odd + 1)
        return heights, exact

    def _rebuild_blocks(self, first: int) -> None:
        del self._blocks[first:]
        self._add_blocks(first)

    def _add_blocks(self, first: int) -> None:
        heights = self.heights
        self._blocks.extend(sum(heights[b : b + BLOCK]) for b in range(first * BLOCK, len(heights), BLOCK))
        self.total = sum(self._blocks)
        self._dirty = min(self._dirty, first)

    # -- rows ----------------------------------------------------------------------------------------
    def _starts(self) -> list[int]:
        """The first row of each block (brought up to date from the first stale block)."""
        starts, blocks, dirty = self._block_starts, self._blocks, self._dirty
        if dirty < len(blocks) or len(starts) != len(blocks):
            first = min(dirty, len(starts), len(blocks))
            origin = starts[first - 1] + blocks[first - 1] if first else 0
            del starts[first:]
            starts.extend(accumulate(blocks[first:-1], initial=origin) if first < len(blocks) else ())
            self._dirty = len(blocks)
        return starts

    def row_of(self, index: int) -> int:
        """The first row of entry ``index`` (``len(self)``: the row below the last entry)."""
        if index >= len(self.heights):
            return self.total
        block = index // BLOCK
        return self._starts()[block] + sum(self.heights[block * BLOCK : index])

    def locate(self, row: int) -> tuple[int, int] | None:
        """The entry ``row`` belongs to and the row's offset inside it; None below the last entry."""
        if not 0 <= row < self.total:
            return None
        starts = self._starts()
        block = bisect_right(starts, row) - 1
        index, top = block * BLOCK, starts[block]
        heights = self.heights
        while top + heights[index] <= row:
            top += heights[index]
            index += 1
        return index, row - top


def anchor_after(anchor: tuple[int, int], start: int, removed: int, added: int) -> tuple[int, int]:
    """Where an anchor (entry index, row offset in it) is after a splice: shifted if the splice lies
    above it; if the splice took the anchor's entry away, the first entry that replaced it (or the one
    below) at its first row, or the row above it for a negative offset (the header)."""
    index, offset = anchor
    if start + removed <= index:
        return index + added - removed, offset
    if start <= index:
        return start, min(offset, 0)
    return anchor


def _run_end(flags: bytearray, start: int) -> int:
    """The end of the run of placeholders starting at ``start`` (two memchr scans, not a Python loop)."""
    ends = [end for end in (flags.find(0, start), flags.find(1, start)) if end >= 0]
    return min(ends) if ends else len(flags)
