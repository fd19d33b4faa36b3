"""MessagePane: renders a group's :class:`~chat_tui.session.entries.EntryList`, virtualized.

RichLog and Log cost seconds and hundreds of MB at chat scale and never re-wrap (notes/tui.md §2.2), so
the pane is a line-API ``ScrollView`` that renders only the rows on screen. It keeps no bookkeeping of
the timeline's (what is shown, in which order, what is trimmed: :mod:`chat_tui.session.timeline`
decides), only per-entry render caches: each entry's rows at the current width
(:class:`~chat_tui.widgets.pane_layout.RowLayout`: estimated, then exact once rendered) and the
rendered rows of the entries seen lately (:mod:`chat_tui.widgets.entry_rows`), keyed by entry key and
width, so a resize re-wraps only what comes on screen.

A change from the list (a batch of splices) is replayed on the row layout at once, in O(its size);
what is on screen is measured and the view placed when the next frame is painted, so a flood of
changes between two frames costs one measuring, and each change one ``refresh()``. The view is pinned
to the bottom while following (also when the pane shrinks); scrolled up, it keeps the same lines under
changes above it and counts live messages in a "N new ↓" row (a click or End jumps down).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.cache import LRUCache
from textual.events import Click, Leave, MouseMove, MouseScrollUp, Resize
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style

from chat_tui.session.entries import Entry, EntryList, TimelineChange
from chat_tui.session.paging import HEADER_START
from chat_tui.widgets.entry_rows import (
    day_label,
    entry_size,
    full_time,
    render_entry,
    render_header,
    render_new_marker,
    render_rule,
    wrap_width,
)
from chat_tui.widgets.pane_layout import RowLayout, anchor_after

__all__ = ["MessagePane"]

_CACHE_SIZE = 320
"""Entries whose rendered rows are kept: several screens' worth, so scrolling back and forth is cheap.
Not more: every Strip holds seven small caches, all objects the cyclic GC walks on each full pass, and
a 2,000-entry cache tripled the objects it walked (its passes were most of the app's key-to-paint p99)."""
_NEAR = 8
"""Rows past the bottom of the view measured along with it, so a small scroll finds them exact."""
_GAPS_ASKED = 256
"""Gap entries whose GapShown is remembered (gaps are rare; forgetting one only means asking again)."""
_DAY_LOOKBACK = 64
"""Entries looked back past for the message before one (notices, markers and pending lines have no
day): a run longer than this is rare, and costs at worst a day rule shown twice."""
_WHOLE = (None, HEADER_START)
"""Headers of a list that starts at the group's first message (None: a list with no header at all)."""
_DATED = frozenset({"message", "action"})
"""Kinds that carry the server's time and open a day (a notice's time is the client's)."""


class MessagePane(ScrollView, can_focus=True):
    """Renders an :class:`~chat_tui.session.entries.EntryList`; pinned to the bottom while following.

    The pane keeps no bookkeeping but per-entry render caches: each entry's rows at the current width
    (estimated until it is first rendered, then exact: :class:`~chat_tui.widgets.pane_layout.RowLayout`)
    and the rendered rows of the entries seen lately. A change from the list costs O(its splices) plus
    the rendering of what is on screen, and one ``refresh()``.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-pane--time",
        "message-pane--sender",
        "message-pane--own",
        "message-pane--pending",
        "message-pane--notice",
        "message-pane--error",
        "message-pane--marker",
        "message-pane--header",
        "message-pane--new",
        "message-pane--mention",
        "message-pane--day",
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
    MessagePane > .message-pane--day { color: $text-muted; }
    MessagePane > .message-pane--mention { color: $text-warning; background: $warning-muted; text-style: bold; }
    MessagePane > .message-pane--new { color: $text; background: $accent; text-style: bold; }
    """

    class TopReached(Message):
        """The user scrolled to the top (or tried to scroll past it): time to load older history."""

    class GapShown(Message):
        """A gap entry is on screen: time to load the messages it stands for (asked once per entry key)."""

        def __init__(self, key: int, after_seq: int, before_seq: int) -> None:
            super().__init__()
            self.key, self.after_seq, self.before_seq = key, after_seq, before_seq

    def __init__(
        self,
        entries: EntryList | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        you: str = "",
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.you = you
        """Our name: where another's message names it, it is highlighted."""
        self._list: EntryList | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._layout = RowLayout()
        self._strips: LRUCache[tuple[int, int, date | None], list[Strip]] = LRUCache(_CACHE_SIZE)
        self._tz: tzinfo | None = None  # the app's zone for days and full times (None: the local one)
        self._styles: dict[str, Style] = {}
        self._rich: RichStyle | None = None
        self._gaps_asked: dict[int, None] = {}
        self._following = True
        self._unseen = 0
        self._moving = False  # the pane itself is scrolling: not the user leaving or reaching the end
        self._header_shown = 0  # header rows as last laid out (a change may have added or removed it)
        self._stale = False  # changes came since the view was last measured and placed
        self._stale_anchor: tuple[int, int] | None = None  # where the view was then, tracked through them
        self.show(entries)

    # --- the list shown -----------------------------------------------------------------------------

    @property
    def entries(self) -> EntryList | None:
        """The list shown (None: nothing)."""
        return self._list

    def show(self, entries: EntryList | None) -> None:
        """Show ``entries`` from now on (the old list is unsubscribed), following its end."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._list = entries
        self._layout = RowLayout()
        self._gaps_asked.clear()
        self._following, self._unseen = True, 0
        if entries is not None:
            self._layout.splice(0, 0, len(entries))
            self._unsubscribe = entries.subscribe(self._changed)
        self._layout.fill(self._entry_size)
        self._update(anchor=None)

    def on_mount(self) -> None:
        """The app's time zone (its tests fix one) decides which day a message falls on."""
        self._tz = getattr(self.app, "tz", None)

    def on_unmount(self) -> None:
        """Removed: stop following the list (its timeline lives on in the session)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _entry_size(self, index: int) -> tuple[int, int]:
        assert self._list is not None  # fill() asks only for entries the list has
        cells, lines = entry_size(self._list[index])
        return (cells, lines + 1) if self._day_opened(index) is not None else (cells, lines)

    # --- days ---------------------------------------------------------------------------------------

    def _moment(self, entry: Entry) -> datetime | None:
        """When a stored message was sent, in the app's zone; None for other entries, and for a time no
        calendar holds (a peer's server may send any number: the timeline shows those as "--:--")."""
        if entry.ts_ms is None or entry.kind not in _DATED:
            return None
        try:
            return datetime.fromtimestamp(entry.ts_ms / 1000, self._tz)
        except (ValueError, OverflowError, OSError):
            return None

    def _day_of(self, entry: Entry) -> date | None:
        moment = self._moment(entry)
        return None if moment is None else moment.date()

    def _day_opened(self, index: int) -> date | None:
        """The day whose rule goes above entry ``index``: its day if the message before it is of another
        day, else None. Read at render time, so prepending or trimming needs no bookkeeping.

        Only where the message before is known: not below a gap, nor at the top of the list while older
        history is still on the server (the first message shown need not be the first of its day, and a
        rule that went away when the page above came in would move every line the user was reading).
        """
        entries = self._list
        assert entries is not None
        day = self._day_of(entries[index])
        if day is None:
            return None
        for back in range(index - 1, max(index - _DAY_LOOKBACK, 0) - 1, -1):
            entry = entries[back]
            if entry.kind == "gap":
                return None
            before = self._day_of(entry)
            if before is not None:
                return None if before == day else day
        return day if index > _DAY_LOOKBACK or entries.header in _WHOLE else None

    def on_mouse_move(self, event: MouseMove) -> None:
        """Hovering a message shows its full date and time as the pane's tooltip."""
        offset = event.get_content_offset(self)
        self.tooltip = None if offset is None else self.time_at(offset.y)

    def on_leave(self, _event: Leave) -> None:
        self.tooltip = None

    def time_at(self, y: int) -> str | None:
        """The full date and time of the message on screen row ``y`` (None: no stored message there)."""
        if self._list is None or not self._layout.avail:
            return None
        found = self._layout.locate(round(self.scroll_y) + y - self._header_rows)
        if found is None or found[0] >= len(self._list):
            return None
        moment = self._moment(self._list[found[0]])
        return None if moment is None else full_time(moment)

    # --- pinned to the bottom -----------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Pinned to the bottom: new entries scroll into view, and shrinking the pane keeps the end shown."""
        return self._following

    @property
    def unseen(self) -> int:
        """Live messages added since the user scrolled away from the end (the "N new ↓" count)."""
        return self._unseen

    def scroll_to_end(self) -> None:
        """Pin the view to the bottom (sending calls this; so do End and a click on "N new ↓")."""
        self._following, self._unseen = True, 0
        self._update(anchor=None)

    def scroll_to_entry(self, index: int) -> None:
        """Show the entry at ``index`` at the top of the view, no longer following the end."""
        if self._list is None or not 0 <= index < len(self._list) or index >= len(self._layout):
            return
        self._following = False
        self._update(anchor=(index, 0))

    def action_scroll_end(self) -> None:
        """End: back to the newest messages, pinned."""
        self.scroll_to_end()

    def visible_range(self) -> tuple[int, int] | None:
        """The first and last entry (indexes, inclusive) on screen; None when nothing is.

        A timeline may ask in the middle of a batch, while its list holds entries the pane has not been
        told of, so this reads the row layout only (rendering would read entries at indexes that moved).
        Following, the screen is the end of the list whatever it holds now: the last entry is its last,
        and the first is counted back from it by the rows of the end as laid out. Scrolled up, it is
        the lines on screen, by the indexes of the list as the pane last saw it.
        """
        layout, height = self._layout, max(self.size.height, 1)
        if not len(layout) or not layout.avail or self._list is None:
            return None
        header = self._header_rows
        if self._following:
            first = layout.locate(max(0, layout.total - max(height - header, 1)))
            added = len(self._list) - len(layout)  # told at the end of the batch
            return (first[0] + added, len(self._list) - 1) if first is not None and len(self._list) else None
        top = max(0, round(self.scroll_y) - header)
        first = layout.locate(min(top, layout.total - 1))
        last = layout.locate(min(top + height - 1, layout.total - 1))
        if first is None or last is None:
            return None
        return first[0], last[0]

    # --- applying changes -------------------------------------------------------------------------

    def _changed(self, change: TimelineChange) -> None:
        """Replay a change's splices on the per-entry rows, and refresh.

        What is on screen is measured, and the view moved to its anchor (or the end), when it is next
        painted (:meth:`_flush`): many changes between two frames cost one measuring of the screen.
        """
        anchor = self._view_anchor()
        layout = self._layout
        for splice in change.splices:
            if anchor is not None:
                anchor = anchor_after(anchor, splice.start, splice.removed, splice.added)
            layout.splice(splice.start, splice.removed, splice.added)
            layout.unmeasure(splice.start + splice.added)  # the entry below may gain or lose its day rule
        if change.header_changed:
            layout.unmeasure(0)  # all history loaded, or not: the first entry's day rule may come or go
        layout.fill(self._entry_size)
        if change.live_added and not self._following:
            self._unseen += change.live_added
        self._stale, self._stale_anchor = True, anchor
        self.refresh()

    def _flush(self) -> None:
        """Bring the view up to date with the changes since the last frame (before it is painted)."""
        if self._stale:
            self._stale = False
            self._update(anchor=None if self._following else self._stale_anchor, repaint=False)

    def _view_anchor(self) -> tuple[int, int] | None:
        """What keeps the view in place: None while following (the end does), else the anchor of the last
        painted frame if changes came since (still valid in index terms), else the one on screen now."""
        if self._following:
            return None
        return self._stale_anchor if self._stale else self._anchor()

    def _anchor(self) -> tuple[int, int] | None:
        """The entry at the top of the view and the view's offset from its first row (-1: the header)."""
        if not len(self._layout):
            return None
        row = round(self.scroll_y) - self._header_shown  # the header as on screen, before this change
        found = self._layout.locate(max(row, 0))
        if found is None:
            return None
        index, offset = found
        return index, offset + min(row, 0)

    def _update(self, *, anchor: tuple[int, int] | None, repaint: bool = True) -> None:
        """Lay out for the current width, measure what is on screen, scroll to the anchor or the end."""
        self._stale = False
        width = self.scrollable_content_region.width
        if not width or not self.is_mounted:
            return
        layout = self._layout
        if wrap_width(width) != layout.avail:
            self._relayout(width)
        header = self._header_shown = self._header_rows
        if self._following:
            self._measure_end()
        elif anchor is not None:
            self._measure_from(anchor[0])
        self._set_virtual_size()
        if self._following:
            self._move_to(self.max_scroll_y)
        elif anchor is not None:
            self._move_to(header + layout.row_of(anchor[0]) + anchor[1])
        if repaint:
            self.refresh()

    def _move_to(self, y: int) -> None:
        self._moving = True
        try:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        finally:
            self._moving = False

    def _relayout(self, width: int) -> None:
        """A new width: every entry's rows are estimated again (O(n) over two arrays, no wrapping)."""
        self._layout.relayout(wrap_width(width))

    def _measure_end(self) -> None:
        """Make the rows of the entries at the bottom exact, as many as fill the view."""
        layout, need = self._layout, self.size.height
        index, rows = len(layout) - 1, 0
        while index >= 0 and rows < need:
            rows += layout.heights[index] if layout.exact[index] else len(self._rows_of(index))
            index -= 1

    def _measure_from(self, index: int) -> None:
        """Make the rows of the entries from ``index`` down exact, as many as fill the view and a bit."""
        layout, need = self._layout, self.size.height + _NEAR
        rows = 0
        while index < len(layout) and rows < need:
            rows += layout.heights[index] if layout.exact[index] else len(self._rows_of(index))
            index += 1

    def display_changed(self) -> None:
        """The display settings changed (timestamps, name colours): render every entry again."""
        self._strips.clear()
        self.refresh()

    def _rows_of(self, index: int) -> list[Strip]:
        """The rendered rows of entry ``index`` at the current width (cached), its height now exact."""
        assert self._list is not None
        entry = self._list[index]
        width = self.scrollable_content_region.width
        day = self._day_opened(index)
        strips = self._strips.get((entry.key, width, day))
        if strips is None:
            base = self._rich_base()
            # Full width once, here: a row then goes to the screen as is, not through a crop_extend
            # that would make (and cache) a second Strip per row.
            settings = getattr(self.app, "settings", None)  # the user's display settings, when the app has them
            rows = render_entry(
                entry,
                width,
                self._style,
                self._base_style(),
                self.you,
                times=getattr(settings, "timestamps", True),
                name_colours=getattr(settings, "name_colours", True),
                dark=self.app.current_theme.dark,
            )
            if day is not None:
                rows.insert(0, render_rule(day_label(day), width, self._style("day"), self._base_style()))
            # Simplified: each segment gets its own offsets for selection (render_line), which would
            # keep apart the runs of one style that painting otherwise joins.
            strips = [row.extend_cell_length(width, base).simplify() for row in rows]
            self._strips[(entry.key, width, day)] = strips
        if not self._layout.exact[index] or self._layout.heights[index] != len(strips):
            self._layout.measure(index, len(strips))
        return strips

    @property
    def _header_rows(self) -> int:
        return 1 if self._list is not None and self._list.header is not None else 0

    def _set_virtual_size(self) -> None:
        """Set the scrollable size without a layout pass (as ScrollView does on a resize): the pane's own
        size never depends on its content, and assigning ``virtual_size`` would lay out and repaint the
        whole screen, composer and member list included, on every change (most of a frame's cost)."""
        size = Size(self.scrollable_content_region.width, self._header_rows + self._layout.total)
        if size != self.virtual_size:
            self._moving = True
            try:
                self.set_reactive(MessagePane.virtual_size, size)
                self._scroll_update(size)  # the scrollbar; a layout only if it appears or goes
            finally:
                self._moving = False

    def on_resize(self, _event: Resize) -> None:
        """A new size: re-estimate on a width change; stay pinned, or keep the top line in place."""
        self._update(anchor=self._view_anchor())

    def notify_style_update(self) -> None:
        """Theme or CSS changed: cached rows hold old colours."""
        super().notify_style_update()
        self._rich = None
        self._styles.clear()
        self._strips.clear()

    # --- scrolling ------------------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Following is whatever the user's scrolling left; reaching the top asks for older history."""
        super().watch_scroll_y(old_value, new_value)
        if self._moving:
            return
        self._stale_anchor = None  # the user moved the view: where it was before no longer matters
        at_end = new_value >= self.max_scroll_y
        if at_end != self._following:
            self._following = at_end
            if at_end:
                self._unseen = 0
        if not at_end:
            anchor = self._anchor()
            if anchor is not None:
                before = self._layout.total
                self._measure_from(anchor[0])  # rows come on screen: exact before they are painted
                if self._layout.total != before:
                    self._set_virtual_size()
        if new_value <= 0 < old_value:
            self.post_message(self.TopReached())

    def _on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        super()._on_mouse_scroll_up(event)
        if self.scroll_y <= 0:  # also when everything fits and there is nothing to scroll
            self.post_message(self.TopReached())

    def page_up(self) -> None:
        """Scroll a page up; at the top, ask for older history."""
        if self.scroll_y <= 0:
            self.post_message(self.TopReached())
        else:
            self.scroll_page_up(animate=False)

    def page_down(self) -> None:
        """Scroll a page down."""
        self.scroll_page_down(animate=False)

    def on_click(self, event: Click) -> None:
        """A click on the "N new ↓" row jumps to the newest messages."""
        offset = event.get_content_offset(self)
        if self._unseen and offset is not None and offset.y == self.size.height - 1:
            event.stop()
            self.scroll_to_end()

    # --- rendering ------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (the line API): only rows on screen are ever rendered.

        Each row carries its offsets in the scrollback (as ``Log``'s do), which is what lets a mouse drag
        select text; the selected part is drawn in the screen's selection style.
        """
        self._flush()
        width = self.scrollable_content_region.width
        if self._unseen and not self._following and y == self.size.height - 1:
            return self._new_marker(width)
        row = round(self.scroll_y) + y
        strip = self.render_row(row)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(row)) is not None:
            strip = self._highlight(strip, *span)
        return strip.apply_offsets(0, row)

    # --- selection ------------------------------------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The plain text of the selected rows (only those are rendered), as shown on screen."""
        total = self.row_count
        if not total:
            return None
        first = 0 if selection.start is None else min(selection.start.y, total - 1)
        last = total - 1 if selection.end is None else min(selection.end.y, total - 1)
        text = "\n".join(self.render_row(row).text.rstrip() for row in range(first, last + 1))
        start = None if selection.start is None else Offset(selection.start.x, selection.start.y - first)
        end = None if selection.end is None else Offset(selection.end.x, selection.end.y - first)
        return Selection(start, end).extract(text), "\n"

    def selection_updated(self, _selection: Selection | None) -> None:
        """The selection moved: repaint what is on screen with its highlight."""
        self.refresh()

    def _highlight(self, strip: Strip, start: int, end: int) -> Strip:
        """``strip`` with characters ``start:end`` (``end`` -1: to the end) in the selection style."""
        text = strip.text
        end = len(text) if end == -1 else min(end, len(text))
        if start >= end:
            return strip
        left, right = cell_len(text[:start]), cell_len(text[:end])
        style = self.screen.get_component_rich_style("screen--selection")
        middle = strip.crop(left, right)
        lit = Strip(Segment.apply_style(list(middle), post_style=style), middle.cell_length)
        return Strip.join([strip.crop(0, left), lit, strip.crop(right, strip.cell_length)])

    @property
    def row_count(self) -> int:
        """Rows of the whole scrollback (header included) at the current width."""
        self._flush()
        return self._header_rows + self._layout.total

    def render_row(self, row: int) -> Strip:
        """Render row ``row`` of the whole scrollback (0 is the top) at the current width."""
        self._flush()
        width = self.scrollable_content_region.width
        base = self._rich_base()
        header = self._header_rows
        if row < header and self._list is not None and self._list.header is not None:
            strip = render_header(self._list.header, width, self._style("header"), self._base_style())
            return strip.crop_extend(0, width, base)
        found = self._layout.locate(row - header) if self._layout.avail else None
        if found is None or self._list is None:
            return Strip.blank(width, base)
        index, offset = found
        entry = self._list[index]
        if entry.kind == "gap" and entry.gap is not None and entry.key not in self._gaps_asked:
            self._ask_gap(entry)
        exact = self._layout.exact[index]
        total = self._layout.total
        strips = self._rows_of(index)
        if (not exact or total != self._layout.total) and self._layout.total + header != self.virtual_size.height:
            self.call_later(self._update, anchor=None if self._following else self._anchor())
        if offset >= len(strips):
            return Strip.blank(width, base)
        strip = strips[offset]
        return strip if strip.cell_length == width else strip.crop_extend(0, width, base)

    def _ask_gap(self, entry: Entry) -> None:
        assert entry.gap is not None
        if len(self._gaps_asked) >= _GAPS_ASKED:
            self._gaps_asked.pop(next(iter(self._gaps_asked)))
        self._gaps_asked[entry.key] = None
        self.post_message(self.GapShown(entry.key, *entry.gap))

    def _new_marker(self, width: int) -> Strip:
        strip = render_new_marker(self._unseen, width, self._style("new"), self._base_style())
        return strip.crop_extend(0, width, self._rich_base())

    def _rich_base(self) -> RichStyle:
        """The pane's own style (``rich_style`` walks the DOM each time: ~0.2 ms, so once per theme)."""
        if self._rich is None:
            self._rich = self.rich_style
        return self._rich

    def _base_style(self) -> Style:
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = Style.from_rich_style(self._rich_base())
        return style

    def _style(self, component: str) -> Style:
        """A component's style, looked up once per theme (the lookup walks the CSS: not per row)."""
        style = self._styles.get(component)
        if style is None:
            rich = self.get_component_rich_style(f"message-pane--{component}")
            style = self._styles[component] = Style.from_rich_style(rich)
        return style
