"""Pager: paging a group's stored history into memory, for the parts of its window a reader asks for.

The base of :class:`~chat_tui.session.timeline.GroupTimeline` (over :class:`Window`, which places and
trims): :meth:`Pager.load_older` when the reader reaches the top, :meth:`Pager.fill_gap` when a gap
entry comes on screen. Pages come through an injected ``fetch``; what is already in memory is dropped
here, so a page may overlap a replay or live messages freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chat_tui.session.entries import Entry, EntryKind, EntryList
from chat_tui.session.window import HEADER_MORE, Window
from shared import HistoryEntry, HistoryPage, limits

HEADER_LOADING = "loading older messages…"
HEADER_START = "beginning of history"


class HistoryUnavailable(Exception):
    """A history page could not be fetched; ``str()`` says why, for people."""


Fetch = Callable[[int, int], Awaitable[HistoryPage]]
"""``fetch(before_seq, limit)``: the newest ``limit`` stored messages with ``seq < before_seq``.
Raises :class:`HistoryUnavailable`."""


class Pager(Window):
    """A window that pages history in.

    Args:
        entries, cap: as :class:`Window`.
        fetch: how pages are fetched (None: no paging).
        you: our name (a paged message of ours is marked ``own``).
        joined_at: the group's ``last_seq`` at our join (where paging starts when nothing is in memory).
        time_format: how a message's time is shown.
    """

    def __init__(
        self,
        entries: EntryList,
        cap: int,
        *,
        fetch: Fetch | None,
        you: str,
        joined_at: int | None,
        time_format: Callable[[float], str],
    ) -> None:
        super().__init__(entries, cap)
        self._fetch = fetch
        self.you = you
        self.joined_at = joined_at
        self._format = time_format
        self._loading = False
        self._filling = False
        self._wanted: list[int] = []  # keys of gap entries a view asked to fill, oldest ask first
        self._oldest_first: set[int] = set()  # of those, the ones to fill from their top
        self.older = bool(joined_at)

    @property
    def loading(self) -> bool:
        """A page of older history is being fetched."""
        return self._loading

    @property
    def page_size(self) -> int:
        # At most the cap: a page is kept whole, so memory holds at most the cap plus one page.
        return max(1, min(limits.MAX_HISTORY_PAGE, self.cap))

    def load_older(self) -> Awaitable[None]:
        """Page in the messages just older than the oldest in memory (the view reached the top).

        The request counts as in flight from this call on (:attr:`loading`), before the returned
        awaitable runs, so asks that come meanwhile start nothing.
        """
        if not self.older or self._fetch is None or self._loading:
            return _nothing()
        self._loading = True
        self.entries.set_header(HEADER_LOADING)
        return self._load_older(self._fetch)

    async def _load_older(self, fetch: Fetch) -> None:
        before = self.oldest_seq if self.oldest_seq is not None else (self.joined_at or 0) + 1
        try:
            page = await fetch(before, self.page_size)
        except HistoryUnavailable as exc:
            self.entries.set_header(f"could not load older messages: {exc} (scroll up to retry)")
            return
        finally:
            self._loading = False
        oldest = self.oldest_seq
        fresh = [m for m in page.messages if m.seq not in self.seqs and (oldest is None or m.seq < oldest)]
        with self.entries.batch():
            self.insert(0, [self._history_entry(m, page.actions) for m in fresh])
            self.older = page.has_more and bool(page.messages) and page.messages[0].seq > 1
            self.entries.set_header(HEADER_MORE if self.older else HEADER_START)
            # The reader is at the top: the page is kept whole beside what is on screen.
            self.trim(prefer_top=False, around=0, extra=len(fresh))

    async def fill_gap(self, key: int, *, oldest_first: bool = False) -> None:
        """Page in the newest messages of the gap entry ``key`` (a view showed it), or its oldest ones if
        ``oldest_first`` (the reader came down to it from above, e.g. from a search hit); the gap
        shrinks to what is still missing (a new entry, which asks again when shown). One fill at a
        time: asks that come meanwhile are served in turn."""
        if oldest_first:
            self._oldest_first.add(key)
        if key not in self._wanted:
            self._wanted.append(key)
        if self._filling or self._fetch is None:
            return
        self._filling = True
        try:
            while self._wanted:
                await self._fill_one(self._wanted.pop(0))
        finally:
            self._filling = False

    async def _fill_one(self, key: int) -> None:
        index = self.entries.index_of(key)
        if index is None or self._fetch is None or (gap := self.entries[index].gap) is None:
            return  # trimmed away or filled meanwhile
        after, before = gap
        downward = key in self._oldest_first
        self._oldest_first.discard(key)
        bound = min(before, after + self.page_size + 1) if downward else before
        try:
            page = await self._fetch(bound, self.page_size)
        except HistoryUnavailable:
            return  # shown again, it asks again
        index = self.entries.index_of(key)  # the list moved on while we waited
        if index is None:
            return
        inside = [m for m in page.messages if after < m.seq < before and m.seq not in self.seqs]
        entries = [self._history_entry(m, page.actions) for m in inside]
        if downward:  # the page is all of after+1 .. bound-1: the gap now starts below it
            added = entries + ([self.gap_entry(bound - 1, before)] if bound < before else [])
        else:
            # Pages hold the newest messages below their bound and seqs have no holes, so the gap now
            # ends at the page's lowest seq; an empty or short page means nothing older is missing.
            top = page.messages[0].seq if page.messages and page.has_more else after + 1
            added = ([self.gap_entry(after, top)] if top > after + 1 else []) + entries
        with self.entries.batch():
            self.entries.splice(index, 1, ())
            self.insert(index, added)
            # Keep what was asked; filling downward, the end away from the reader goes (the view says).
            around = None if downward and self.viewport is not None else index + len(added) // 2
            self.trim(prefer_top=not downward, around=around, extra=len(inside))

    async def load_around(self, seq: int) -> int | None:
        """Page in the stored messages around ``seq`` (a search hit not in memory) and return the hit's
        entry index (None: it could not be fetched, or no longer exists).

        The hit is in memory already, inside a gap entry, or above the top of memory. One page is
        fetched through ``fetch``, ending about half a page below the hit and clamped to what memory
        holds; it takes the place of the gap (or goes on top), with gap entries for what is still
        missing on either side, so the messages between it and the live end page themselves in when
        shown (:meth:`fill_gap`). The page is kept whole; the trim drops the end away from it.
        """
        if (index := self._index_of_seq(seq)) is not None or self._fetch is None:
            return index
        entries, size = self.entries, self.page_size
        key = next((e.key for e in entries if e.gap is not None and e.gap[0] < seq < e.gap[1]), None)
        if key is None and self.oldest_seq is not None and seq >= self.oldest_seq:
            return None  # not above memory's top nor in a gap: not stored (yet)
        bound = self._around_bounds(key, seq)[1]
        try:
            page = await self._fetch(min(bound, seq + size // 2 + 1), size)
        except HistoryUnavailable:
            return None
        if (index := self._index_of_seq(seq)) is not None:
            return index  # paged in meanwhile
        at = entries.index_of(key) if key is not None else 0
        if at is None:
            return None  # the gap was filled or trimmed meanwhile: the reader may ask again
        after, before = self._around_bounds(key, seq)
        inside = [m for m in page.messages if after < m.seq < before and m.seq not in self.seqs]
        if seq not in {m.seq for m in inside}:
            return None
        added = [self._history_entry(m, page.actions) for m in inside]
        if key is not None and inside[0].seq > after + 1:
            added.insert(0, self.gap_entry(after, inside[0].seq))
        if inside[-1].seq < before - 1:
            added.append(self.gap_entry(inside[-1].seq, before))
        with entries.batch():
            if key is not None:
                entries.splice(at, 1, ())
            else:
                self.older = page.has_more and inside[0].seq > 1
                entries.set_header(HEADER_MORE if self.older else HEADER_START)
            self.insert(at, added)
            self.trim(prefer_top=False, around=at + len(added) // 2, extra=len(inside))
        return self._index_of_seq(seq)

    def _around_bounds(self, gap_key: int | None, seq: int) -> tuple[int, int]:
        """The seqs (exclusive) a page around ``seq`` may fill: the gap ``gap_key``'s, else above the top."""
        if gap_key is not None and (index := self.entries.index_of(gap_key)) is not None:
            gap = self.entries[index].gap
            assert gap is not None
            return gap
        return 0, self.oldest_seq if self.oldest_seq is not None else seq + 1

    def _index_of_seq(self, seq: int) -> int | None:
        if seq not in self.seqs:
            return None
        return next((i for i, entry in enumerate(self.entries) if entry.seq == seq), None)

    def _history_entry(self, message: HistoryEntry, actions: tuple[int, ...] = ()) -> Entry:
        time_shown = self._format(message.ts / 1000)
        own = message.sender == self.you
        kind: EntryKind = "action" if actions and message.seq in actions else "message"
        return Entry(kind, message.text, message.sender, time_shown, own, seq=message.seq, ts_ms=message.ts)

    def renew_gaps(self) -> None:
        """Give every gap entry a new key, so a view that asked for one in vain asks again."""
        for index, entry in enumerate(self.entries):
            if entry.gap is not None:
                self.entries.replace(index, entry.changed())


async def _nothing() -> None:
    """An awaitable that does nothing (a request with nothing to do)."""
