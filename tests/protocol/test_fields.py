"""Field rules of PROTOCOL.md section 2: names, look-alikes, blank text, passwords, resume tokens."""

from __future__ import annotations

import msgpack
import pytest

from shared import (
    CreateGroup,
    Error,
    GroupCreated,
    GroupJoined,
    HistoryEntry,
    HistoryPage,
    InvalidField,
    JoinGroup,
    MemberJoined,
    MemberLeft,
    MemberList,
    MessagePosted,
    SendMessage,
    decode,
    encode,
    fields,
    limits,
    name_key,
    name_skeleton,
)

CYRILLIC_A = "\u0410"


# --- names (issue 8 item 16) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "\u3164",  # HANGUL FILLER (a letter, Lo, but Default_Ignorable)
        "\u3164\u3164\u3164",
        "\u2800",  # BRAILLE PATTERN BLANK (a symbol, So)
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u0301\u0302",  # combining marks alone
        "\u2800\u3164\u115f",
        "...",
        "\U0001f642",  # an emoji alone is no letter or digit either
    ],
)
def test_names_without_a_visible_letter_or_digit_are_refused(name: str) -> None:
    with pytest.raises(InvalidField, match="visible letter or digit"):
        JoinGroup(1, 1, "pw", name)


@pytest.mark.parametrize("name", ["Alice: I resign", "a:b", ":", "Bob:", "\u0905:\u0905"])
def test_a_colon_in_a_persons_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidField, match="':'"):
        CreateGroup(1, "team", "pw", name)


@pytest.mark.parametrize("name", ["Bob (you)", "Zoë", "李小龍", "R2-D2", "7", "Bob \U0001f642", "\u0905\u0902"])
def test_ordinary_names_stay_legal(name: str) -> None:
    assert JoinGroup(1, 1, "pw", name).name == name


def test_a_group_name_may_hold_a_colon_but_needs_a_letter_or_digit() -> None:
    assert CreateGroup(1, "release: v2", "pw", "A").group_name == "release: v2"
    with pytest.raises(InvalidField, match="visible letter or digit"):
        CreateGroup(1, "\u3164", "pw", "A")


@pytest.mark.parametrize("name", [" Bob", "Bob ", "\u3000Bob", "Bob\u00a0"])
def test_names_may_not_start_or_end_with_white_space(name: str) -> None:
    with pytest.raises(InvalidField, match="start or end"):
        JoinGroup(1, 1, "pw", name)


def test_name_key_is_nfkc_casefold() -> None:
    assert name_key("BOB") == name_key("Bob") == name_key("\uff22\uff4f\uff42") == "bob"


@pytest.mark.parametrize(
    ("impostor", "original"),
    [
        (CYRILLIC_A + "lice", "Alice"),  # Cyrillic capital A
        ("\u0430lice", "alice"),  # Cyrillic small a
        ("Alice\u3164", "Alice"),  # an invisible filler appended
        ("paypa1", "paypal"),  # digit one and small L
        ("rn", "m"),
        ("\U0001d5ba\U0001d5c5\U0001d5c2\U0001d5bc\U0001d5be", "alice"),  # mathematical sans-serif
    ],
)
def test_look_alike_names_share_a_skeleton(impostor: str, original: str) -> None:
    assert name_skeleton(impostor) == name_skeleton(original)


@pytest.mark.parametrize(("one", "other"), [("Alice", "Alicia"), ("Bob", "Rob"), ("Zoe", "Zoë")])
def test_different_names_have_different_skeletons(one: str, other: str) -> None:
    assert name_skeleton(one) != name_skeleton(other)


def test_skeleton_is_stable() -> None:
    """UTS #39: skeleton(skeleton(x)) == skeleton(x), so a stored skeleton can be compared with a new one."""
    for name in (CYRILLIC_A + "lice", "paypa1", "\u0430\u0440\u0440", "Zoë"):
        skeleton = name_skeleton(name)
        assert name_skeleton(skeleton) == skeleton


def test_confusables_data_names_its_unicode_version() -> None:
    from shared import confusables_data

    assert confusables_data.UNICODE_VERSION == "13.0.0"
    assert "Unicode License" in (confusables_data.__doc__ or "")


def test_server_frames_relay_names_and_text_stored_under_earlier_rules() -> None:
    """A server keeps what it accepted before issue 8 ("Bob: x", a U+3164 name, U+200B-only text);
    a client that refused those frames would refuse its own history, so relayed frames use the old rules."""
    old_name, old_text = "Bob: x", "\u200b"
    assert MessagePosted(1, 1, 1, old_name, old_text).sender == old_name
    page = HistoryPage(1, 1, (HistoryEntry(1, 1, "\u3164", old_text),), False)
    assert decode(encode(page)[4:]) == page
    assert GroupJoined(1, 1, "\u3164", "Al", ("\u3164", old_name)).members == ("\u3164", old_name)
    assert MemberJoined(1, old_name).name == old_name
    assert MemberLeft(1, "\u2800").name == "\u2800"
    with pytest.raises(InvalidField, match="control"):
        MessagePosted(1, 1, 1, "Bob", "a\x1bb")  # what was never allowed still is not


