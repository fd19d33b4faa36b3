"""GroupList: the open groups down the left of a chat, with unread counts and a mention marker.

Each row is ``N name  count @``: ``N`` is its Alt+N key (1-9), the count is its unread messages, ``@``
says a message there names you. The group on screen is highlighted. Group names are peer text:
sanitized, and built from parts (never markup).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from chat_tui.activity import Activity, GroupState, unread_label
from chat_tui.sanitize import sanitize_line

MENTION_MARK = "@"
"""After the count of a group where a message names you."""
NAME_CELLS = 12
"""Characters of a group's name shown (the list is 22 cells wide, with its key, count and marker)."""
SWITCH_KEYS = 9
"""Alt+1 ... Alt+9 reach the first nine groups."""


class GroupList(OptionList):
    """The groups of ``activity``, ``current`` highlighted; choosing one posts :class:`GroupPicked`."""

    DEFAULT_CSS = """
    GroupList {
        width: 22;
    }
    """

    class GroupPicked(Message):
        """The user chose a group in the list (click or Enter)."""

        def __init__(self, group_id: int) -> None:
            super().__init__()
            self.group_id = group_id

    def __init__(self, activity: Activity | None, current: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.activity = activity
        self.current = current
        self._stop: Callable[[], None] = _nothing

    def on_mount(self) -> None:
        if self.activity is not None:
            self._stop = self.activity.listen(self.show_groups)
        self.show_groups()

    def on_unmount(self) -> None:
        self._stop()

    def rows(self) -> list[str]:
        """The rows as plain text (what tests and the tmux test read)."""
        return [str(self.get_option_at_index(index).prompt) for index in range(self.option_count)]

    def show_groups(self) -> None:
        """Rebuild the rows from the activity (a handful of groups: cheaper than patching)."""
        groups = list(self.activity.groups.values()) if self.activity is not None else []
        self.clear_options()
        rows = enumerate(groups, 1)
        self.add_options(Option(self._label(number, state), id=str(state.group_id)) for number, state in rows)
        unread = sum(state.unread for state in groups)
        # 20 cells inside the border: the total of unread replaces the count of groups.
        self.border_title = f"Groups · {unread_label(unread)} new" if unread else f"Groups ({len(groups)})"
        for index, state in enumerate(groups):
            if state.group_id == self.current:
                self.highlighted = index

    def _label(self, number: int, state: GroupState) -> Content:
        key = f"{number} " if number <= SWITCH_KEYS else "  "
        name = sanitize_line(state.name)
        if len(name) > NAME_CELLS:  # one row per group: the count and marker must stay in view
            name = name[: NAME_CELLS - 1] + "…"
        here = state.group_id == self.current
        parts: list[Content | tuple[str, str] | str] = [(key, "dim"), (name, "bold" if state.unread or here else "")]
        if state.unread:
            parts += [" ", (unread_label(state.unread), "bold $accent")]
        if state.mentioned:
            parts += [" ", (MENTION_MARK, "bold reverse $warning")]
        return Content.assemble(*parts)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.GroupPicked(int(event.option.id)))


def _nothing() -> None:
    """Nothing to stop (no activity followed)."""
