"""MessagePane: a virtualized line-API scrollback that renders only the rows on screen.

RichLog and Log cost seconds and hundreds of MB at chat scale and never re-wrap (notes/tui.md §2.2),
so the pane keeps plain records, wraps them for the current width on demand, and maps a screen row to
its record through a :class:`~chat_tui.widgets.pane_layout.PaneLayout` (the records and their row
offsets). Rendered rows (:mod:`chat_tui.widgets.entry_rows`) are cached per (record, width).

The rows, top to bottom: an optional one-row header (history state: "loading…", "beginning of
history"), the settled records (messages in ``seq`` order, notices), then our own messages still
waiting for the server.

The pane is bounded (``scrollback`` settled records, default :data:`SCROLLBACK`). Policy: a trim
drops records from the end farther from the viewport (the top while the user reads near the bottom,
the bottom while they read old history), in batches of a tenth of the cap so it costs nothing per
message: a live message drops the oldest records, a page of older history the newest, unless the view
is there. A history page or a gap's page is kept whole, so the pane may hold the cap plus one page.
Dropping the bottom "detaches" the pane from the live end: new messages are not shown (the screen
pages them back in when the user scrolls down, :class:`MessagePane.BottomReached`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.cache import LRUCache
from textual.events import MouseScrollDown, MouseScrollUp, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from chat_tui.sanitize import sanitize, sanitize_line, sanitize_name
from chat_tui.widgets.entry_rows import TIME_WIDTH, entry_height, render_entry, render_header
from chat_tui.widgets.pane_layout import SCROLLBACK, Entry, EntryKind, EntryState, PaneLayout, gap_rule_text

__all__ = [
    "SCROLLBACK",
    "TIME_WIDTH",
    "Entry",
    "EntryKind",
    "EntryState",
    "MessagePane",
    "gap_rule_text",
]

_CACHE_SIZE = 2000
"""Records whose rendered rows are kept: several screens' worth, so scrolling back and forth is cheap."""


