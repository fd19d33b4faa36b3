"""MemberList: who is in the group, kept sorted; names are peer text, so they are sanitised."""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.widgets import OptionList

from chat_tui.sanitize import sanitize_line
from shared import fields


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

    @property
    def names(self) -> list[str]:
        """Member names in display order."""
        return sorted(self._names.values(), key=fields.name_key)

    def set_members(self, names: Iterable[str]) -> None:
        """Replace the whole list (from GroupJoined.members)."""
        self._names = {fields.name_key(name): name for name in names}
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
        self.border_title = f"Members ({len(self._names)})"

    @staticmethod
    def _label(name: str, is_you: bool) -> Content:
        label = Content(sanitize_line(name))
        return Content.assemble(label, (" (you)", "dim")) if is_you else label
