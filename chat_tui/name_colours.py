"""A stable, readable colour per member name: pure, no Textual import.

A name's colour is ``PALETTE[crc32(name_key(name)) % len(PALETTE)]``. ``zlib.crc32`` is the same in
every run (Python's ``hash`` of a str is randomised per process), and ``name_key`` makes "Bob" and
"BOB" one colour, as they are one member. Every palette colour has a WCAG 2 contrast ratio of at least
:data:`MIN_CONTRAST` against the backgrounds names are drawn on (the message pane on ``$background``,
the member list on ``$surface`` of the default ``textual-dark`` theme); a unit test checks it.
"""

from __future__ import annotations

import zlib

from shared import fields

BACKGROUNDS = ("#121212", "#1E1E1E")
"""textual-dark's ``$background`` (message pane) and ``$surface`` (member list)."""
MIN_CONTRAST = 4.5
"""WCAG 2 AA for normal text."""
PALETTE = (
    "#5FAFFF",  # blue
    "#5FD75F",  # green
    "#FF8787",  # red
    "#D7AFFF",  # violet
    "#5FD7D7",  # cyan
    "#FFD75F",  # yellow
    "#FF87D7",  # pink
    "#AFD75F",  # lime
    "#87AFD7",  # steel
    "#FFAF87",  # peach
)
"""Distinct hues, each readable on :data:`BACKGROUNDS` (own messages use the theme's accent instead)."""
LIGHT_BACKGROUNDS = ("#E0E0E0", "#D8D8D8", "#D0D0D0", "#FDF6E3", "#EEE8D5", "#EFF1F5", "#E6E9EF")
"""The backgrounds and surfaces of Textual's light themes (textual-light, solarized-light, catppuccin-latte)."""
LIGHT_PALETTE = (
    "#0059A4",  # blue
    "#1A661A",  # green
    "#B00020",  # red
    "#763CAD",  # violet
    "#00626B",  # cyan
    "#6E5400",  # yellow, darkened to ochre
    "#9E2B63",  # pink
    "#3E6100",  # lime
    "#375B84",  # steel
    "#8D441A",  # peach, darkened to rust
)
"""The same hues in the same order, darkened until each reads at :data:`MIN_CONTRAST` on every light background:
a name keeps its hue when the theme changes."""


def name_colour(name: str, *, dark: bool = True) -> str:
    """The colour of ``name`` as ``#RRGGBB`` for a dark (or light) theme: the same in every run, for every
    spelling of one name, and the same hue in both."""
    palette = PALETTE if dark else LIGHT_PALETTE
    return palette[zlib.crc32(fields.name_key(name).encode("utf-8")) % len(palette)]


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#RRGGBB`` colour (0 black … 1 white)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours: (L1 + 0.05) / (L2 + 0.05), lighter over darker."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
