"""Field checks shared by every event: the single place a wire value's type and range is decided.

Each check returns the value (possibly normalised) or raises :class:`InvalidField`. Clients reuse
them to validate input as the user types, so the client and the server agree by construction.
"""

from __future__ import annotations

import re
import unicodedata

from shared import limits
from shared.errors import InvalidField

# Categories refused in names: controls (Cc), format characters such as bidi overrides and
# zero-width joiners (Cf), line and paragraph separators (Zl, Zp), unassigned code points (Cn),
# surrogates (Cs) and private use (Co). A name must look the same in every terminal.
_NAME_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Cs", "Co"})
# Message text may hold newlines and tabs and format characters (ZWJ emoji, RTL marks are real
# text); raw controls are refused. Clients still sanitise what they display.
_TEXT_FORBIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Cc minus newline and tab


def uint(value: object, field: str, maximum: int) -> int:
    """An integer in ``0..maximum`` (bool is not an integer here)."""
    if type(value) is not int:
        raise InvalidField(f"{field} must be an integer")
    if not 0 <= value <= maximum:
        raise InvalidField(f"{field} must be between 0 and {maximum}")
    return value


def optional_uint(value: object, field: str, maximum: int) -> int | None:
    """Like :func:`uint`, but ``None`` (msgpack nil) is allowed."""
    return None if value is None else uint(value, field, maximum)


def string(value: object, field: str, max_length: int, *, min_length: int = 0) -> str:
    """A str of ``min_length..max_length`` code points."""
    if type(value) is not str:
        raise InvalidField(f"{field} must be a string")
    if not min_length <= len(value) <= max_length:
        raise InvalidField(f"{field} must be {min_length} to {max_length} characters long")
    return value


def display_name(value: object, field: str = "name", max_length: int = limits.MAX_NAME_LENGTH) -> str:
    """A person's or group's name: NFC, 1..max_length characters, no controls, no outer spaces."""
    if type(value) is not str:
        raise InvalidField(f"{field} must be a string")
    # Bound the work before normalising: NFC never shrinks text by more than 4x in practice.
    text = unicodedata.normalize("NFC", value[: max_length * 4 + 1])
    if not 1 <= len(text) <= max_length:
        raise InvalidField(f"{field} must be 1 to {max_length} characters long")
    if text != text.strip():
        raise InvalidField(f"{field} must not start or end with spaces")
    if any(unicodedata.category(ch) in _NAME_FORBIDDEN_CATEGORIES for ch in text):
        raise InvalidField(f"{field} must not contain control or invisible characters")
    return text


def group_name(value: object) -> str:
    """A group's name; uniqueness is decided on :func:`group_name_key`."""
    return display_name(value, "group_name", limits.MAX_GROUP_NAME_LENGTH)


def name_key(name: str) -> str:
    """The comparison key for names: case-folded NFKC, so 'Bob', 'BOB' and fullwidth 'Bob' collide."""
    return unicodedata.normalize("NFKC", name).casefold()


group_name_key = name_key


def message_text(value: object) -> str:
    """Chat text: NFC, 1..MAX_TEXT_LENGTH characters, no controls but newline and tab."""
    text = string(value, "text", limits.MAX_TEXT_LENGTH * 4, min_length=1)
    if not text.isascii():  # ASCII is already NFC: skip the normaliser for the common case
        text = unicodedata.normalize("NFC", text)
    if not 1 <= len(text) <= limits.MAX_TEXT_LENGTH:
        raise InvalidField(f"text must be 1 to {limits.MAX_TEXT_LENGTH} characters long")
    if not text.strip():
        raise InvalidField("text must not be blank")
    if match := _TEXT_FORBIDDEN_CONTROLS.search(text):
        raise InvalidField(f"text must not contain control character U+{ord(match.group()):04X}")
    return text


def token(value: object, field: str) -> str:
    """An opaque client-chosen identifier: 1..MAX_TOKEN_LENGTH printable ASCII characters."""
    text = string(value, field, limits.MAX_TOKEN_LENGTH, min_length=1)
    if not (text.isascii() and text.isprintable()):
        raise InvalidField(f"{field} must be printable ASCII")
    return text


def password(value: object) -> str:
    """A group password: 1..MAX_PASSWORD_LENGTH bytes of UTF-8."""
    text = string(value, "password", limits.MAX_PASSWORD_LENGTH, min_length=1)
    if len(text.encode("utf-8", "surrogatepass")) > limits.MAX_PASSWORD_LENGTH:
        raise InvalidField(f"password must be at most {limits.MAX_PASSWORD_LENGTH} bytes")
    return text


def name_list(value: object, field: str = "members") -> tuple[str, ...]:
    """A list of display names, at most MAX_MEMBERS_IN_FRAME long."""
    if not isinstance(value, (list, tuple)):
        raise InvalidField(f"{field} must be an array")
    if len(value) > limits.MAX_MEMBERS_IN_FRAME:
        raise InvalidField(f"{field} must hold at most {limits.MAX_MEMBERS_IN_FRAME} names")
    return tuple(display_name(item, field) for item in value)
