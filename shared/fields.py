"""Field checks shared by every event: the single place a wire value's type and range is decided.

Each check returns the value (possibly normalised) or raises :class:`InvalidField`. Clients reuse
them to validate input as the user types, so the client and the server agree by construction.
"""

from __future__ import annotations

import bisect
import functools
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

# Unicode's White_Space property (PropList.txt), exactly: Python's str.isspace() differs from it
# (it adds U+001C..U+001F), and a spec another language implements needs one exact set.
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, unchanged since 14.0),
# as sorted inclusive ranges: characters a renderer shows as nothing (U+200B, U+3164 HANGUL FILLER).
_DEFAULT_IGNORABLE_STARTS, _DEFAULT_IGNORABLE_ENDS = zip(
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    strict=True,
)  # fmt: skip
# Characters that would let a name forge a line of the plain client ("Alice: I resign").
_NAME_FORBIDDEN_CHARACTERS = frozenset(":")


def is_default_ignorable(char: str) -> bool:
    """Whether ``char`` has Unicode's Default_Ignorable_Code_Point property."""
    point = ord(char)
    index = bisect.bisect_right(_DEFAULT_IGNORABLE_STARTS, point) - 1
    return index >= 0 and point <= _DEFAULT_IGNORABLE_ENDS[index]


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only White_Space and Default_Ignorable_Code_Point characters."""
    first = text[:1]
    if first.isascii() and first.isalnum():
        return False  # the common case, decided by the first character without the general walk
    return all(char in WHITE_SPACE or is_default_ignorable(char) for char in text)


def _has_visible_letter_or_digit(text: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" and not is_default_ignorable(char) for char in text)


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


def relayed_name(value: object, field: str = "name", max_length: int = limits.MAX_NAME_LENGTH) -> str:
    """A name as a server relays it: NFC, 1..max_length characters, no White_Space at either end, no
    controls or invisible characters (categories in _NAME_FORBIDDEN_CATEGORIES).

    The rules every name has always met. A server keeps names accepted under earlier, looser rules
    (a stored sender "Bob: x"), and a client that refused them would refuse its own history.
    """
    if type(value) is not str:
        raise InvalidField(f"{field} must be a string")
    # Bound the work before normalising: NFC never shrinks text by more than 4x in practice.
    text = unicodedata.normalize("NFC", value[: max_length * 4 + 1])
    if not 1 <= len(text) <= max_length:
        raise InvalidField(f"{field} must be 1 to {max_length} characters long")
    if text[0] in WHITE_SPACE or text[-1] in WHITE_SPACE:
        raise InvalidField(f"{field} must not start or end with spaces")
    if any(unicodedata.category(ch) in _NAME_FORBIDDEN_CATEGORIES for ch in text):
        raise InvalidField(f"{field} must not contain control or invisible characters")
    return text


def display_name(
    value: object, field: str = "name", max_length: int = limits.MAX_NAME_LENGTH, *, person: bool = True
) -> str:
    """A name someone chooses now: a person's (or, with ``person`` false, a group's), in NFC.

    :func:`relayed_name`, and at least one visible letter or digit, so a name of fillers (U+3164,
    U+115F), blank braille (U+2800) or lone combining marks is refused. A person's name also holds
    no ':' (a name "Alice: I resign" would forge a line of the plain client).
    """
    text = relayed_name(value, field, max_length)
    if person and not _NAME_FORBIDDEN_CHARACTERS.isdisjoint(text):
        raise InvalidField(f"{field} must not contain ':'")
    if not _has_visible_letter_or_digit(text):
        raise InvalidField(f"{field} must contain a visible letter or digit")
    return text


def group_name(value: object) -> str:
    """A group's name; uniqueness is decided on :func:`group_name_key` and :func:`name_skeleton`."""
    return display_name(value, "group_name", limits.MAX_GROUP_NAME_LENGTH, person=False)


def relayed_group_name(value: object) -> str:
    """A group's name as a server relays it (see :func:`relayed_name`)."""
    return relayed_name(value, "group_name", limits.MAX_GROUP_NAME_LENGTH)


def name_key(name: str) -> str:
    """The identity of a name: NFKC, case-folded, so 'Bob', 'BOB' and fullwidth 'BOB' (U+FF22 ...) are one."""
    return unicodedata.normalize("NFKC", name).casefold()


group_name_key = name_key


@functools.cache
def _prototypes() -> dict[int, str]:
    """Unicode's confusable prototypes, parsed on first use (a few ms; most processes never need them)."""
    from shared.confusables_data import PROTOTYPES  # noqa: PLC0415 - 80 KB of data, loaded lazily

    table: dict[int, str] = {}
    for line in PROTOTYPES.splitlines():
        source, *target = line.split()
        table[int(source, 16)] = "".join(chr(int(point, 16)) for point in target)
    return table


def name_skeleton(name: str) -> str:
    """The UTS #39 confusable skeleton of :func:`name_key` of ``name``: equal for look-alikes.

    Two names clash in a group when their skeletons are equal: "Alice" with a Cyrillic A (U+0410) and Latin "Alice",
    "Alice" and "Alice" followed by an invisible filler. Per UTS #39 section 4: NFD, drop
    Default_Ignorable_Code_Point characters, map each character to its prototype, NFD again.
    """
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", name_key(name))
    mapped = "".join(prototypes.get(ord(char), char) for char in decomposed if not is_default_ignorable(char))
    return unicodedata.normalize("NFD", mapped)


