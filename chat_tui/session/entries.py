"""What a group's timeline shows, in display order, and the notice that it changed.

This is the one seam between the session layer and anything that draws a group (the message pane, the
``--plain`` printer). A :class:`GroupTimeline <chat_tui.session.timeline>` decides *what* is shown (it
dedupes, orders, tracks gaps and pending messages, trims the window); it keeps the result in an
:class:`EntryList`, which tells its subscribers *where* it changed as :class:`Splice` records. A view
keeps no bookkeeping of its own: it reads entries by index and applies the splices to whatever it
caches per entry (wrapped rows, heights).

No Textual here, and no I/O: a test proves the session package imports neither.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

EntryState = Literal["sent", "pending", "delayed", "failed"]
"""Our own message: stored (``sent``), waiting for the server, waiting longer than usual, refused."""
EntryKind = Literal["message", "action", "notice", "error", "marker", "gap"]
"""``message``/``action``: a chat line (``action`` is a ``/me`` line); ``notice``/``error``: a line from the
client ("Bob left", "reconnected"); ``marker``: a rule such as the read marker; ``gap``: a rule standing
for stored messages not in memory (``Entry.gap`` says which), which a view may ask to be filled."""

_keys = itertools.count(1)


def new_key() -> int:
    """A key no other entry of this process has: what a view caches rendered rows under."""
    return next(_keys)


@dataclass(slots=True, eq=False)
class Entry:
    """One line (or wrapped paragraph) of a group's timeline.

    Treat it as immutable: a view caches its rendering under ``key``, so a change is a new entry with a new
    key (:meth:`changed`), put in place with :meth:`EntryList.replace`. (Not ``frozen``: a frozen
    dataclass costs three times as much to build, and a busy group builds thousands a second.)
    """

    kind: EntryKind
    text: str
    sender: str = ""
    time: str = ""
    """The time as shown (already formatted by the timeline's clock and format)."""
    own: bool = False
    state: EntryState = "sent"
    seq: int | None = None
    """The group's sequence number, for a message the server stored."""
    gap: tuple[int, int] | None = None
    """For a ``gap`` entry: the seqs strictly between ``after`` and ``before`` are not in memory."""
    ts_ms: int | None = None
    """The server's timestamp (ms since the epoch) of a stored message, for a detail view."""
    key: int = field(default_factory=new_key)

    def changed(self, **fields: Any) -> Entry:
        """A copy with ``fields`` changed and a fresh ``key``."""
        return replace(self, key=new_key(), **fields)


@dataclass(frozen=True, slots=True)
class Splice:
    """``removed`` entries at index ``start`` were replaced by ``added`` new ones (now at ``start``...).

    Apply a change's splices in order: each index is relative to the list as the previous splice left it.
    Within a batch an added entry may be gone again by the end, so a view replays the splices' *shape* on
    its per-entry cache (placeholders for added entries), then fills the placeholders by reading the list
    as it is after the change.
    """

    start: int
    removed: int
    added: int


@dataclass(frozen=True, slots=True)
class TimelineChange:
    """What changed in one batch: the splices, whether the header line changed, how many live messages
    (not history pages, not our own) were appended, which a view scrolled away from the end may count as
    "N new"."""

    splices: tuple[Splice, ...]
    header_changed: bool = False
    live_added: int = 0


Subscriber = Callable[[TimelineChange], None]


class EntryList(Sequence[Entry]):
    """A group's entries in display order, with change notices to subscribers.

    Changes made inside :meth:`batch` reach subscribers as one :class:`TimelineChange` when the outermost
    batch ends, so a burst of a thousand frames costs a view one update, not a thousand.
    """

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._header: str | None = None
        self._subscribers: list[Subscriber] = []
        self._depth = 0
        self._splices: list[Splice] = []
        self._header_changed = False
        self._live_added = 0

    # -- reading ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Entry:  # type: ignore[override]
        return self._entries[index]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    @property
    def header(self) -> str | None:
        """A line above the first entry about the history's state ("loading…", "beginning of history")."""
        return self._header

    def index_of(self, key: int) -> int | None:
        """Where the entry with ``key`` is, searching from the end (where pending and recent entries are)."""
        entries = self._entries
        for index in range(len(entries) - 1, -1, -1):
            if entries[index].key == key:
                return index
        return None

    # -- changing --------------------------------------------------------------------------------
    def splice(self, start: int, removed: int, added: Sequence[Entry], *, live: int = 0) -> None:
        """Replace ``removed`` entries at ``start`` by ``added``; ``live`` of them are new live messages."""
        if not 0 <= start <= len(self._entries) or removed < 0 or start + removed > len(self._entries):
            raise IndexError(f"splice({start}, {removed}) outside 0..{len(self._entries)}")
        if not removed and not added:
            return
        self._entries[start : start + removed] = added
        self._splices.append(Splice(start, removed, len(added)))
        self._live_added += live
        self._maybe_notify()

    def append(self, entries: Sequence[Entry], *, live: int = 0) -> None:
        """Add ``entries`` at the end."""
        self.splice(len(self._entries), 0, entries, live=live)

    def replace(self, index: int, entry: Entry) -> None:
        """Put ``entry`` (usually ``old.changed(...)``) where the entry at ``index`` was."""
        self.splice(index, 1, (entry,))

    def set_header(self, text: str | None) -> None:
        if text != self._header:
            self._header = text
            self._header_changed = True
            self._maybe_notify()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold notices until the outermost batch ends, then send them as one change."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self._maybe_notify()

    # -- subscribers -----------------------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` after each change; returns the function that unsubscribes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def _maybe_notify(self) -> None:
        if self._depth or not (self._splices or self._header_changed):
            return
        change = TimelineChange(tuple(self._splices), self._header_changed, self._live_added)
        self._splices = []
        self._header_changed = False
        self._live_added = 0
        for subscriber in tuple(self._subscribers):
            subscriber(change)
