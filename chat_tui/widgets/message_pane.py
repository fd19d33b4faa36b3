"""MessagePane: a virtualized line-API scrollback that renders only the rows on screen.

RichLog and Log cost seconds and hundreds of MB at chat scale and never re-wrap (notes/tui.md §2.2),
so the pane keeps plain records, wraps them for the current width on demand, and maps a screen row to
its record with ``bisect`` over per-width row offsets. Rendered rows are cached per (record, width).

The rows, top to bottom: an optional one-row header (history state: "loading…", "beginning of
history"), the settled records (messages in ``seq`` order, notices), then our own messages still
waiting for the server. Older history is prepended: the new records get row offsets counting down
from the first one, so a page costs the wrapping of its own records, not a re-layout of the pane.

The pane is bounded (``scrollback`` settled records, default :data:`SCROLLBACK`). Policy: a trim
drops records from the end farther from the viewport (the top while the user reads near the bottom,
the bottom while they read old history), in batches of a tenth of the cap so it costs nothing per
message: a live message drops the oldest records, a page of older history the newest, unless the view
is there. A history page or a gap's page is kept whole, so the pane may hold the cap plus one page.
Dropping the bottom "detaches" the pane from the live end: new messages are not shown (the screen
pages them back in when the user scrolls down, :class:`MessagePane.BottomReached`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, count
from typing import ClassVar, Literal

from textual.cache import LRUCache
from textual.content import Content
from textual.events import MouseScrollDown, MouseScrollUp, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from chat_tui.sanitize import sanitize, sanitize_line

EntryState = Literal["sent", "pending", "delayed", "failed"]
EntryKind = Literal["message", "notice", "error", "marker"]
TIME_WIDTH = 6
"""Cells of the time column: "HH:MM" plus a space; wrapped rows are indented by it (hanging indent)."""
_PENDING_MARK = " ··· "
_FAILED_MARK = "  !  "
_DELAYED_MARK = "slow "
_CACHE_SIZE = 2000
"""Records whose rendered rows are kept: several screens' worth, so scrolling back and forth is cheap."""
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
        self.scrollback = max(1, scrollback)
        self.detached = False
        """The newest records were dropped: live messages are not shown until they are paged back in."""
        self._gaps_asked: set[int] = set()  # keys of gap rules whose GapShown is unanswered
        self._entries: list[Entry] = []
        self._heights: list[int] = []  # rows of each settled entry at ``self._layout_width``
        self._starts: list[int] = []  # first row of each settled entry; may start below 0 after a prepend
        self._pending: list[Entry] = []
        self._pending_heights: list[int] = []
        self._pending_ids: list[str] = []  # the caller's key of each pending entry (its client_msg_id)
        self._seqs: set[int] = set()
        self._header: str | None = None
        self._layout_width = 0
        self._cache: LRUCache[tuple[int, int], list[Strip]] = LRUCache(_CACHE_SIZE)
        self._scroll_pending = False

    # --- what is shown ----------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """The records shown, top to bottom: settled ones, then our pending messages (a copy)."""
        return [*self._entries, *self._pending]

    @property
    def header(self) -> str | None:
        """The one-row header above the records (None: no header row)."""
        return self._header

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
        self._append(Entry(time, sanitize_line(sender), sanitize(text), own=own, seq=seq))

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
        entry = Entry("", sanitize_line(sender), sanitize(text), own=True, state="pending")
        self._pending.append(entry)
        self._pending_ids.append(key)
        self._pending_heights.append(self._height(entry))
        self._changed(follow=self._following())

    def is_pending(self, key: str) -> bool:
        """Our message ``key`` still waits for the server."""
        return key in self._pending_ids

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
        if key not in self._pending_ids:
            return False
        entry = self._pending[self._pending_ids.index(key)]
        first, entry.state = entry.state != "delayed", "delayed"
        self._cache.discard((entry.key, self._layout_width))
        self.refresh()
        return first

    def refuse(self, key: str) -> None:
        """Our message ``key`` was refused: it stays, marked as not delivered."""
        entry = self._take_pending(key)
        if entry is not None:
            entry.time, entry.state = "", "failed"
            self._append(entry)

    def _take_pending(self, key: str) -> Entry | None:
        ids = self._pending_ids
        if key not in ids:
            return None
        index = ids.index(key)
        del ids[index], self._pending_heights[index]
        entry = self._pending.pop(index)
        self._cache.discard((entry.key, self._layout_width))
        return entry

    def set_header(self, text: str | None) -> None:
        """Show ``text`` in the header row (None removes the row); the rows below stay where they are."""
        had = self._header is not None
        self._header = None if text is None else sanitize_line(text)
        shift = (self._header is not None) - had
        self._changed(follow=False)
        if shift and self.scroll_y > 0:
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)

    def prepend(self, entries: Iterable[Entry]) -> int:
        """Insert older messages above the settled ones, keeping the line at the top of the view in place.

        Messages whose ``seq`` is shown already are skipped. Returns the number of rows added.
        """
        new = [entry for entry in entries if entry.seq is None or entry.seq not in self._seqs]
        for entry in new:
            entry.sender, entry.text = sanitize_line(entry.sender), sanitize(entry.text)
            if entry.seq is not None:
                self._seqs.add(entry.seq)
        self._entries[:0] = new
        if not new or not self._layout_width:
            self._trim(slack=len(new))
            self.refresh()
            return 0
        heights = [self._height(entry) for entry in new]
        top = self._starts[0] if self._starts else 0
        first = top - sum(heights)
        self._starts[:0] = _starts(first, heights)
        self._heights[:0] = heights
        added = top - first
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
                entry.sender, entry.text = sanitize_line(entry.sender), sanitize(entry.text)
                self._append(entry, trim=False)
        self.detached = self.detached and not live
        self._trim(slack=0)

    def fill_gap(self, key: int, entries: Iterable[Entry], *, done: bool = False) -> None:
        """Put a page of a gap's messages (in seq order, the newest below ``before``) under the gap rule
        ``key``, and shrink the rule to what is still missing; ``done`` (nothing is left) removes it.
        With neither, the rule asks again the next time it is shown."""
        self._gaps_asked.discard(key)
        index = next((i for i, entry in enumerate(self._entries) if entry.key == key), -1)
        rule = self._entries[index] if index >= 0 else None
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
            entry.sender, entry.text = sanitize_line(entry.sender), sanitize(entry.text)
        if lowest <= after + 1:
            self._replace(index, index + 1, new)
        else:
            rule.gap, rule.text = (after, lowest), gap_rule_text(after, lowest)
            self._cache.discard((rule.key, self._layout_width))
            self._replace(index + 1, index + 1, new)
        self._trim(slack=len(new), top_first=False)

    # --- layout -----------------------------------------------------------------------------------

    def _following(self) -> bool:
        return self._scroll_pending or self.is_vertical_scroll_end

    def _append(self, entry: Entry, *, trim: bool = True) -> None:
        follow = self._following()
        self._entries.append(entry)
        if self._layout_width:
            end = self._starts[-1] + self._heights[-1] if self._heights else 0
            self._starts.append(end)
            self._heights.append(self._height(entry))
        if trim:
            self._trim(slack=0)
        self._changed(follow=follow)

    def _replace(self, start: int, stop: int, new: list[Entry]) -> None:
        """Put ``new`` in place of records ``start:stop``, keeping the rows above the view where they are
        (O(n) for the row offsets below: only gap pages do this, never a live message)."""
        self._entries[start:stop] = new
        if not self._layout_width:
            self.refresh()
            return
        old_rows = sum(self._heights[start:stop])
        heights = [self._height(entry) for entry in new]
        first = self._starts[start] if start < len(self._starts) else self._starts[0] + self._settled_rows
        self._heights[start:stop] = heights
        self._starts[start:] = _starts(first, self._heights[start:])
        shift = sum(heights) - old_rows
        self._set_virtual_size()
        if first - self._starts[0] + self._header_rows < self.scroll_y:  # the change is above the view
            self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True)
        self.refresh()

    def _trim(self, *, slack: int, top_first: bool = True) -> None:
        """Drop records beyond the cap (plus ``slack``: a page just added), from the ``top_first`` end
        unless the view is there (a live message drops the oldest, a history page the newest)."""
        excess = len(self._entries) - self.scrollback - slack
        if excess <= 0:
            return
        want = min(len(self._entries), excess + self.scrollback // _TRIM_BATCH)
        top, count = top_first, want  # the view is larger than the cap: drop regardless
        for side in (top_first, not top_first):
            room = self._outside_view(top=side)
            if room >= excess:
                top, count = side, min(want, room)
                break
        dropped = self._entries[:count] if top else self._entries[-count:]
        for entry in dropped:
            if entry.seq is not None:
                self._seqs.discard(entry.seq)
            self._gaps_asked.discard(entry.key)
            self._cache.discard((entry.key, self._layout_width))
        if top:
            self._drop_top(count)
        else:
            del self._entries[-count:], self._heights[-count:], self._starts[-count:]
            self.detached = True
        self._set_virtual_size()
        self.post_message(self.Trimmed(top))

    def _outside_view(self, *, top: bool) -> int:
        """How many settled records lie wholly above (``top``) or below the rows on screen."""
        if not self._layout_width or not self._starts or self._following():
            return len(self._entries) if top else 0  # not laid out, or following the end: the top is free
        view_top = round(self.scroll_y) - self._header_rows + self._starts[0]
        if top:
            return max(0, bisect_right(self._starts, view_top) - 1)
        return len(self._starts) - bisect_left(self._starts, view_top + self.size.height)

    def _drop_top(self, count: int) -> None:
        rows = sum(self._heights[:count])
        following = self._following()
        del self._entries[:count], self._heights[:count], self._starts[:count]
        if self._layout_width and not following:  # keep the view on the same lines
            self.scroll_to(y=max(0, self.scroll_y - rows), animate=False, immediate=True)

    def _changed(self, *, follow: bool) -> None:
        if self._layout_width:
            self._set_virtual_size()
        if follow and not self._scroll_pending:
            # One scroll per refresh however many messages arrive in between (notes/tui.md §2.2).
            self._scroll_pending = True
            self.call_after_refresh(self._follow_end)
        self.refresh()

    def _follow_end(self) -> None:
        self._scroll_pending = False
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    @property
    def _header_rows(self) -> int:
        return 0 if self._header is None else 1

    @property
    def _settled_rows(self) -> int:
        return self._starts[-1] + self._heights[-1] - self._starts[0] if self._heights else 0

    def _set_virtual_size(self) -> None:
        if not self._layout_width:
            return
        total = self._header_rows + self._settled_rows + sum(self._pending_heights)
        self.virtual_size = Size(self._layout_width, total)

    def _height(self, entry: Entry) -> int:
        return 1 if entry.kind == "marker" else len(self._wrap(entry, self._layout_width))

    def _relayout(self, width: int) -> None:
        """Re-wrap every record for ``width``; called when the width changes."""
        self._layout_width = width
        self._heights = [self._height(entry) for entry in self._entries]
        self._starts = _starts(0, self._heights)
        self._pending_heights = [self._height(entry) for entry in self._pending]
        self._set_virtual_size()

    def on_resize(self, _event: Resize) -> None:
        """Re-wrap on a width change, staying at the bottom if we were there."""
        width = self.scrollable_content_region.width
        if width != self._layout_width:
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
        if width != self._layout_width:
            self._relayout(width)
        return width

    def render_row(self, row: int) -> Strip:
        """Render row ``row`` of the whole scrollback (0 is the top) at the current width."""
        width = self._ensure_layout()
        base = self.rich_style
        if row < self._header_rows:
            header = Content.styled(self._header or "", self._style("header")).center(width)
            return Strip(header.render_segments(Style.from_rich_style(base))).crop_extend(0, width, base)
        row -= self._header_rows
        found = self._locate(row)
        if found is None:
            return Strip.blank(width, base)
        entry, offset = found
        if entry.gap is not None and entry.key not in self._gaps_asked:
            self._gaps_asked.add(entry.key)
            self.post_message(self.GapShown(entry.key, *entry.gap))
        strips = self._cache.get((entry.key, width))
        if strips is None:
            strips = self._render_entry(entry, width)
            self._cache[(entry.key, width)] = strips
        return strips[offset].crop_extend(0, width, base)

    def _locate(self, row: int) -> tuple[Entry, int] | None:
        """The record at ``row`` (0 is the first settled row) and the row's offset inside it."""
        settled = self._settled_rows
        if row < settled:
            absolute = row + self._starts[0]
            index = bisect_right(self._starts, absolute) - 1
            return self._entries[index], absolute - self._starts[index]
        row -= settled
        for entry, height in zip(self._pending, self._pending_heights, strict=True):
            if row < height:
                return entry, row
            row -= height
        return None

    def _style(self, component: str) -> Style:
        return Style.from_rich_style(self.get_component_rich_style(f"message-pane--{component}"))

    def _body(self, entry: Entry) -> Content:
        """The wrappable part of an entry, built from parts: peer text never becomes markup."""
        if entry.kind in ("notice", "error"):
            return Content.styled(entry.text, self._style(entry.kind))
        sender_style = self._style("own" if entry.own else "sender")
        text: Content | str = entry.text
        if entry.state != "sent":
            text = Content.styled(entry.text, self._style("pending"))
        return Content.assemble((entry.sender, sender_style), ": ", text).expand_tabs(4)

    def _wrap(self, entry: Entry, width: int) -> list[Content]:
        return self._body(entry).wrap(max(width - TIME_WIDTH, 8))

    def _render_entry(self, entry: Entry, width: int) -> list[Strip]:
        base = Style.from_rich_style(self.rich_style)
        if entry.kind == "marker":
            label = f" {entry.text} " if entry.text else ""
            side = max(width - len(label), 2)
            rule = "─" * (side // 2) + label + "─" * (side - side // 2)
            line = Content.styled(rule, self._style("marker")).truncate(width)
            return [Strip(line.render_segments(base), line.cell_length)]
        marks = {"pending": _PENDING_MARK, "delayed": _DELAYED_MARK, "failed": _FAILED_MARK}
        time = marks.get(entry.state, entry.time.ljust(TIME_WIDTH - 1))
        time_style = self._style("error" if entry.state == "failed" else "time")
        first = Content.styled(time, time_style).pad_right(1)
        indent = Content(" " * TIME_WIDTH)
        strips = []
        for number, line in enumerate(self._wrap(entry, width)):
            row = (first if number == 0 else indent) + line
            strips.append(Strip(row.render_segments(base), row.cell_length))
        return strips


def gap_rule_text(after_seq: int, before_seq: int) -> str:
    """The words of a gap rule for the seqs strictly between ``after_seq`` and ``before_seq``."""
    return f"{before_seq - after_seq - 1} earlier messages not shown"


def _starts(first: int, heights: list[int]) -> list[int]:
    """The first row of each record, given the first record's row and every record's height."""
    return list(accumulate(heights, initial=first))[:-1]
