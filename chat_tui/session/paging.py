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

    async def fill_gap(self, key: int) -> None:
        """Page in the newest messages of the gap entry ``key`` (a view showed it); the gap shrinks to
        what is still missing (a new entry, which asks again when shown). One fill at a time: asks
        that come meanwhile are served in turn."""
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
        try:
            page = await self._fetch(gap[1], self.page_size)
        except HistoryUnavailable:
            return  # shown again, it asks again
        index = self.entries.index_of(key)  # the list moved on while we waited
        if index is None:
            return
        after, before = gap
        inside = [m for m in page.messages if after < m.seq < before and m.seq not in self.seqs]
        # Pages hold the newest messages below their bound and seqs have no holes, so the gap now
        # ends at the page's lowest seq; an empty or short page means nothing older is missing.
        top = page.messages[0].seq if page.messages and page.has_more else after + 1
        rest = [self.gap_entry(after, top)] if top > after + 1 else []
        added = rest + [self._history_entry(m, page.actions) for m in inside]
        with self.entries.batch():
            self.entries.splice(index, 1, ())
            self.insert(index, added)
            self.trim(prefer_top=True, around=index + len(added) // 2, extra=len(inside))  # keep what was asked

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