class MessagePane(ScrollView, can_focus=True):
    """Scrollback of messages and notices; sticks to the bottom while the user is at the bottom."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-pane--time",
        "message-pane--sender",
        "message-pane--own",
        "message-pane--pending",
        "message-pane--notice",
        "message-pane--error",
        "message-pane--marker",
        "message-pane--header",
    }

    DEFAULT_CSS = """
    MessagePane {
        overflow-x: hidden;
        scrollbar-gutter: stable;
    }
    MessagePane > .message-pane--time { color: $text-muted; }
    MessagePane > .message-pane--sender { color: $secondary; text-style: bold; }
    MessagePane > .message-pane--own { color: $accent; text-style: bold; }
    MessagePane > .message-pane--pending { color: $text-muted; text-style: italic; }
    MessagePane > .message-pane--notice { color: $text-muted; text-style: italic; }
    MessagePane > .message-pane--error { color: $error; text-style: bold; }
    MessagePane > .message-pane--marker { color: $warning; }
    MessagePane > .message-pane--header { color: $text-muted; }
    """

    class TopReached(Message):
        """The user scrolled to the top (or tried to scroll past it): time to load older history."""

    class BottomReached(Message):
        """The user scrolled to the end of a detached pane: time to load the newer messages it dropped."""

    class GapShown(Message):
        """A gap rule is on screen: time to load the messages it stands for (asked once until filled)."""

        def __init__(self, key: int, after_seq: int, before_seq: int) -> None:
            super().__init__()
            self.key, self.after_seq, self.before_seq = key, after_seq, before_seq

    class Trimmed(Message):
        """Records were dropped from the top (``top``) or the bottom to keep the pane within its cap."""

        def __init__(self, top: bool) -> None:
            super().__init__()
            self.top = top

    def __init__(
        self,
        *,
        scrollback: int = SCROLLBACK,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ):
        super().__init__(name=name, id=id, classes=classes)
        self._rows = PaneLayout(scrollback, self._height)
        self.detached = False
        """The newest records were dropped: live messages are not shown until they are paged back in."""
        self._gaps_asked: set[int] = set()  # keys of gap rules whose GapShown is unanswered
        self._cache: LRUCache[tuple[int, int], list[Strip]] = LRUCache(_CACHE_SIZE)
        self._scroll_pending = False

    @property
    def scrollback(self) -> int:
        """Settled records the pane keeps (at least 1)."""
        return self._rows.cap

    # --- what is shown ----------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """The records shown, top to bottom: settled ones, then our pending messages (a copy)."""
        return [*self._rows.entries, *self._rows.pending]

    @property
    def header(self) -> str | None:
        """The one-row header above the records (None: no header row)."""
        return self._rows.header

    @property
    def oldest_seq(self) -> int | None:
        """The lowest ``seq`` shown (None: no stored message is shown)."""
        return min(self._seqs) if self._seqs else None

    @property
    def newest_seq(self) -> int | None:
        """The highest ``seq`` shown (None: no stored message is shown)."""
        return max(self._seqs) if self._seqs else None

    def has_seq(self, seq: int) -> bool:
        """A message with this ``seq`` is shown already."""
        return seq in self._seqs

    def add_message(self, time: str, sender: str, text: str, *, own: bool = False, seq: int | None = None) -> None:
        """Append a message the server stored; a ``seq`` shown before is ignored (each shows once)."""
        if seq is not None:
            if seq in self._seqs or self.detached:  # detached: it is paged in with the rest later
                return
            self._seqs.add(seq)
        self._append(Entry(time, sanitize_name(sender), sanitize(text), own=own, seq=seq))

    def add_notice(self, time: str, text: str, *, error: bool = False) -> None:
        """Append a notice such as "Bob has joined the chat!"."""
        self._append(Entry(time, "", sanitize(text), kind="error" if error else "notice"))

    def add_marker(self, text: str, *, gap: tuple[int, int] | None = None) -> None:
        """Append a full-width rule with ``text`` in it, e.g. between replayed and new messages.

        ``gap`` = ``(after_seq, before_seq)`` makes it a gap rule: shown, it asks for its messages (GapShown).
        """
        self._append(Entry("", "", sanitize_line(text), kind="marker", gap=gap))

    def add_pending(self, key: str, sender: str, text: str) -> None:
        """Show our own message as waiting for the server, below everything settled."""
        self._rows.add_pending(key, Entry("", sanitize_name(sender), sanitize(text), own=True, state="pending"))
        self._changed(follow=self._following())

    def is_pending(self, key: str) -> bool:
        """Our message ``key`` still waits for the server."""
        return key in self._rows.pending_ids

    def acknowledge(self, key: str, time: str, seq: int) -> None:
        """Our message ``key`` was stored as ``seq`` at ``time``: it takes its place after what came before."""
        entry = self._take_pending(key)
        if entry is None or seq in self._seqs or self.detached:
            return
        entry.time, entry.state, entry.seq = time, "sent", seq
        self._seqs.add(seq)
        self._append(entry)

    def delay(self, key: str) -> bool:
        """Our message ``key`` is held back by the server's rate limit; True the first time it is."""
        entry = self._rows.find_pending(key)
        if entry is None:
            return False
        first, entry.state = entry.state != "delayed", "delayed"
        self._cache.discard((entry.key, self._rows.width))
        self.refresh()
        return first

    def refuse(self, key: str) -> None:
        """Our message ``key`` was refused: it stays, marked as not delivered."""
        entry = self._take_pending(key)
        if entry is not None:
            entry.time, entry.state = "", "failed"
            self._append(entry)

    def _take_pending(self, key: str) -> Entry | None:
        entry = self._rows.take_pending(key)
        if entry is not None:
            self._cache.discard((entry.key, self._rows.width))
        return entry

    def set_header(self, text: str | None) -> None:
        """Show ``text`` in the header row (None removes the row); the rows below stay where they are."""
        had = self._rows.header is not None
        self._rows.header = None if text is None else sanitize_line(text)
        shift = (self._rows.header is not None) - had
        self._changed(follow=False)
        if shift and self.scroll_y > 0:
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)

    def prepend(self, entries: Iterable[Entry]) -> int:
        """Insert older messages above the settled ones, keeping the line at the top of the view in place.

        Messages whose ``seq`` is shown already are skipped. Returns the number of rows added.
        """
        new = [entry for entry in entries if entry.seq is None or entry.seq not in self._seqs]
        for entry in new:
            entry.sender, entry.text = sanitize_name(entry.sender), sanitize(entry.text)
            if entry.seq is not None:
                self._seqs.add(entry.seq)
        if not new or not self._rows.width:
            self._rows.entries[:0] = new
            self._trim(slack=len(new))
            self.refresh()
            return 0
        added = self._rows.insert_top(new)
        self._set_virtual_size()
        self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True)
        self._trim(slack=len(new), top_first=False)
        self.refresh()
        return added

    def append_history(self, entries: Iterable[Entry], *, live: bool) -> None:
        """Append newer messages paged back in below a detached pane; ``live``: they reach the live end."""
        for entry in entries:
            if entry.seq is not None and entry.seq not in self._seqs:
                self._seqs.add(entry.seq)
                entry.sender, entry.text = sanitize_name(entry.sender), sanitize(entry.text)
                self._append(entry, trim=False)
        self.detached = self.detached and not live
        self._trim(slack=0)

    def fill_gap(self, key: int, entries: Iterable[Entry], *, done: bool = False) -> None:
        """Put a page of a gap's messages (in seq order, the newest below ``before``) under the gap rule
        ``key``, and shrink the rule to what is still missing; ``done`` (nothing is left) removes it.
        With neither, the rule asks again the next time it is shown."""
        self._gaps_asked.discard(key)
        index = self._rows.index_of(key)
        rule = self._rows.entries[index] if index >= 0 else None
        new = [entry for entry in entries if entry.seq is not None and entry.seq not in self._seqs]
        if rule is None or rule.gap is None:
            return
        if not new:
            if done:
                self._replace(index, index + 1, [])
            return
        after = rule.gap[0]
        lowest = min(entry.seq or 0 for entry in new)
        for entry in new:
            self._seqs.add(entry.seq or 0)
            entry.sender, entry.text = sanitize_name(entry.sender), sanitize(entry.text)
        if lowest <= after + 1:
            self._replace(index, index + 1, new)
        else:
            rule.gap, rule.text = (after, lowest), gap_rule_text(after, lowest)
            self._cache.discard((rule.key, self._rows.width))
            self._replace(index + 1, index + 1, new)
        self._trim(slack=len(new), top_first=False)

    # --- layout -----------------------------------------------------------------------------------

    # The layout's state under the names the pane's tests check its consistency with.
    @property
    def _entries(self) -> list[Entry]:
        return self._rows.entries

    @property
    def _heights(self) -> list[int]:
        return self._rows.heights

    @property
    def _starts(self) -> list[int]:
        return self._rows.starts

    @property
    def _pending_heights(self) -> list[int]:
        return self._rows.pending_heights

    @property
    def _seqs(self) -> set[int]:
        return self._rows.seqs

    @property
    def _header_rows(self) -> int:
        return self._rows.header_rows

    def _following(self) -> bool:
        return self._scroll_pending or self.is_vertical_scroll_end

    def _append(self, entry: Entry, *, trim: bool = True) -> None:
        follow = self._following()
        self._rows.append(entry)
        if trim:
            self._trim(slack=0)
        self._changed(follow=follow)

    def _replace(self, start: int, stop: int, new: list[Entry]) -> None:
        """Put ``new`` in place of records ``start:stop``, keeping the rows above the view where they are
        (O(n) for the row offsets below: only gap pages do this, never a live message)."""
        if not self._rows.width:
            self._rows.entries[start:stop] = new
            self.refresh()
            return
        first, shift = self._rows.replace(start, stop, new)
        self._set_virtual_size()
        if first + self._header_rows < self.scroll_y:  # the change is above the view
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)
        self.refresh()

    def _trim(self, *, slack: int, top_first: bool = True) -> None:
        """Drop records beyond the cap (plus ``slack``: a page just added), from the ``top_first`` end
        unless the view is there (a live message drops the oldest, a history page the newest)."""
        plan = self._rows.plan_trim(slack=slack, top_first=top_first, view=self._view())
        if plan is None:
            return
        top, count = plan
        for entry in self._rows.dropping(top=top, count=count):
            self._gaps_asked.discard(entry.key)
            self._cache.discard((entry.key, self._rows.width))
        if top:
            following = self._following()
            rows = self._rows.drop_top(count)
            if self._rows.width and not following:  # keep the view on the same lines
                self.scroll_to(y=max(0, self.scroll_y - rows), animate=False, immediate=True)
        else:
            self._rows.drop_bottom(count)
            self.detached = True
        self._set_virtual_size()
        self.post_message(self.Trimmed(top))

    def _view(self) -> tuple[int, int] | None:
        """The rows on screen (first row, rows) for trimming; None while following the end."""
        if not self._rows.width or not self._rows.starts or self._following():
            return None
        return round(self.scroll_y), self.size.height

    def _changed(self, *, follow: bool) -> None:
        if self._rows.width:
            self._set_virtual_size()
        if follow and not self._scroll_pending:
            # One scroll per refresh however many messages arrive in between (notes/tui.md §2.2).
            self._scroll_pending = True
            self.call_after_refresh(self._follow_end)
        self.refresh()

    def _follow_end(self) -> None:
        self._scroll_pending = False
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _set_virtual_size(self) -> None:
        if self._rows.width:
            self.virtual_size = Size(self._rows.width, self._rows.total_rows)

    def _height(self, entry: Entry) -> int:
        return entry_height(entry, self._rows.width, self._style)

    def _relayout(self, width: int) -> None:
        """Re-wrap every record for ``width``; called when the width changes."""
        self._rows.relayout(width)
        self._set_virtual_size()

    def on_resize(self, _event: Resize) -> None:
        """Re-wrap on a width change, staying at the bottom if we were there."""
        width = self.scrollable_content_region.width
        if width != self._rows.width:
            at_end = self.is_vertical_scroll_end
            self._relayout(width)
            if at_end:
                self.call_after_refresh(self._follow_end)

    def notify_style_update(self) -> None:
        """Theme or CSS changed: cached rows hold old colours."""
        super().notify_style_update()
        self._cache.clear()

    # --- reaching the top -------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling reached the top: ask for older history."""
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.post_message(self.TopReached())
        elif self.detached and new_value >= self.max_scroll_y > old_value:
            self.post_message(self.BottomReached())

    def _on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        super()._on_mouse_scroll_up(event)
        if self.scroll_y <= 0:  # also when everything fits and there is nothing to scroll
            self.post_message(self.TopReached())

    def _on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        super()._on_mouse_scroll_down(event)
        if self.detached and self.scroll_y >= self.max_scroll_y:
            self.post_message(self.BottomReached())

    def page_up(self) -> None:
        """Scroll a page up; at the top, ask for older history."""
        if self.scroll_y <= 0:
            self.post_message(self.TopReached())
        else:
            self.scroll_page_up(animate=False)

    def page_down(self) -> None:
        """Scroll a page down; at the end of a detached pane, ask for the newer messages."""
        if self.detached and self.scroll_y >= self.max_scroll_y:
            self.post_message(self.BottomReached())
        else:
            self.scroll_page_down(animate=False)

    # --- rendering --------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (the line API): only visible rows are ever rendered."""
        return self.render_row(round(self.scroll_y) + y)

    @property
    def row_count(self) -> int:
        """Rows of the whole scrollback at the current width."""
        self._ensure_layout()
        return self.virtual_size.height

    def _ensure_layout(self) -> int:
        """Lay records out for the current width if it changed; returns the width."""
        width = self.scrollable_content_region.width
        if width != self._rows.width:
            self._relayout(width)
        return width

    def render_row(self, row: int) -> Strip:
        """Render row ``row`` of the whole scrollback (0 is the top) at the current width."""
        width = self._ensure_layout()
        base = self.rich_style
        if row < self._header_rows:
            header = render_header(self._rows.header or "", width, self._style("header"), Style.from_rich_style(base))
            return header.crop_extend(0, width, base)
        found = self._rows.locate(row - self._header_rows)
        if found is None:
            return Strip.blank(width, base)
        entry, offset = found
        if entry.gap is not None and entry.key not in self._gaps_asked:
            self._gaps_asked.add(entry.key)
            self.post_message(self.GapShown(entry.key, *entry.gap))
        strips = self._cache.get((entry.key, width))
        if strips is None:
            strips = render_entry(entry, width, self._style, Style.from_rich_style(self.rich_style))
            self._cache[(entry.key, width)] = strips
        return strips[offset].crop_extend(0, width, base)

    def _style(self, component: str) -> Style:
        return Style.from_rich_style(self.get_component_rich_style(f"message-pane--{component}"))
