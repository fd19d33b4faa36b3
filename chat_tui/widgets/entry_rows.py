"""How one record of the message pane looks: its wrapped body and its rendered rows.

Lines are built from parts (``Content.assemble``/``Content.styled``), never from markup, so peer text
can never become markup (notes/tui.md §2.1). Styles come from the pane's component classes through a
``style`` lookup, so these helpers hold no widget state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from textual.color import Color
from textual.content import Content
from textual.strip import Strip
from textual.style import Style

from chat_tui.name_colours import name_colour
from chat_tui.widgets.pane_layout import Entry

StyleOf = Callable[[str], Style]
"""The style of a pane component by its short name ("time", "sender", "marker", ...)."""
TIME_WIDTH = 6
"""Cells of the time column: "HH:MM" plus a space; wrapped rows are indented by it (hanging indent)."""
_PENDING_MARK = " ··· "
_FAILED_MARK = "  !  "
_DELAYED_MARK = "slow "
_MARKS = {"pending": _PENDING_MARK, "delayed": _DELAYED_MARK, "failed": _FAILED_MARK}


def entry_body(entry: Entry, style: StyleOf) -> Content:
    """The wrappable part of an entry, built from parts: peer text never becomes markup."""
    if entry.kind in ("notice", "error"):
        return Content.styled(entry.text, style(entry.kind))
    sender_style = style("own") if entry.own else style("sender") + name_style(entry.sender)
    text: Content | str = entry.text
    if entry.state != "sent":
        text = Content.styled(entry.text, style("pending"))
    return Content.assemble((entry.sender, sender_style), ": ", text).expand_tabs(4)


@functools.lru_cache(maxsize=1024)
def name_style(name: str) -> Style:
    """The foreground of ``name``: its stable, readable colour (:mod:`chat_tui.name_colours`)."""
    return Style(foreground=Color.parse(name_colour(name)))


def wrap_entry(entry: Entry, width: int, style: StyleOf) -> list[Content]:
    """The body of ``entry`` wrapped for a pane ``width`` cells wide (less the time column)."""
    return entry_body(entry, style).wrap(max(width - TIME_WIDTH, 8))


def entry_height(entry: Entry, width: int, style: StyleOf) -> int:
    """Rows ``entry`` takes at ``width``: a marker is one rule, anything else its wrapped lines."""
    return 1 if entry.kind == "marker" else len(wrap_entry(entry, width, style))


def render_entry(entry: Entry, width: int, style: StyleOf, base: Style) -> list[Strip]:
    """The rows of ``entry`` at ``width``: a rule for a marker, else the time column and the wrapped body."""
    if entry.kind == "marker":
        return [_render_rule(entry.text, width, style("marker"), base)]
    time = _MARKS.get(entry.state, entry.time.ljust(TIME_WIDTH - 1))
    time_style = style("error" if entry.state == "failed" else "time")
    first = Content.styled(time, time_style).pad_right(1)
    indent = Content(" " * TIME_WIDTH)
    strips = []
    for number, line in enumerate(wrap_entry(entry, width, style)):
        row = (first if number == 0 else indent) + line
        strips.append(Strip(row.render_segments(base), row.cell_length))
    return strips


def render_header(text: str, width: int, style: Style, base: Style) -> Strip:
    """The header row: ``text`` centred in ``width`` cells."""
    header = Content.styled(text, style).center(width)
    return Strip(header.render_segments(base))


def _render_rule(text: str, width: int, style: Style, base: Style) -> Strip:
    label = f" {text} " if text else ""
    side = max(width - len(label), 2)
    rule = "─" * (side // 2) + label + "─" * (side - side // 2)
    line = Content.styled(rule, style).truncate(width)
    return Strip(line.render_segments(base), line.cell_length)
