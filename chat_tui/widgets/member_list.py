"""MemberList: who is in the group, kept sorted; names are peer text, so they are sanitised.

Our own row is marked with :data:`YOU_MARK`, a separately styled segment holding a ``:``. No name can
produce it: names cannot contain ``:`` (the server refuses it, and :func:`sanitize_name` shows one that
got through anyway as U+FFFD), so a member called "Bob (you)" or "you" cannot pass for us.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from textual.content import Content
from textual.widgets import OptionList

from chat_tui.sanitize import sanitize_name
from chat_tui.widgets.entry_rows import name_style
from shared import fields

TYPING_MARK = "✎"
"""After the name of a member who is typing."""
YOU_MARK = "you:"
"""Shown before our own name, in reverse video."""


class MemberList(OptionList):
    """The members of one group, sorted case-insensitively; ``you`` is marked."""

    DEFAULT_CSS = """
    MemberList {
        width: 24;
    }
    """

    def __init__(self, you: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.you = you
        self._names: dict[str, str] = {}  # name_key -> name, so "Bob" and "BOB" are one member
        self.complete = True
        self.away: dict[str, str] = {}
        self.typing: list[str] = []
        self.filter_text = ""
        """Only names containing this (ignoring case) are listed; "" lists all."""

    @property
    def names(self) -> list[str]:
        """Member names in display order."""
        return sorted(self._names.values(), key=fields.name_key)

    def set_members(
        self,
        names: Iterable[str],
        *,
        complete: bool = True,
        away: Mapping[str, str] | None = None,
        typing: Collection[str] = (),
    ) -> None:
        """Replace the whole list (from GroupJoined.members, or MembersListed once all pages came).

        ``complete`` False: only the first page is known yet (``more_members``); the count says so.
        ``away``: members marked away, with their reasons (dimmed, "away"); ``typing``: who is typing (✎).
        """
        self._names = {fields.name_key(name): name for name in names}
        self.complete = complete
        self.away = dict(away or {})
        self.typing = list(typing)
        self._rebuild()

    def filter(self, text: str) -> None:
        """List only the names containing ``text``, ignoring case (the filter field above the list)."""
        self.filter_text = text.strip()
        self._rebuild()

    def add(self, name: str) -> None:
        """Add a member (MemberJoined)."""
        self._names[fields.name_key(name)] = name
        self._rebuild()

    def discard(self, name: str) -> None:
        """Remove a member (MemberLeft); unknown names are ignored."""
        self._names.pop(fields.name_key(name), None)
        self._rebuild()

    def on_mount(self) -> None:
        # Names are coloured for the theme's lightness: a light theme needs the darker palette.
        self.watch(self.app, "theme", lambda _theme: self._rebuild(), init=False)

    def _dark_theme(self) -> bool:
        try:
            return self.app.current_theme.dark
        except RuntimeError:  # no running app (a label built on its own): the default theme is dark
            return True

    def _rebuild(self) -> None:
        you = fields.name_key(self.you)
        self.clear_options()
        wanted = self.filter_text.casefold()
        shown = [name for name in self.names if wanted in name.casefold()]
        self.add_options(self._label(name, fields.name_key(name) == you) for name in shown)
        more = "" if self.complete else "…"  # pages of a long list still to come
        count = f"{len(shown)}/{len(self._names)}" if wanted else str(len(self._names))
        self.border_title = f"Members ({count}{more})"
        self.border_subtitle = Content(typing_line(self.typing))  # names: never markup

    def _label(self, name: str, is_you: bool) -> Content:
        shown = sanitize_name(name)
        if is_you:  # the pane shows our own name in the accent colour, not a palette one
            label = Content.assemble((YOU_MARK, "reverse bold"), " ", shown)
        else:
            # The colour the pane gives the same sender, in the theme's lightness.
            label = Content.styled(shown, name_style(shown, dark=self._dark_theme()))
        if name in self.typing:
            label = Content.assemble(label, (f" {TYPING_MARK}", "bold"))
        if name in self.away:
            label = Content.assemble(label.stylize("dim"), (" away", "dim italic"))
        return label


def typing_line(names: list[str]) -> str:
    """ "Bob is typing…", "Bob and Eve are typing…", "4 people are typing…" (names sanitized)."""
    shown = [sanitize_name(name) for name in names]
    if not shown:
        return ""
    if len(shown) == 1:
        return f"{shown[0]} is typing…"
    if len(shown) == 2:
        return f"{shown[0]} and {shown[1]} are typing…"
    return f"{len(shown)} people are typing…"
