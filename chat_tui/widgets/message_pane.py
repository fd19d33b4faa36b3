"""MessagePane: a virtualized line-API scrollback that renders only the rows on screen.

RichLog and Log cost seconds and hundreds of MB at chat scale and never re-wrap (notes/tui.md §2.2),
so the pane keeps plain records, wraps them for the current width on demand, and maps a screen row to
its record with ``bisect`` over per-width row offsets. Rendered rows are cached per (record, width).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import ClassVar, Literal

from textual.cache import LRUCache
from textual.content import Content
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from chat_tui.sanitize import sanitize, sanitize_line

EntryState = Literal["sent", "pending", "failed"]
TIME_WIDTH = 6
"""Cells of the time column: "HH:MM" plus a space; wrapped rows are indented by it (hanging indent)."""
_PENDING_MARK = " ··· "
_FAILED_MARK = "  !  "
_CACHE_SIZE = 2000
"""Records whose rendered rows are kept: several screens' worth, so scrolling back and forth is cheap."""


@dataclass(slots=True)
class Entry:
    """One record in the pane: a chat message (``sender`` set) or a notice (``sender`` empty)."""

    time: str
    sender: str
    text: str
    own: bool = False
    state: EntryState = "sent"
    error: bool = False


class MessagePane(ScrollView, can_focus=True):
    """Scrollback of messages and notices; sticks to the bottom while the user is at the bottom."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-pane--time",
        "message-pane--sender",
        "message-pane--own",
        "message-pane--pending",
        "message-pane--notice",
        "message-pane--error",
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
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[Entry] = []
        self._heights: list[int] = []  # rows of each entry at ``self._layout_width``
        self._starts: list[int] = []  # first row of each entry (prefix sums of _heights)
        self._layout_width = 0
        self._cache: LRUCache[tuple[int, int], list[Strip]] = LRUCache(_CACHE_SIZE)
        self._scroll_pending = False

    @property
    def entries(self) -> list[Entry]:
        """The records shown, oldest first (read-only by convention)."""
        return self._entries

    def add_message(self, time: str, sender: str, text: str, *, own: bool = False) -> int:
        """Append a confirmed message; returns its index."""
        return self._append(Entry(time, sanitize_line(sender), sanitize(text), own=own))

    def add_pending(self, sender: str, text: str) -> int:
        """Append our own message as "sending…"; :meth:`confirm` or :meth:`fail` it later."""
        return self._append(Entry("", sanitize_line(sender), sanitize(text), own=True, state="pending"))

    def add_notice(self, time: str, text: str, *, error: bool = False) -> int:
        """Append a notice such as "Bob has joined the chat!"; returns its index."""
        return self._append(Entry(time, "", sanitize(text), error=error))

    def confirm(self, index: int, time: str) -> None:
        """Mark a pending message as accepted by the server at ``time``."""
        self._update(index, time, "sent")

    def fail(self, index: int) -> None:
        """Mark a pending message as not delivered."""
        self._update(index, "", "failed")

    def _update(self, index: int, time: str, state: EntryState) -> None:
        entry = self._entries[index]
        entry.time, entry.state = time, state
        # Only the time column and styles change, so the row count (and every offset) stays valid.
        self._cache.discard((index, self._layout_width))
        self.refresh()

    def _append(self, entry: Entry) -> int:
        follow = self._scroll_pending or self.is_vertical_scroll_end
        self._entries.append(entry)
        if self._layout_width:
            height = len(self._wrap(entry, self._layout_width))
            self._starts.append(self._starts[-1] + self._heights[-1] if self._heights else 0)
            self._heights.append(height)
            self._set_virtual_size()
        if follow and not self._scroll_pending:
            # One scroll per refresh however many messages arrive in between (notes/tui.md §2.2).
            self._scroll_pending = True
            self.call_after_refresh(self._follow_end)
        self.refresh()
        return len(self._entries) - 1

    def _follow_end(self) -> None:
        self._scroll_pending = False
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _set_virtual_size(self) -> None:
        total = self._starts[-1] + self._heights[-1] if self._heights else 0
        self.virtual_size = Size(self._layout_width, total)

    def _relayout(self, width: int) -> None:
        """Re-wrap every record for ``width``; called when the width changes."""
        self._layout_width = width
        self._heights = [len(self._wrap(entry, width)) for entry in self._entries]
        self._starts = [0, *accumulate(self._heights)][: len(self._heights)]
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
        """Render row ``row`` of the whole scrollback (0 is the oldest) at the current width."""
        width = self._ensure_layout()
        base = self.rich_style
        if not self._starts or row >= self._starts[-1] + self._heights[-1]:
            return Strip.blank(width, base)
        index = bisect_right(self._starts, row) - 1
        strips = self._cache.get((index, width))
        if strips is None:
            strips = self._render_entry(self._entries[index], width)
            self._cache[(index, width)] = strips
        return strips[row - self._starts[index]].crop_extend(0, width, base)

    def _style(self, component: str) -> Style:
        return Style.from_rich_style(self.get_component_rich_style(f"message-pane--{component}"))

    def _body(self, entry: Entry) -> Content:
        """The wrappable part of an entry, built from parts: peer text never becomes markup."""
        if not entry.sender:
            return Content.styled(entry.text, self._style("error" if entry.error else "notice"))
        sender_style = self._style("own" if entry.own else "sender")
        text: Content | str = entry.text
        if entry.state != "sent":
            text = Content.styled(entry.text, self._style("pending"))
        return Content.assemble((entry.sender, sender_style), ": ", text).expand_tabs(4)

    def _wrap(self, entry: Entry, width: int) -> list[Content]:
        return self._body(entry).wrap(max(width - TIME_WIDTH, 8))

    def _render_entry(self, entry: Entry, width: int) -> list[Strip]:
        marks = {"pending": _PENDING_MARK, "failed": _FAILED_MARK}
        time = marks.get(entry.state, entry.time.ljust(TIME_WIDTH - 1))
        time_style = self._style("error" if entry.state == "failed" else "time")
        first = Content.styled(time, time_style).pad_right(1)
        indent = Content(" " * TIME_WIDTH)
        base = Style.from_rich_style(self.rich_style)
        strips = []
        for number, line in enumerate(self._wrap(entry, width)):
            row = (first if number == 0 else indent) + line
            strips.append(Strip(row.render_segments(base), row.cell_length))
        return strips
