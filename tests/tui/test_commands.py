"""The slash-command table: what is a command, what is text, and what a typo gets told."""

from __future__ import annotations

import pytest

from chat_tui.commands import COMMANDS, Invocation, PlainText, Refusal, complete, help_lines, parse


@pytest.mark.parametrize(
    ("line", "name", "argument"),
    [
        ("/join 12", "join", "12"),
        ("/JOIN   12  ", "join", "12"),
        ("/me waves at everyone", "me", "waves at everyone"),
        ("/me waves\nand then leaves", "me", "waves\nand then leaves"),
        ("/away", "away", ""),
        ("/away lunch", "away", "lunch"),
        ("/leave", "leave", ""),
        ("/help", "help", ""),
        ("/search Hello World", "search", "Hello World"),
    ],
)
def test_known_commands_parse_with_their_argument(line: str, name: str, argument: str) -> None:
    parsed = parse(line)
    assert isinstance(parsed, Invocation)
    assert (parsed.command.name, parsed.argument) == (name, argument)


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("hello", "hello"),
        ("//me is not an action", "/me is not an action"),
        ("//", "/"),
        ("/", "/"),
        ("/ spaced", "/ spaced"),
        ("/1 is a number", "/1 is a number"),
        (":) /me", ":) /me"),
    ],
)
def test_everything_else_is_text_to_send(line: str, text: str) -> None:
    assert parse(line) == PlainText(text)


def test_an_unknown_command_is_refused_with_a_hint_never_sent() -> None:
    refused = parse("/hlep")
    assert isinstance(refused, Refusal)
    assert "/hlep is not a command" in refused.reason
    assert "did you mean /help?" in refused.reason
    assert "//hlep" in refused.reason
    far = parse("/usr/bin/env is a path")
    assert isinstance(far, Refusal)
    assert "did you mean" not in far.reason


def test_missing_or_extra_arguments_are_refused_with_the_usage() -> None:
    missing = parse("/join")
    assert isinstance(missing, Refusal)
    assert missing.reason.startswith("/join ID")
    extra = parse("/quit now")
    assert isinstance(extra, Refusal)
    assert "takes nothing" in extra.reason


def test_completion_and_help_cover_every_command() -> None:
    assert complete("/j") == ["/join"]
    assert complete("/") == [f"/{c.name}" for c in COMMANDS]
    assert complete("//j") == []
    assert complete("j") == []
    lines = help_lines()
    assert len(lines) == len(COMMANDS) + 1
    for command in COMMANDS:
        assert any(line.startswith(command.usage) for line in lines)