# --- blank text (PROTOCOL.md: what counts as whitespace) ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        " ",
        "\n\t ",
        "\u200b",  # ZERO WIDTH SPACE: accepted before issue 8
        "\u3000",  # IDEOGRAPHIC SPACE
        "\u200b\u3000\u00a0\u2060\ufeff",
        "\u3164",
        "\u115f\u1160",
        "\ufe0f",
    ],
)
def test_blank_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidField, match="blank"):
        SendMessage(1, 1, text)


@pytest.mark.parametrize("text", [".", "\u2800", "a\u200b", "\u3000x", "\U0001f642"])
def test_text_with_anything_visible_is_accepted(text: str) -> None:
    assert SendMessage(1, 1, text).text == text


def test_white_space_is_unicodes_property_exactly() -> None:
    assert len(fields.WHITE_SPACE) == 25
    assert "\x1c" not in fields.WHITE_SPACE  # str.isspace() says yes; Unicode's White_Space says no
    assert "\u200b" not in fields.WHITE_SPACE  # zero width space is Default_Ignorable, not White_Space
    assert fields.is_default_ignorable("\u200b")
    assert fields.is_default_ignorable("\U000e0001")
    assert not fields.is_default_ignorable("a")
    assert not fields.is_default_ignorable("\u2800")


# --- passwords -------------------------------------------------------------------------------------------------


def test_passwords_are_normalised_to_nfc() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert JoinGroup(1, 1, decomposed, "A").password == composed
    assert CreateGroup(1, "team", decomposed, "A").password == CreateGroup(1, "team", composed, "A").password
    assert decode(encode(JoinGroup(1, 1, decomposed, "A"))[4:]) == JoinGroup(1, 1, composed, "A")


def test_password_length_is_counted_in_utf8_bytes_after_nfc() -> None:
    assert fields.password("\u00e9" * 128) == "\u00e9" * 128  # 256 bytes
    with pytest.raises(InvalidField, match="bytes"):
        fields.password("\u00e9" * 129)


# --- join_group: exactly one of password and resume_token -----------------------------------------------------


def test_join_with_a_resume_token_and_no_password() -> None:
    join = JoinGroup(1, 7, None, "Bob", resume_token="abc.DEF-123_~")
    assert decode(encode(join)[4:]) == join
    assert msgpack.unpackb(encode(join)[4:])["password"] is None  # nil and absent mean the same
    absent = {"type": "join_group", "id": 1, "group_id": 7, "name": "Bob", "resume_token": "abc.DEF-123_~"}
    assert decode(msgpack.packb(absent)) == join


@pytest.mark.parametrize(
    "make",
    [
        lambda: JoinGroup(1, 7, None, "Bob"),
        lambda: JoinGroup(1, 7, "pw", "Bob", resume_token="t"),
    ],
    ids=["neither", "both"],
)
def test_join_needs_exactly_one_of_password_and_token(make: object) -> None:
    with pytest.raises(InvalidField, match="exactly one"):
        make()  # type: ignore[operator]


def test_join_wire_map_without_password_nor_token_is_bad_request() -> None:
    body = msgpack.packb({"type": "join_group", "id": 1, "group_id": 7, "name": "Bob"})
    with pytest.raises(InvalidField) as info:
        decode(body)
    assert info.value.code == "bad_request"


@pytest.mark.parametrize("token", ["", "x" * 65, "caf\u00e9", "tab\there", "nul\x00"])
def test_a_requests_resume_token_is_1_to_64_printable_ascii(token: str) -> None:
    with pytest.raises(InvalidField, match="resume_token"):
        JoinGroup(1, 7, None, "Bob", resume_token=token)


def test_issued_tokens_may_be_empty_meaning_none_issued() -> None:
    assert GroupCreated(1, 1, "team", "A").resume_token == ""
    assert GroupJoined(1, 1, "team", "A", ("A",)).resume_token == ""
    assert GroupCreated(1, 1, "team", "A", "x" * 64).resume_token == "x" * 64
    with pytest.raises(InvalidField, match="resume_token"):
        GroupCreated(1, 1, "team", "A", "x" * 65)


# --- member_list and retry_after_ms ---------------------------------------------------------------------------


def test_member_list_checks_its_names_and_flag() -> None:
    with pytest.raises(InvalidField, match="more must be a boolean"):
        MemberList(1, ("A",), 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidField, match="invisible"):
        MemberList(1, ("A\u200bB",), False)
    with pytest.raises(InvalidField, match="at most"):
        MemberList(1, ("A",) * (limits.MAX_MEMBERS_IN_FRAME + 1), False)


def test_group_joined_more_members_is_a_boolean() -> None:
    with pytest.raises(InvalidField, match="more_members"):
        GroupJoined(1, 1, "team", "A", ("A",), more_members=0)  # type: ignore[arg-type]


def test_retry_after_ms_is_an_optional_uint32() -> None:
    assert Error(1, "too_many_attempts", "wait").retry_after_ms is None
    assert Error(1, "too_many_attempts", "wait", 0).retry_after_ms == 0
    assert Error(None, "too_many_connections", "wait", 2**32 - 1).retry_after_ms == 2**32 - 1
    for bad in (-1, 2**32, 1.5, True):
        with pytest.raises(InvalidField, match="retry_after_ms"):
            Error(1, "rate_limited", "wait", bad)  # type: ignore[arg-type]
