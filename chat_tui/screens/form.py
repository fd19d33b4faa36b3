"""What every form screen shares: field checks from shared/fields.py and an error line.

The checks are the protocol's own validators, so the form refuses exactly what the server would
(notes: "fields.py has validators you must reuse for as-you-type validation").
"""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from chat_tui.net import describe_refusal, retry_after
from chat_tui.sanitize import sanitize_line
from shared import Error, InvalidField, limits

FieldCheck = Callable[[str], object]
"""A check that raises InvalidField when the value is not acceptable."""


class FieldValidator(Validator):
    """Adapts a ``shared.fields`` check to Textual's Input validation (as you type)."""

    def __init__(self, check: FieldCheck) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        """Run the check; its InvalidField message becomes the failure description."""
        try:
            self.check(value)
        except InvalidField as exc:
            return self.failure(exc.message)
        except ValueError as exc:
            return self.failure(str(exc))
        return self.success()


def whole_number(label: str, maximum: int, minimum: int = 0) -> FieldCheck:
    """A check for decimal digits forming an integer in ``minimum..maximum``."""

    def check(value: str) -> int:
        if not value.strip().isdigit():
            raise InvalidField(f"{label} must be a number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise InvalidField(f"{label} must be between {minimum} and {maximum}")
        return number

    return check


group_id = whole_number("group ID", limits.MAX_GROUP_ID, minimum=1)
port = whole_number("port", 65535, minimum=1)


def non_blank(label: str) -> FieldCheck:
    """A check that refuses an empty or all-space value."""

    def check(value: str) -> str:
        if not value.strip():
            raise InvalidField(f"{label} must not be empty")
        return value

    return check


def both(first: FieldCheck, second: FieldCheck) -> FieldCheck:
    """A check that runs ``first`` then ``second`` (e.g. a clear "empty" message before the rest)."""

    def check(value: str) -> object:
        first(value)
        return second(value)

    return check


def field(check: FieldCheck, *, id: str, placeholder: str, value: str = "", password: bool = False) -> Input:
    """An Input validated by ``check`` on every change."""
    return Input(
        value,
        placeholder=placeholder,
        id=id,
        password=password,
        validators=[FieldValidator(check)],
        validate_on=["changed", "submitted"],
    )


def first_problem(inputs: list[Input]) -> tuple[Input, str] | None:
    """The first input whose value fails validation, with the reason, or None if all pass."""
    for widget in inputs:
        result = widget.validate(widget.value)
        if result is not None and not result.is_valid:
            return widget, "; ".join(result.failure_descriptions)
    return None


def show_error(label: Label, text: str) -> None:
    """Show ``text`` (which may come from the server) literally in ``label``; empty hides it."""
    label.update(Content(sanitize_line(text)))
    label.set_class(bool(text), "-visible")


REFUSALS = {
    "bad_credentials": "Wrong group ID or password.",
    "name_taken": "Someone in that group already uses your name; reconnect under another name.",
    "group_name_taken": "A group with that name already exists; pick another name.",
}
"""What to tell the user for a refusal code; any other code shows the server's own message."""


def refusal_text(error: Error) -> str:
    """The sentence a dialog shows for an Error reply (the server's part is shown literally), with
    "try again in N s" when the server said when (``retry_after_ms``)."""
    ours = REFUSALS.get(error.code)
    if ours is None:
        return f"The server refused: {describe_refusal(error)}"
    seconds = retry_after(error)
    return ours if seconds is None else f"{ours} Try again in {max(1, math.ceil(seconds))} s."