def relayed_text(value: object) -> str:
    """Chat text as a server relays it: NFC, 1..MAX_TEXT_LENGTH characters, no controls but newline
    and tab. Blankness is judged when a message is sent (:func:`message_text`), not on relay: a
    server keeps messages stored under earlier rules (U+200B alone was accepted before)."""
    text = string(value, "text", limits.MAX_TEXT_LENGTH * 4, min_length=1)
    if not text.isascii():  # ASCII is already NFC: skip the normaliser for the common case
        text = unicodedata.normalize("NFC", text)
    if not 1 <= len(text) <= limits.MAX_TEXT_LENGTH:
        raise InvalidField(f"text must be 1 to {limits.MAX_TEXT_LENGTH} characters long")
    if match := _TEXT_FORBIDDEN_CONTROLS.search(text):
        raise InvalidField(f"text must not contain control character U+{ord(match.group()):04X}")
    return text


def message_text(value: object) -> str:
    """Chat text someone sends now: :func:`relayed_text`, and not blank (:func:`is_blank`)."""
    text = relayed_text(value)
    if is_blank(text):
        raise InvalidField("text must not be blank")
    return text


def token(value: object, field: str) -> str:
    """An opaque client-chosen identifier: 1..MAX_TOKEN_LENGTH printable ASCII characters."""
    text = string(value, field, limits.MAX_TOKEN_LENGTH, min_length=1)
    if not (text.isascii() and text.isprintable()):
        raise InvalidField(f"{field} must be printable ASCII")
    return text


def resume_token(value: object, *, min_length: int = 1) -> str:
    """A server-issued resume token: ``min_length``..MAX_RESUME_TOKEN_LENGTH printable ASCII characters.

    Its format is the server's own business; the message never echoes the value (it is a credential).
    """
    text = string(value, "resume_token", limits.MAX_RESUME_TOKEN_LENGTH, min_length=min_length)
    if not (text.isascii() and text.isprintable()):
        raise InvalidField("resume_token must be printable ASCII")
    return text


def password(value: object) -> str:
    """A group password in NFC (RFC 8265 OpaqueString): 1..MAX_PASSWORD_LENGTH bytes of UTF-8.

    NFC so that the same password typed on two systems (one composing "é", one not) hashes the same.
    """
    text = string(value, "password", limits.MAX_PASSWORD_LENGTH, min_length=1)
    if not text.isascii():  # ASCII is already NFC
        text = unicodedata.normalize("NFC", text)
    if len(text.encode("utf-8", "surrogatepass")) > limits.MAX_PASSWORD_LENGTH:
        raise InvalidField(f"password must be at most {limits.MAX_PASSWORD_LENGTH} bytes")
    return text


def name_list(value: object, field: str = "members") -> tuple[str, ...]:
    """A list of relayed names (:func:`relayed_name`), at most MAX_MEMBERS_IN_FRAME long."""
    if not isinstance(value, (list, tuple)):
        raise InvalidField(f"{field} must be an array")
    if len(value) > limits.MAX_MEMBERS_IN_FRAME:
        raise InvalidField(f"{field} must hold at most {limits.MAX_MEMBERS_IN_FRAME} names")
    return tuple(relayed_name(item, field) for item in value)


def feature_list(value: object, field: str = "features") -> tuple[str, ...]:
    """Feature names (PROTOCOL.md §2): at most MAX_FEATURES tokens of lowercase ASCII letters and '_'.

    Names a peer does not know are kept (and ignored by it): a newer client may ask for more.
    """
    if not isinstance(value, (list, tuple)):
        raise InvalidField(f"{field} must be an array")
    if len(value) > limits.MAX_FEATURES:
        raise InvalidField(f"{field} must hold at most {limits.MAX_FEATURES} names")
    names = []
    for item in value:
        name = string(item, field, limits.MAX_FEATURE_LENGTH, min_length=1)
        if not all("a" <= char <= "z" or char == "_" for char in name):
            raise InvalidField(f"{field} names are lowercase ASCII letters and '_'")
        names.append(name)
    return tuple(dict.fromkeys(names))


def search_text(value: object) -> str:
    """A search text: 1..MAX_SEARCH_TEXT_LENGTH characters of chat text (:func:`message_text`'s rules)."""
    text = message_text(value)
    if len(text) > limits.MAX_SEARCH_TEXT_LENGTH:
        raise InvalidField(f"text must be at most {limits.MAX_SEARCH_TEXT_LENGTH} characters long")
    return text


def away_reason(value: object) -> str:
    """An away reason: 0..MAX_AWAY_REASON_LENGTH characters on one line, no controls, in NFC."""
    text = string(value, "reason", limits.MAX_AWAY_REASON_LENGTH * 4)
    text = unicodedata.normalize("NFC", text)
    if len(text) > limits.MAX_AWAY_REASON_LENGTH:
        raise InvalidField(f"reason must be at most {limits.MAX_AWAY_REASON_LENGTH} characters long")
    if any(unicodedata.category(ch) in _NAME_FORBIDDEN_CATEGORIES - {"Cf"} for ch in text):
        raise InvalidField("reason must not contain control characters")
    return text
