"""Joining and creating at the core: which check wins, paged member lists, look-alike names, and the
log lines they leave (issue 8 items 10, 13, 16, 20)."""

from __future__ import annotations

import logging

import pytest

from chat_server.config import ServerConfig
from chat_server.core import ChatCore, Outgoing, VerifyPassword
from chat_server.store import MemoryStore
from shared import (
    CreateGroup,
    Error,
    Event,
    GroupJoined,
    JoinGroup,
    MemberList,
    SendMessage,
    encode,
)
from tests.server.test_core import NOW, create, make_core, sends


def attempt(core: ChatCore, cid: int, request: JoinGroup, password_ok: bool) -> list[Event]:
    """Send a join; if it goes to the password check, finish it with ``password_ok``."""
    actions = core.handle(cid, request, NOW)
    if len(actions) == 1 and isinstance(actions[0], VerifyPassword):
        actions = core.finish_join(cid, request, password_ok, NOW)
    return [event for _, event in sends(actions)]


def code_of(events: list[Event]) -> str:
    [error] = [e for e in events if isinstance(e, Error)]
    return error.code


# --- item 13: nothing about a group before its password ----------------------------------------------


def test_a_wrong_password_learns_nothing_about_the_members() -> None:
    """A member's name, or the client being in the group already: neither is told before the password."""
    core = ChatCore(ServerConfig(), MemoryStore(), decoy_hash="decoy")
    for cid in range(1, 6):
        core.connect(cid, f"10.0.0.{cid}")  # one guess per address: no throttle in the way
    create(core, 1)  # "team", Alice
    for cid, name in [(2, "Alice"), (3, "alice"), (4, "Mallory")]:
        assert code_of(attempt(core, cid, JoinGroup(3, 1, "wrong", name), password_ok=False)) == "bad_credentials"
    assert code_of(attempt(core, 1, JoinGroup(4, 1, "wrong", "Alice"), password_ok=False)) == "bad_credentials"
    assert code_of(attempt(core, 5, JoinGroup(5, 1, "pw", "Alice"), password_ok=True)) == "name_taken"
    assert code_of(attempt(core, 1, JoinGroup(6, 1, "pw", "Other"), password_ok=True)) == "already_member"


def test_a_name_taken_costs_the_same_password_check_as_any_join() -> None:
    core = make_core(1, 2)
    create(core, 1)
    [job] = core.handle(2, JoinGroup(3, 1, "guess", "Alice"), NOW)
    assert isinstance(job, VerifyPassword)  # the same hash as for a free name: the timing tells nothing
    core.finish_join(2, job.request, False, NOW)
    [unknown] = core.handle(2, JoinGroup(4, 77, "guess", "Alice"), NOW + 10)
    assert isinstance(unknown, VerifyPassword)
    assert unknown.stored_hash == "decoy"


def test_which_refusal_wins_for_a_join() -> None:
    """PROTOCOL.md, Request checks: the connection's group cap, then throttles, then the password,
    then what only a member may learn."""
    config = ServerConfig(max_groups_per_connection=1, login_free_failures=0, login_delay=30.0, login_delay_max=30.0)
    core = ChatCore(config, MemoryStore(), decoy_hash="decoy")
    for cid in (1, 2):
        core.connect(cid, "10.0.0.1")
    create(core, 1)
    # Client 1 is in its one group: too_many_groups beats everything, even a wrong password.
    assert code_of(attempt(core, 1, JoinGroup(3, 1, "wrong", "Alice"), password_ok=False)) == "too_many_groups"
    assert code_of(attempt(core, 2, JoinGroup(4, 1, "wrong", "Alice"), password_ok=False)) == "bad_credentials"
    # The address is now delayed: the throttle answers before any password is checked.
    events = attempt(core, 2, JoinGroup(5, 1, "pw", "Alice"), password_ok=True)
    assert code_of(events) == "too_many_attempts"


def test_which_refusal_wins_for_a_create() -> None:
    config = ServerConfig(max_groups_per_connection=1, groups_per_address=1)
    core = ChatCore(config, MemoryStore(), decoy_hash="decoy")
    for cid in (1, 2):
        core.connect(cid, "10.0.0.1")
    create(core, 1, "team")

    def refusal(cid: int, request: CreateGroup) -> str:
        return code_of([event for _, event in sends(core.handle(cid, request, NOW))])

    assert refusal(1, CreateGroup(3, "team", "pw", "A")) == "too_many_groups"  # this connection's cap first
    assert refusal(2, CreateGroup(4, "team", "pw", "A")) == "group_name_taken"
    [(_, windowed)] = sends(core.handle(2, CreateGroup(5, "other", "pw", "A"), NOW))
    assert isinstance(windowed, Error)
    assert windowed.code == "too_many_groups"
    assert windowed.retry_after_ms is not None
    assert windowed.retry_after_ms > 0


