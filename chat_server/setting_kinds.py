"""What each server setting takes: how its flag text is parsed and checked, and how --help shows it.

A setting's kind lives in its ``ServerConfig`` field metadata (``config.setting(..., kind=...)``);
``cli.py`` turns it into the argparse ``type``, so a bad value is a usage error (exit status 2) before
anything starts, never a traceback from deep inside the server. A setting that names no kind gets one
from its default's type (:func:`kind_for`), so a new field is checked from the day it is added.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

# Counts and sizes end up in C calls (listen backlogs, recv sizes, select): a C int holds them all.
MAX_COUNT = 2**31 - 1
# A select() timeout is a C int of milliseconds (24.8 days); no window or timeout needs more than a week.
MAX_SECONDS = 7 * 24 * 3600.0
# Rates are compared with elapsed seconds; past a billion per second "unlimited" is what is meant.
MAX_RATE = 1e9
_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(\d+)\s*([a-z]*)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Kind:
    """What a flag takes.

    Attributes:
        metavar: the word ``--help`` shows after the flag (``N``, ``SECONDS``, ``BYTES``...).
        parse: text to value; raises ValueError with a message for people.
        show: value to the text ``--help`` and README show as the default.
    """

    metavar: str
    parse: Callable[[str], object]
    show: Callable[[object], str] = str


def count(minimum: int = 1, maximum: int = MAX_COUNT, metavar: str = "N") -> Kind:
    """A whole number in ``minimum..maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise ValueError(f"{value} is out of range: use {minimum} to {maximum}")
        return value

    return Kind(metavar, parse)


def number(metavar: str, *, minimum: float, maximum: float, allow_minimum: bool = False) -> Kind:
    """A finite decimal number above ``minimum`` (or equal to it when ``allow_minimum``) up to ``maximum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        too_low = value < minimum if allow_minimum else value <= minimum
        if not math.isfinite(value) or too_low or value > maximum:
            low = f"at least {minimum:g}" if allow_minimum else f"more than {minimum:g}"
            raise ValueError(f"{text} is out of range: use {low} and at most {maximum:g}")
        return value

    return Kind(metavar, parse, lambda value: f"{value:g}")


def show_size(value: object) -> str:
    """``65536`` -> ``64 KiB``: sizes as README and --help write them."""
    assert isinstance(value, int)
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return f"{value} bytes"


def size(minimum: int = 1, maximum: int = MAX_COUNT) -> Kind:
    """A byte count in ``minimum..maximum``: ``65536``, ``64KiB``, ``64k`` or ``1MiB``."""

    def parse(text: str) -> int:
        match = _SIZE.fullmatch(text)
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"{text!r} is not a size: write bytes, or a number with KiB or MiB")
        value = int(match.group(1)) * _UNITS[match.group(2).lower()]
        if not minimum <= value <= maximum:
            raise ValueError(f"{text} is out of range: use {show_size(minimum)} to {show_size(maximum)}")
        return value

    return Kind("BYTES", parse, show_size)


def text(metavar: str) -> Kind:
    """A non-empty string."""

    def parse(value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    return Kind(metavar, parse)


def choice(*options: str) -> Kind:
    """One of ``options``; the metavar lists them."""

    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return value

    return Kind("{" + ",".join(options) + "}", parse)


PORT = count(0, 65535, "PORT")
COUNT = count()
COUNT_OR_ZERO = count(0)
SECONDS = number("SECONDS", minimum=0.0, maximum=MAX_SECONDS)
SECONDS_OR_ZERO = number("SECONDS", minimum=0.0, maximum=MAX_SECONDS, allow_minimum=True)
PER_SECOND = number("PER_SECOND", minimum=0.0, maximum=MAX_RATE)
# Buffers and budgets: at most 1 GiB; a larger one is a typo, not a plan.
BYTES = size(1, 1024**3)


def kind_for(default: object) -> Kind:
    """The kind a setting gets when it names none: a positive count, positive seconds, or text."""
    if isinstance(default, bool):
        raise TypeError("a yes/no setting needs an explicit kind")
    if isinstance(default, int):
        return COUNT
    if isinstance(default, float):
        # Nearly every decimal setting is a duration; a rate says so with kind=PER_SECOND.
        return SECONDS
    return text("TEXT")
