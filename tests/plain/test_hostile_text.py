"""A hostile peer cannot make the plain client write a terminal control or forge a line."""

from __future__ import annotations

import re

import pytest

from chat_tui.plain_io import printable
from shared import GroupJoined, MessageAccepted, SendMessage
from tests.plain.conftest import PlainFactory
from tests.plain.helpers import RawPeer, create_group

# Bytes a terminal acts on: C0 but tab and newline, DEL, and C1 as UTF-8 (U+0080-U+009F is C2 80-9F).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
_BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")

RAW_PAYLOADS = ["\x1b]0;PWNED\x07", "\x9b31m", "\x1b[2J\x1b[H", "a\x00b\x7fc"]
"""Refused by the server's field checks; sent as raw frames to prove nothing leaks anyway."""
VALID_PAYLOADS = [
    "\u202eevil\u202c and \u2066isolated\u2069",
    "fine\nAlice: forged line",
    "para\u2028graph",
    "tab\tkept",
]
BARRIER = "[bold red]hi[/]"
"""Sent last; markup must print literally, and once it shows every earlier message has arrived."""


def _assert_clean(output: bytes) -> None:
    assert _CONTROL_BYTES.search(output) is None, output
    text = output.decode("utf-8")
    assert not any(ch in text for ch in _BIDI), text


@pytest.mark.parametrize("text", [*RAW_PAYLOADS, *VALID_PAYLOADS, "\u0085", "\r\n", "\x1bc"])
def test_printable_leaves_no_control(text: str) -> None:
    shown = printable(text)
    _assert_clean(shown.encode("utf-8"))
    assert len(shown.splitlines()) <= 1  # one event, one line


def test_hostile_peer_text_reaches_stdout_clean(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")

    for payload in RAW_PAYLOADS:  # each protocol violation costs the peer its connection
        mallory = RawPeer(*server_address)
        assert isinstance(mallory.join(group_id, "pw", "Mallory"), GroupJoined)
        mallory.send_raw({"type": "send_message", "id": 99, "group_id": group_id, "text": payload})
        mallory.send_raw({"type": "member_joined", "group_id": group_id, "name": payload})
        mallory.read_until_closed()
        mallory.close()

    eve = RawPeer(*server_address)
    eve.join(group_id, "pw", "Eve")
    for text in [*VALID_PAYLOADS, BARRIER]:
        reply = eve.request(lambda rid, text=text: SendMessage(rid, group_id, text))
        assert isinstance(reply, MessageAccepted)

    lines = alice.read_until(re.escape(f"Eve: {BARRIER}"))
    assert "Eve: fine↵Alice: forged line" in lines  # the newline could not start a fake line
    assert "Eve: tab\tkept" in lines
    assert not any(line.startswith("Alice: forged") for line in lines)
    eve.close()
    _assert_clean(bytes(alice.raw))
