"""What every form screen shares: field checks from shared/fields.py and an error line.

The checks are the protocol's own validators, so the form refuses exactly what the server would
(notes: "fields.py has validators you must reuse for as-you-type validation").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from chat_tui.sanitize import sanitize_line
from chat_tui.session import describe_refusal, retry_after
from shared import Error, InvalidField, limits

FieldCheck = Callable[[str], object]
"""A check that raises InvalidField when the value is not acceptable."""

SHORT_BELOW = 28
"""Rows: below this, forms show one-row fields and buttons (chat.tcss ``.-short``). With bordered
fields the connect form needs 27 rows; with one-row fields every form fits in 18 (a 60x18 terminal)."""
NARROW_BELOW = 72
"""Columns: below this the member list (24 columns) collapses (chat.tcss ``.-narrow``), so the
messages keep at least 48 columns."""
HEIGHT_BREAKPOINTS: list[tuple[int, str]] = [(0, "-short"), (SHORT_BELOW, "-tall")]
"""For Textual's ``VERTICAL_BREAKPOINTS``: a screen carries the class of the last row count it reaches."""
WIDTH_BREAKPOINTS: list[tuple[int, str]] = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
"""For Textual's ``HORIZONTAL_BREAKPOINTS``: the same by columns."""

FIELD_KEYS: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]
"""Tab and Shift+Tab on a form screen, as priority bindings so they act in key order.

Textual forwards each key to the widget focused when the App reads it and resolves a normal binding
only after the key has bubbled back up to the App. A password manager's burst ``name Tab pw Tab pw``
was therefore all forwarded to the first field before its Tab moved the focus. A priority binding
runs as the App reads the key, so every key after the Tab goes to the next field.
"""


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
            return self.failure(for_people(exc.message))
        except ValueError as exc:
            return self.failure(for_people(str(exc)))
        return self.success()


def whole_number(label: str, maximum: int, minimum: int = 0) -> FieldCheck:
    """A check for decimal digits forming an integer in ``minimum..maximum``."""

    def check(value: str) -> int:
        if not value.strip().isdigit():
            raise InvalidField(f"A {label} is a number.")
        number = int(value)
        if not minimum <= number <= maximum:
            raise InvalidField(f"A {label} is a number from {minimum:,} to {maximum:,}.")
        return number

    return check


group_id = whole_number("group ID", limits.MAX_GROUP_ID, minimum=1)
port = whole_number("port", 65535, minimum=1)


def non_blank(label: str) -> FieldCheck:
    """A check that refuses an empty or all-space value."""

    def check(value: str) -> str:
        if not value.strip():
            raise InvalidField(f"Please enter a {label}.")
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


FIELD_NAMES = {
    "name": "name",
    "group_name": "group name",
    "password": "password",
    "text": "message",
    "group_id": "group ID",
}
"""How a protocol field (shared/fields.py names them in its messages) is called in a sentence."""

_FIELD = r"(?P<field>[a-z_]+)"
_FOR_PEOPLE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), sentence)
    for pattern, sentence in (
        (
            _FIELD + r" must be (?P<low>\d+) to (?P<high>\d+) characters long",
            "A {field} is {low} to {high} characters.",
        ),
        (_FIELD + r" must be at most (?P<high>\d+) bytes", "A {field} is at most {high} bytes long."),
        (_FIELD + r" must be between (?P<low>\d+) and (?P<high>\d+)", "A {field} is a number from {low} to {high}."),
        (_FIELD + r" must not start or end with spaces", "A {field} cannot start or end with a space."),
        (
            _FIELD + r" must not contain control or invisible characters",
            "A {field} cannot contain control or invisible characters.",
        ),
        (_FIELD + r" must not contain ':'", "A {field} cannot contain a colon (:)."),
        (_FIELD + r" must contain a visible letter or digit", "A {field} needs at least one visible letter or digit."),
        (_FIELD + r" must not be blank", "A {field} cannot be blank."),
        (_FIELD + r" must not be empty", "Please enter a {field}."),
        (
            _FIELD + r" must not contain control character (?P<char>U\+[0-9A-F]+)",
            "A {field} cannot contain the control character {char}.",
        ),
    )
)


def for_people(message: str) -> str:
    """A field check's message (``group_name must be 1 to 64 characters long``) as a sentence for
    people (``A group name is 1 to 64 characters.``); a message it does not know comes back as it is.

    shared/ keeps the protocol's wording (the server sends it too); only what a person reads changes.
    """
    for pattern, sentence in _FOR_PEOPLE:
        match = pattern.fullmatch(message.strip())
        if match is None:
            continue
        parts = match.groupdict()
        field = parts.pop("field")
        numbers = {key: f"{int(value):,}" for key, value in parts.items() if key in ("low", "high")}
        return sentence.format(**{**parts, **numbers, "field": FIELD_NAMES.get(field, field.replace("_", " "))})
    return message


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
        sentence = for_people(error.message)
        if sentence != error.message:  # a field check the server ran: the sentence says it all
            return sentence
        return f"The server refused: {describe_refusal(error)}"
    seconds = retry_after(error)
    return ours if seconds is None else f"{ours} Try again in {max(1, math.ceil(seconds))} s."
