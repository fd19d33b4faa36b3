"""PROTOCOL.md says what the code does: its example, its frame tables and its character sets are checked here."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import msgpack
import pytest

from shared import Event, Hello, encode, fields
from shared.codec import MAX_MAP_KEYS, from_wire
from shared.events import CLIENT_EVENTS, SERVER_EVENTS

SPEC = (Path(__file__).parents[2] / "PROTOCOL.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the ``## N. title`` section, up to the next section."""
    match = re.search(rf"^## \d+\. {re.escape(title)}\n(.*?)(?=^## |\Z)", SPEC, re.MULTILINE | re.DOTALL)
    assert match, title
    return match.group(1)


EXAMPLE_LINES = re.findall(r"^(C→S|S→C) (\{.*\})$", section("Example"), re.MULTILINE)


def test_the_example_has_frames() -> None:
    assert len(EXAMPLE_LINES) >= 8


@pytest.mark.parametrize(("direction", "text"), EXAMPLE_LINES, ids=[json.loads(t)["type"] for _, t in EXAMPLE_LINES])
def test_every_frame_of_the_example_is_valid_and_sent_the_right_way(direction: str, text: str) -> None:
    wire = json.loads(text)
    event = from_wire(wire)
    assert type(event) in (CLIENT_EVENTS if direction == "C→S" else SERVER_EVENTS)
    sent = msgpack.unpackb(encode(event)[4:])
    # Nothing normalised away: the example shows what is really sent.
    assert {key: value for key, value in sent.items() if key in wire} == wire


def test_the_byte_level_example_is_what_the_encoder_writes() -> None:
    data = encode(Hello(1, 1, "mychat/1.0"))
    example = section("Example")
    assert f"the 4 bytes `{data[:4].hex(' ').upper()}` followed by the {len(data) - 4}-byte msgpack map" in example
    dump = re.search(r"in full:\n\n```\n(.*?)```", example, re.DOTALL)
    assert dump
    assert bytes.fromhex(dump.group(1)) == data


def _row(type_: str) -> str:
    match = re.search(rf"^\| `{type_}` \|(.*)$", section("Frames"), re.MULTILINE)
    assert match, f"no row for {type_} in section 5"
    return match.group(1)


ALL_TYPES: list[type[Event]] = sorted({*CLIENT_EVENTS, *SERVER_EVENTS}, key=lambda cls: cls.TYPE)


@pytest.mark.parametrize("cls", [c for c in ALL_TYPES if c.TYPE not in {"ping", "pong"}], ids=lambda c: c.TYPE)
def test_section_5_lists_every_field_of_every_frame(cls: type[Event]) -> None:
    row = _row(cls.TYPE)
    fields_cell = row.split("|")[0]
    for key in _wire_keys(cls):
        assert f"`{key}`" in fields_cell, f"{cls.TYPE}: field {key} missing from PROTOCOL.md section 5"


def _wire_keys(cls: type[Event]) -> list[str]:
    return [{"request_id": "id"}.get(field.name, field.name) for field in dataclasses.fields(cls)]


def test_section_1_states_the_key_limit() -> None:
    assert f"a map has at most **{MAX_MAP_KEYS}** keys" in section("Transport and framing")


def _code_points(paragraph: str) -> set[str]:
    points: set[str] = set()
    for first, last in re.findall(r"U\+([0-9A-F]{4,5})(?:\u2013U\+([0-9A-F]{4,5}))?", paragraph):
        points.update(chr(p) for p in range(int(first, 16), int(last or first, 16) + 1))
    return points


def test_white_space_and_default_ignorable_lists_match_the_code() -> None:
    text = section("Field types")
    white = re.search(r"White_Space\nproperty: (.*?)\. Text is", text, re.DOTALL)
    ignorable = re.search(r"\(DerivedCoreProperties\.txt: (.*?)\)\.", text, re.DOTALL)
    assert white
    assert ignorable
    assert _code_points(white.group(1)) == fields.WHITE_SPACE
    listed = _code_points(ignorable.group(1))
    assert all(fields.is_default_ignorable(char) for char in listed)
    assert len(listed) == sum(1 for point in range(0x110000) if fields.is_default_ignorable(chr(point)))
