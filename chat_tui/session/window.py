"""Window: which of a group's stored messages are in memory, and where each one goes in display order.

The base of :class:`~chat_tui.session.timeline.GroupTimeline`, kept apart because it is the arithmetic
of the list (placing by ``seq``, gaps, trimming) rather than the meaning of the messages.

The entries, top to bottom: settled ones (stored messages in ``seq`` order, with the notices, rules
and gaps that came between them), then the *tail*: our own messages still waiting for the server.
At most ``cap`` messages are kept. A trim drops from the end farther from what the reader looks at
(``viewport``): the oldest messages (the header then offers to page them back in), or, while the
reader is up in old history, the newest, which become one ``gap`` entry that pages them back in
when it comes on screen. Trims drop a tenth of the cap beyond it, so they are rare, not an O(n)
shift per message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chat_tui.session.entries import Entry, EntryList

TRIM_EXTRA = 10
"""A trim drops ``cap // TRIM_EXTRA`` messages more than it must, so the next is that many messages away."""
HEADER_MORE = "↑ scroll up for older messages"


def gap_text(after_seq: int, before_seq: int) -> str:
    """The words of a gap entry for the seqs strictly between ``after_seq`` and ``before_seq``."""
    missing = before_seq - after_seq - 1
    return f"{missing} earlier message{'s' if missing != 1 else ''} not shown"


class Window:
    """The entries of one group with the bookkeeping that places and trims them.

    Args:
        entries: the list views render.
        cap: messages kept in memory (at least 1).
    """

    def __init__(self, entries: EntryList, cap: int) -> None:
        self.entries = entries
        self.cap = max(1, cap)
        self.seqs: set[int] = set()
        """The seqs of the messages in memory."""
        self.oldest_seq: int | None = None
        """The lowest seq in memory (None: none yet)."""
        self.newest_seq = 0
        """The highest seq delivered live, replayed or acknowledged (kept through trims)."""
        self.older = False
        """Older stored messages exist above the top of memory."""
        self.viewport: Callable[[], tuple[int, int] | None] | None = None
        """Set by a view: the entry indexes on screen (None: not shown), for choosing which end to trim."""
        self._tail = 0

    @property
    def settled_end(self) -> int:
        """The index after the last settled entry (where the pending tail starts)."""
        return len(self.entries) - self._tail

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """The gaps ``(after_seq, before_seq)`` in memory, top to bottom."""
        return [entry.gap for entry in self.entries if entry.gap is not None]

    def gap_entry(self, after_seq: int, before_seq: int) -> Entry:
        return Entry("gap", gap_text(after_seq, before_seq), gap=(after_seq, before_seq))

    def place(self, seq: int) -> int | None:
        """Where a message with ``seq`` goes, or None if it must not be added: it is in memory, inside a
        gap (paging fills that), or older than the top of memory (paging brings it)."""
        if seq in self.seqs or (self.oldest_seq is not None and seq < self.oldest_seq):
            return None
        entries = self.entries
        index = position = self.settled_end
        # From the end: a live message is newer than everything, so this usually stops at once. Notices
        # are passed over, so a message goes after what arrived before it unless a newer seq is there.
        while position > 0:
            entry = entries[position - 1]
            if entry.gap is not None:
                after, before = entry.gap
                if after < seq < before:
                    return None
                if seq >= before:
                    break
                index = position - 1
            elif entry.seq is not None:
                if entry.seq < seq:
                    break
                index = position - 1
            position -= 1
        return index

    def insert(self, index: int, added: Sequence[Entry], *, live: int = 0) -> None:
        """Add settled ``added`` at ``index`` and remember their seqs."""
        if not added:
            return
        self.entries.splice(index, 0, added, live=live)
        for entry in added:
            if entry.seq is not None:
                self.seqs.add(entry.seq)
                if self.oldest_seq is None or entry.seq < self.oldest_seq:
                    self.oldest_seq = entry.seq

    def trim(self, *, prefer_top: bool, around: int | None = None, extra: int = 0) -> None:
        """Keep at most ``cap`` messages (plus ``extra``: a page just asked for is kept whole, so memory
        holds at most the cap plus one page). Drop from the end away from the reader: from entry
        ``around`` when given (where a page was just added), else from the viewport, else the top if
        ``prefer_top``."""
        excess = len(self.seqs) - self.cap - extra
        if excess <= 0:
            return
        count = min(len(self.seqs) - 1, excess + self.cap // TRIM_EXTRA)
        top = prefer_top
        view = self.viewport() if self.viewport is not None and around is None else None
        if around is not None:
            top = 2 * around >= len(self.entries)
        elif view is not None:
            top = view[0] + view[1] >= len(self.entries)  # the reader is in the lower half
        with self.entries.batch():
            self._trim_top(count) if top else self._trim_bottom(count)

    def _trim_top(self, count: int) -> None:
        entries, end = self.entries, self.settled_end
        cut = removed = 0
        while cut < end and removed < count:
            seq = entries[cut].seq
            if seq is not None:
                self.seqs.discard(seq)
                removed += 1
            cut += 1
        entries.splice(0, cut, ())
        self.oldest_seq = next((entry.seq for entry in entries if entry.seq is not None), None)
        self.older = True
        entries.set_header(HEADER_MORE)

    def _trim_bottom(self, count: int) -> None:
        entries, end = self.entries, self.settled_end
        start, removed, newest = end, 0, 0
        while start > 0 and removed < count:
            entry = entries[start - 1]
            if entry.gap is not None:
                newest = max(newest, entry.gap[1] - 1)
            elif entry.seq is not None:
                self.seqs.discard(entry.seq)
                newest = max(newest, entry.seq)
                removed += 1
            start -= 1
        above = entries[start - 1] if start > 0 else None
        if above is not None and above.gap is not None:  # one gap, not two in a row
            start, after = start - 1, above.gap[0]
        else:
            after = next((entries[i].seq for i in range(start - 1, -1, -1) if entries[i].seq is not None), 0) or 0
        entries.splice(start, end - start, (self.gap_entry(after, newest + 1),))
