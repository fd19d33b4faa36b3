"""MemberList: who is in the group, kept sorted; names are peer text, so they are sanitised.

Our own row is marked with :data:`YOU_MARK`, a separately styled segment holding a ``:``. No name can
produce it: names cannot contain ``:`` (the server refuses it, and :func:`sanitize_name` shows one that
got through anyway as U+FFFD), so a member called "Bob (you)" or "you" cannot pass for us.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.widgets import OptionList

from chat_tui.sanitize import sanitize_name
from chat_tui.widgets.entry_rows import name_style
from shared import fields

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

    @property
    def names(self) -> list[str]:
        """Member names in display order."""
        return sorted(self._names.values(), key=fields.name_key)

    def set_members(self, names: Iterable[str], *, complete: bool = True) -> None:
        """Replace the whole list (from GroupJoined.members, or MembersListed once all pages came).

        ``complete`` False: only the first page is known yet (``more_members``); the count says so.
        """
        self._names = {fields.name_key(name): name for name in names}
        self.complete = complete
        self._rebuild()

    def add(self, name: str) -> None:
        """Add a member (MemberJoined)."""
        self._names[fields.name_key(name)] = name
        self._rebuild()

    def discard(self, name: str) -> None:
        """Remove a member (MemberLeft); unknown names are ignored."""
        self._names.pop(fields.name_key(name), None)
        self._rebuild()

    def _rebuild(self) -> None:
        you = fields.name_key(self.you)
        self.clear_options()
        self.add_options(self._label(name, fields.name_key(name) == you) for name in self.names)
        more = "" if self.complete else "…"  # pages of a long list still to come
        self.border_title = f"Members ({len(self._names)}{more})"

    @staticmethod
    def _label(name: str, is_you: bool) -> Content:
        shown = sanitize_name(name)
        if is_you:  # the pane shows our own name in the accent colour, not a palette one
            return Content.assemble((YOU_MARK, "reverse bold"), " ", shown)
        return Content.styled(shown, name_style(shown))  # the colour the pane gives the same sender
