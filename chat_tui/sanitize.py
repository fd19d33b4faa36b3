"""Make peer text safe to display: the one place untrusted strings lose their terminal controls.

Textual passes ESC, OSC, C1 and bidi controls straight through to the terminal (notes/tui.md §0.3),
so a peer could retitle our window, write to the clipboard or reorder a line to lie about who said
what. Every string that came over the wire goes through :func:`sanitize` before any widget sees it.
Controls are replaced with visible placeholders rather than dropped, so tampering stays visible.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
"""Shown for C1 controls and invisible direction changes, which have no control picture."""

_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# U+2028/U+2029 break lines in some terminals but not in Textual's wrapping: treat them as controls.
_LINE_SEPARATORS = "\u2028\u2029"


def _build_table(keep: str) -> dict[int, str]:
    """A str.translate table: C0 -> control pictures (U+2400 + code), DEL -> U+2421, C1/bidi -> U+FFFD."""
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
    table[0x7F] = "\u2421"
    table.update(dict.fromkeys(range(128, 160), REPLACEMENT))
    table.update({ord(ch): REPLACEMENT for ch in _BIDI_CONTROLS + _LINE_SEPARATORS})
    for ch in keep:
        del table[ord(ch)]
    return table


_TEXT_TABLE = _build_table(keep="\n\t")
_LINE_TABLE = _build_table(keep="")


def sanitize(text: str) -> str:
    """Return ``text`` with every terminal control replaced by a visible placeholder.

    Newline and tab survive (chat messages may span lines); ESC becomes ␛, other C0 controls their
    control pictures, DEL ␡, and C1 controls and bidi overrides, isolates and marks U+FFFD.
    """
    return text.translate(_TEXT_TABLE)


def sanitize_line(text: str) -> str:
    """Like :func:`sanitize`, but newline and tab are replaced too: for titles and errors."""
    return text.translate(_LINE_TABLE)


def sanitize_name(name: str) -> str:
    """Like :func:`sanitize_line`, and a ``:`` becomes U+FFFD: for a person's name.

    Names cannot hold ``:`` (the server refuses it), which is what keeps a ``Name: text`` line and the
    UI's own markers (``you:``) unforgeable. A name with one can only come from a server that predates
    the rule or lies; it is shown marked, so it cannot pose as a sender followed by text.
    """
    return sanitize_line(name).replace(":", REPLACEMENT)