# --- item 16: look-alike names ---------------------------------------------------------------------


def test_look_alike_names_clash_in_a_group() -> None:
    core = make_core(1, 2, 3)
    create(core, 1)  # Alice
    cyrillic = "\u0410lice"  # Cyrillic A
    assert code_of(attempt(core, 2, JoinGroup(3, 1, "pw", cyrillic), password_ok=True)) == "name_taken"
    joined = attempt(core, 3, JoinGroup(4, 1, "pw", "Bob"), password_ok=True)
    assert isinstance(joined[0], GroupJoined)


def test_look_alike_group_names_clash() -> None:
    core = make_core(1, 2)
    create(core, 1, "team")
    [(_, error)] = sends(core.handle(2, CreateGroup(3, "t\u0435am", "pw", "Bob"), NOW))  # Cyrillic e
    assert isinstance(error, Error)
    assert error.code == "group_name_taken"


# --- item 10: every frame fits the frame limit -----------------------------------------------------


def _letters_name(i: int) -> str:
    """32 distinct 4-byte letters (CJK Extension B): the longest name in bytes, unique per ``i``."""
    return "".join(chr(0x20000 + i * 32 + k) for k in range(32))


@pytest.mark.parametrize(("members", "max_frame_size"), [(521, 65536), (40, 2048)])
def test_a_member_list_is_paged_to_fit_the_frame_limit(members: int, max_frame_size: int) -> None:
    """521 members with 32 four-byte characters each made a 67,703-byte group_joined."""
    core = ChatCore(
        ServerConfig(max_frame_size=max_frame_size, max_pending_auth=10_000), MemoryStore(), decoy_hash="decoy"
    )
    names = [_letters_name(i) for i in range(members)]
    for cid, name in enumerate(names, start=1):
        core.connect(cid, f"10.{cid >> 16}.{(cid >> 8) & 255}.{cid & 255}")  # no per-address hash budget in the way
        if cid == 1:
            request = CreateGroup(1, "big", "pw", name)
            core.handle(cid, request, NOW)
            core.finish_create(cid, request, "h", NOW)
            continue
        join = JoinGroup(2, 1, "pw", name)
        core.handle(cid, join, NOW)
        actions = core.finish_join(cid, join, True, NOW)
    frames = [a.event for a in actions if isinstance(a, Outgoing) and a.recipients == (members,)]
    assert all(len(encode(frame)) - 4 <= max_frame_size for frame in frames)
    first, *rest = frames
    assert isinstance(first, GroupJoined)
    pages = [page for page in rest if isinstance(page, MemberList)]
    assert len(pages) == len(rest)
    assert list(first.members) + [name for page in pages for name in page.members] == names
    assert first.more_members is bool(pages)
    assert [page.more for page in pages] == [True] * (len(pages) - 1) + [False]
    assert len(pages) >= 1


# --- item 20: log lines --------------------------------------------------------------------------------


def test_creates_joins_throttles_and_rate_limits_are_logged_without_passwords(caplog: pytest.LogCaptureFixture) -> None:
    config = ServerConfig(login_free_failures=1, message_burst=1, message_rate=0.001, message_queue=0)
    core = ChatCore(config, MemoryStore(), decoy_hash="decoy")
    core.connect(1, "192.0.2.7")
    core.connect(2, "198.51.100.9")
    caplog.set_level(logging.INFO, logger="chat_server")
    secret = "hunter2-secret"
    create_request = CreateGroup(1, "team", secret, "Alice")
    core.handle(1, create_request, NOW)
    core.finish_create(1, create_request, "h", NOW)
    attempt(core, 2, JoinGroup(2, 1, secret + "x", "Bob"), password_ok=False)
    attempt(core, 2, JoinGroup(3, 1, secret, "Bob"), password_ok=True)  # delayed: a throttle
    core.handle(1, SendMessage(4, 1, "one"), NOW)
    core.handle(1, SendMessage(5, 1, "two"), NOW)  # over the rate with no hold: refused
    text = caplog.text
    assert "group created id=1 name='team' conn=1 address=192.0.2.7" in text
    assert "join refused code=bad_credentials conn=2 group=1 address=198.51.100.9" in text
    assert "throttle kind=guesses conn=2 group=1 address=198.51.100.9 retry_after_ms=" in text
    assert "join refused code=too_many_attempts conn=2 group=1 address=198.51.100.9" in text
    assert "rate limit conn=1 address=192.0.2.7" in text
    assert secret not in text
