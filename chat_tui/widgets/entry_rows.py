"""How one entry of the message pane looks: its wrapped body and its rendered rows.

Lines are built from parts (``Content.assemble``/``Content.styled``), never from markup, so peer text
can never become markup (notes/tui.md §2.1), and every string is sanitized here, at render time, so the
timeline may hold peer text as it came (sanitizing twice is harmless: control pictures are not controls).
Styles come from the pane's component classes through a ``style`` lookup, so these helpers hold no
widget state. Wrapping happens once per entry and width: the rows rendered are also its measured height.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Protocol

from textual.color import Color
from textual.content import Content
from textual.strip import Strip
from textual.style import Style

from chat_tui.mentions import mention_spans
from chat_tui.name_colours import name_colour
from chat_tui.sanitize import sanitize, sanitize_line, sanitize_name

StyleOf = Callable[[str], Style]
"""The style of a pane component by its short name ("time", "sender", "marker", ...)."""
TIME_WIDTH = 6
"""Cells of the time column: "HH:MM" plus a space; wrapped rows are indented by it (hanging indent)."""
MIN_WRAP = 8
"""Cells a body wraps in at the least, however narrow the pane: narrower still, rows are cropped."""
_PENDING_MARK = " ··· "
_FAILED_MARK = "  !  "
_DELAYED_MARK = "slow "
_MARKS = {"pending": _PENDING_MARK, "delayed": _DELAYED_MARK, "failed": _FAILED_MARK}
_RULES = ("marker", "gap")
"""Kinds drawn as one full-width rule with their text in it."""


class Shown(Protocol):
    """What rendering reads from an entry (:class:`chat_tui.session.entries.Entry` has all of it)."""

    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def own(self) -> bool: ...
    @property
    def state(self) -> str: ...


def wrap_width(width: int) -> int:
    """Cells a body wraps in, in a pane ``width`` cells wide (less the time column)."""
    return max(width - TIME_WIDTH, MIN_WRAP)


def entry_size(entry: Shown) -> tuple[int, int]:
    """(cells, lines) of ``entry``'s body: what a row estimate needs, with no wrapping.

    For one line of ASCII ``cells`` is exact (``len``), so a line that fits is known to take one row;
    otherwise it is an upper bound for one line (wide characters count 2, a tab its widest expansion),
    and over several lines a rough total that rendering corrects. A rule is always one row.
    """
    if entry.kind in _RULES:
        return 0, 1
    text = entry.text
    lines = text.count("\n") + 1
    body = text if entry.kind in ("notice", "error") else f"{entry.sender}: {text}"
    if body.isascii():
        return len(body) + 3 * body.count("\t"), lines
    return 2 * len(body), lines  # every character as wide as it can be: never wrongly "fits"


def entry_body(entry: Shown, style: StyleOf, you: str = "", *, name_colours: bool = True, dark: bool = True) -> Content:
    """The wrappable part of an entry, built from parts: peer text never becomes markup.

    ``you``: our name; where someone else's message names it, the name is highlighted (``mention``).
    ``name_colours``: each sender in its own colour (the setting of that name), else all in one.
    """
    text = sanitize(entry.text)
    if entry.kind in ("notice", "error"):
        return Content.styled(text, style(entry.kind))
    sender_style = style("own") if entry.own else style("sender")
    if name_colours and not entry.own:
        sender_style += name_style(entry.sender, dark=dark)
    body: Content | str = Content.styled(text, style("pending")) if entry.state != "sent" else text
    spans = mention_spans(text, you) if you and not entry.own else []
    if spans:
        body = Content(body) if isinstance(body, str) else body
        for start, end in spans:
            body = body.stylize(style("mention"), start, end)
    sender = sanitize_name(entry.sender)
    if entry.kind == "action":
        return Content.assemble("* ", (sender, sender_style), " ", body).expand_tabs(4)
    return Content.assemble((sender, sender_style), ": ", body).expand_tabs(4)


@functools.lru_cache(maxsize=1024)
def name_style(name: str, *, dark: bool = True) -> Style:
    """The foreground of ``name``: its stable colour, readable on a dark or a light theme (``name_colours``)."""
    return Style(foreground=Color.parse(name_colour(name, dark=dark)))


def wrap_entry(
    entry: Shown, width: int, style: StyleOf, you: str = "", *, name_colours: bool = True, dark: bool = True
) -> list[Content]:
    """The body of ``entry`` wrapped for a pane ``width`` cells wide (less the time column).

    One line that fits is returned as it is: wrapping it would give the same line at several times
    the cost, and most chat lines fit.
    """
    body, avail = entry_body(entry, style, you, name_colours=name_colours, dark=dark), wrap_width(width)
    if body.cell_length <= avail and "\n" not in body.plain:
        return [body]
    return body.wrap(avail)


def render_entry(
    entry: Shown,
    width: int,
    style: StyleOf,
    base: Style,
    you: str = "",
    *,
    times: bool = True,
    name_colours: bool = True,
    dark: bool = True,
) -> list[Strip]:
    """The rows of ``entry`` at ``width``: a rule for a marker or gap, else the time column and the body.

    ``times`` off leaves the time column blank (a pending or failed mark still shows there), so turning
    timestamps off or on changes no entry's height.
    """
    if entry.kind in _RULES:
        return [render_rule(entry.text, width, style("marker"), base)]
    shown_time = sanitize_line(entry.time) if times else ""
    time = _MARKS.get(entry.state, shown_time[: TIME_WIDTH - 1].ljust(TIME_WIDTH - 1))
    time_style = style("error" if entry.state == "failed" else "time")
    first = Content.styled(time, time_style).pad_right(1)
    indent = Content(" " * TIME_WIDTH)
    strips = []
    for number, line in enumerate(wrap_entry(entry, width, style, you, name_colours=name_colours, dark=dark)):
        row = (first if number == 0 else indent) + line
        strips.append(Strip(row.render_segments(base), row.cell_length))
    return strips


def render_header(text: str, width: int, style: Style, base: Style) -> Strip:
    """The header row: ``text`` centred in ``width`` cells."""
    header = Content.styled(sanitize_line(text), style).center(width)
    return Strip(header.render_segments(base))


def render_rule(text: str, width: int, style: Style, base: Style) -> Strip:
    """A full-width rule with ``text`` in its middle (``text`` may be empty)."""
    text = sanitize_line(text)
    label = f" {text} " if text else ""
    side = max(width - len(label), 2)
    rule = "─" * (side // 2) + label + "─" * (side - side // 2)
    line = Content.styled(rule, style).truncate(width)
    return Strip(line.render_segments(base), line.cell_length)


def day_label(day: date) -> str:
    """The text of a day rule: "Monday 30 November 2026" (no zero-padded day, unlike ``%d``)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def full_time(moment: datetime) -> str:
    """A message's full date and time, as a tooltip shows it: "Monday 30 November 2026, 09:05:12"."""
    return f"{day_label(moment.date())}, {moment:%H:%M:%S}"


def render_new_marker(count: int, width: int, style: Style, base: Style) -> Strip:
    """The "N new ↓" row shown at the bottom while scrolled away from new messages, right-aligned."""
    label = Content.styled(f" {count} new ↓ ", style)
    line = label.pad_left(max(0, width - label.cell_length - 1)).pad_right(1)
    return Strip(line.render_segments(base))
