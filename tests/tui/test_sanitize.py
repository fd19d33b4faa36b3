"""sanitize(): every terminal control in peer text becomes a visible placeholder."""

from __future__ import annotations

import pytest

from chat_tui.sanitize import REPLACEMENT, sanitize, sanitize_line

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_plain_text_and_markup_pass_through_unchanged() -> None:
    for text in ("hello", "[bold red]hi[/]", "arrays[/] are fun", "[@click=app.quit]x[/]", "héllo 👋"):
        assert sanitize(text) == text


def test_newline_and_tab_survive_in_text_but_not_in_a_line() -> None:
    assert sanitize("a\nb\tc") == "a\nb\tc"
    assert sanitize_line("a\nb") == "a\u240ab"
    assert sanitize_line("a\tb") == "a\u2409b"


def test_escape_sequences_lose_their_esc_and_bel() -> None:
    out = sanitize("hi\x1b]0;PWNED\x07 there")
    assert out == "hi\u241b]0;PWNED\u2407 there"


@pytest.mark.parametrize("code", [*range(0x20), 0x7F, *range(0x80, 0xA0)])
def test_no_c0_del_or_c1_control_survives(code: int) -> None:
    char = chr(code)
    out = sanitize_line(f"a{char}b")
    assert char not in out
    assert len(out) == 3  # replaced, not dropped: tampering stays visible


def test_c1_csi_becomes_replacement() -> None:
    assert sanitize("\x9b31mred") == f"{REPLACEMENT}31mred"


def test_bidi_controls_are_replaced() -> None:
    out = sanitize(f"abc{BIDI}def")
    assert out == "abc" + REPLACEMENT * len(BIDI) + "def"
