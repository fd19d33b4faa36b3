"""Slash commands: one table that the composer's parser, ``/help``, Tab completion and the palette all read.

A line that starts with ``/`` and a letter is a command and is never sent as a message: an unknown
one is refused with a hint, so ``/hlep`` cannot reach the whole group. ``//text`` sends ``/text``
literally, as in irssi and weechat. No Textual here: the rules are tested as plain functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Argument = Literal["none", "optional", "required"]


@dataclass(frozen=True, slots=True)
class Command:
    """One slash command: what it is called, what it takes, and the line ``/help`` shows for it."""

    name: str
    argument: Argument
    usage: str
    summary: str


COMMANDS: tuple[Command, ...] = (
    Command("join", "required", "/join ID", "join a group by its ID (asks for the password)"),
    Command("create", "required", "/create NAME", "create a group (asks for a password)"),
    Command("leave", "none", "/leave", "leave this group"),
    Command("nick", "required", "/nick NAME", "change your name in this group; the others see it announced"),
    Command("me", "required", "/me ACTION", "send an action line: /me waves shows as * you waves"),
    Command("who", "none", "/who", "list the members of this group"),
    Command("search", "required", "/search TEXT", "search this group's history"),
    Command("away", "optional", "/away [REASON]", "mark yourself away; /away again to come back"),
    Command("clear", "none", "/clear", "clear the message pane (history stays on the server)"),
    Command("help", "none", "/help", "list these commands"),
    Command("quit", "none", "/quit", "quit the app"),
)
_BY_NAME = {command.name: command for command in COMMANDS}
_COMMAND_LINE = re.compile(r"/(\S+)\s*(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Invocation:
    """A known command with its argument ("" when it takes none)."""

    command: Command
    argument: str


@dataclass(frozen=True, slots=True)
class PlainText:
    """Not a command: send ``text`` as a message (``//x`` arrives here as ``/x``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command line that cannot run; ``reason`` says why and what to type instead."""

    reason: str


def parse(line: str) -> Invocation | PlainText | Refusal:
    """What the composer's ``line`` asks for."""
    if line.startswith("//"):
        return PlainText(line[1:])
    if not (line.startswith("/") and line[1:2].isalpha()):
        return PlainText(line)
    match = _COMMAND_LINE.fullmatch(line)
    assert match is not None  # "/" and a letter always match
    word, argument = match.group(1), match.group(2).strip()
    command = _BY_NAME.get(word.casefold())
    if command is None:
        hint = _closest(word.casefold())
        suggestion = f"did you mean {hint}? " if hint else ""
        return Refusal(f"/{word} is not a command: {suggestion}/help lists them; //{word} sends the text as it is")
    if command.argument == "required" and not argument:
        return Refusal(f"{command.usage}: /{command.name} needs {command.usage.split(' ', 1)[1]}")
    if command.argument == "none" and argument:
        return Refusal(f"/{command.name} takes nothing after it; //{command.name} sends the text as it is")
    return Invocation(command, argument)


def complete(prefix: str) -> list[str]:
    """Commands whose ``/name`` starts with ``prefix`` (which starts with ``/``), for Tab."""
    if not prefix.startswith("/") or prefix.startswith("//"):
        return []
    wanted = prefix[1:].casefold()
    return [f"/{command.name}" for command in COMMANDS if command.name.startswith(wanted)]


def help_lines() -> list[str]:
    """What ``/help`` prints: one aligned line per command, then how to send a literal slash."""
    width = max(len(command.usage) for command in COMMANDS)
    lines = [f"{command.usage.ljust(width)}  {command.summary}" for command in COMMANDS]
    lines.append(f"{'//TEXT'.ljust(width)}  send TEXT starting with a /, as it is")
    return lines


def _closest(word: str) -> str | None:
    """The command a typo most likely meant: same first letter or a one-letter slip."""
    candidates = [c.name for c in COMMANDS if _distance(word, c.name) <= 1 + (len(c.name) > 4)]
    return f"/{min(candidates, key=lambda name: _distance(word, name))}" if candidates else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, with adjacent swaps counted as one (``/hlep`` is one slip from ``/help``)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
