"""Command palette (Ctrl+P) providers: every slash command, and a fuzzy switcher over the open groups.

Textual's own system commands (theme, keys, quit, ...) stay: these are added beside them. A command
that takes nothing runs at once; one that takes an argument puts ``/name `` in the composer to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from chat_tui.commands import COMMANDS, Command
from chat_tui.sanitize import sanitize_line

if TYPE_CHECKING:
    from chat_tui.screens.chat import ChatScreen


class SlashCommands(Provider):
    """The slash-command table, on a chat screen."""

    def _chat(self) -> ChatScreen | None:
        # Only ChatScreen lists this provider (its COMMANDS); the check keeps a stray use harmless.
        return cast("ChatScreen", self.screen) if hasattr(self.screen, "run_command") else None

    def _choose(self, command: Command) -> Callable[[], None]:
        return partial(_choose, self._chat(), command)

    async def discover(self) -> Hits:
        """Every command, in the table's order."""
        if self._chat() is None:
            return
        for command in COMMANDS:
            yield DiscoveryHit(Content(command.usage), self._choose(command), text=command.usage, help=command.summary)

    async def search(self, query: str) -> Hits:
        """The commands whose usage or summary fuzzily match ``query``."""
        if self._chat() is None:
            return
        matcher = self.matcher(query)
        for command in COMMANDS:
            score = max(matcher.match(command.usage), matcher.match(command.summary) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(command.usage), self._choose(command), help=command.summary)


def _choose(chat: ChatScreen | None, command: Command) -> None:
    if chat is None:
        return
    if command.argument == "none":
        chat.run_command(f"/{command.name}")
    else:
        chat.composer.load_text(f"/{command.name} ")
        chat.composer.move_cursor(chat.composer.document.end)
        chat.composer.focus()


class GroupSwitcher(Provider):
    """Open groups by name or ID: choosing one shows its chat."""

    def _groups(self) -> list[tuple[int, str]]:
        chats = getattr(self.app, "chats", {})
        return sorted((group_id, sanitize_line(chat.group_name)) for group_id, chat in chats.items())

    def _show(self, group_id: int) -> Callable[[], None]:
        return partial(_show_group, self.app, group_id)

    async def discover(self) -> Hits:
        """Every open group."""
        for group_id, name in self._groups():
            label = f"Go to {name} ({group_id})"
            yield DiscoveryHit(Content(label), self._show(group_id), text=label, help="switch to this group")

    async def search(self, query: str) -> Hits:
        """Open groups whose name or ID fuzzily match ``query``."""
        matcher = self.matcher(query)
        for group_id, name in self._groups():
            label = f"Go to {name} ({group_id})"
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), self._show(group_id), help="switch to this group")


def _show_group(app: object, group_id: int) -> None:
    show = getattr(app, "show_group", None)
    if callable(show):
        show(group_id)
