"""The password-guessing throttle at the core (issue 8 item 14): counted when a guess is admitted,
slowed per (address, group) rather than locked out, hashing budgeted per address, retry_after_ms."""

from __future__ import annotations

import re
from pathlib import Path

from chat_server.config import ServerConfig
from chat_server.core import Action, ChatCore, HashPassword, VerifyPassword
from chat_server.ratelimit import Backoff
from chat_server.store import MemoryStore
from shared import CreateGroup, Error, JoinGroup, LeaveGroup, SendMessage
from tests.server.test_core import NOW, sends

PROTOCOL = Path(__file__).parents[2] / "PROTOCOL.md"


def make(config: ServerConfig, clients: int, address: str = "203.0.113.5") -> ChatCore:
    core = ChatCore(config, MemoryStore(), decoy_hash="decoy")
    for cid in range(1, clients + 1):
        core.connect(cid, address)
    request = CreateGroup(1, "vault", "right", "Owner")
    core.connect(1000, "192.0.2.1")  # the owner is elsewhere
    core.handle(1000, request, NOW)
    core.finish_create(1000, request, "hash-of-right", NOW)
    return core


def refusal(actions: list[Action]) -> Error:
    [(_, error)] = sends(actions)
    assert isinstance(error, Error)
    return error


def test_concurrent_wrong_guesses_from_one_address_are_not_all_checked() -> None:
    """14 guesses sent at once from 14 connections: each is counted when admitted, so only the free
    ones reach the hash workers (once, all 14 were checked before the first failure was recorded)."""
    core = make(ServerConfig(), clients=14)
    outcomes = [core.handle(cid, JoinGroup(cid, 1, f"guess{cid}", f"Eve{cid}"), NOW) for cid in range(1, 15)]
    checked = [a for a in outcomes if isinstance(a[0], VerifyPassword)]
    refused = [refusal(a) for a in outcomes if not isinstance(a[0], VerifyPassword)]
    assert len(checked) == 3  # --login-free-failures
    assert {e.code for e in refused} == {"too_many_attempts"}
    assert all(e.retry_after_ms is not None and 0 < e.retry_after_ms <= 4000 for e in refused)


def test_a_right_password_on_a_guessed_address_waits_seconds_not_minutes() -> None:
    """An attacker guesses as fast as allowed for ten minutes; someone else behind the same address
    who knows the password is never held off for more than --login-delay-max."""
    config = ServerConfig(hashes_per_address_burst=10_000)
    core = make(config, clients=2)
    now, guesses = NOW, 0
    while now < NOW + 600:
        actions = core.handle(1, JoinGroup(guesses, 1, "wrong", "Eve"), now)
        if isinstance(actions[0], VerifyPassword):
            core.finish_join(1, actions[0].request, False, now)
            guesses += 1
            continue
        error = refusal(actions)
        assert error.retry_after_ms is not None
        assert error.retry_after_ms <= config.login_delay_max * 1000
        innocent = core.handle(2, JoinGroup(1, 1, "right", "Bob"), now)  # refused for a moment at most
        assert refusal(innocent).retry_after_ms == error.retry_after_ms
        now += error.retry_after_ms / 1000
    assert guesses <= 10 * Backoff(3, 1.0, 4.0, 60.0).most_per_minute()
    [check] = core.handle(2, JoinGroup(2, 1, "right", "Bob"), now)
    assert isinstance(check, VerifyPassword)
    assert sends(core.finish_join(2, check.request, True, now))[0][1].TYPE == "group_joined"


def test_a_right_password_is_refunded_so_members_are_never_slowed() -> None:
    core = make(ServerConfig(hashes_per_address_burst=100), clients=20)
    for cid in range(1, 21):  # twenty people behind one address join the same group
        [check] = core.handle(cid, JoinGroup(1, 1, "right", f"Member{cid}"), NOW)
        assert isinstance(check, VerifyPassword)
        core.finish_join(cid, check.request, True, NOW)


def test_hashing_is_budgeted_per_address_right_passwords_and_creates_included() -> None:
    """One member joining and leaving in a loop cannot keep the hash workers busy."""
    config = ServerConfig(hashes_per_address_burst=3, hashes_per_address_rate=0.5)
    core = make(config, clients=1)
    for i in range(3):
        [check] = core.handle(1, JoinGroup(10 + i, 1, "right", "Bob"), NOW)
        assert isinstance(check, VerifyPassword)
        core.finish_join(1, check.request, True, NOW)
        core.handle(1, LeaveGroup(20 + i, 1), NOW)
    error = refusal(core.handle(1, CreateGroup(30, "mine", "pw", "Bob"), NOW))
    assert error.code == "too_many_attempts"
    assert error.retry_after_ms == 2000  # one hash per 2 s after the burst
    [job] = core.handle(1, CreateGroup(31, "mine", "pw", "Bob"), NOW + 2)
    assert isinstance(job, HashPassword)
    other = make(config, clients=1, address="198.51.100.1")  # another address has its own budget
    assert isinstance(other.handle(1, JoinGroup(1, 1, "x", "Al"), NOW)[0], VerifyPassword)


def test_every_throttling_refusal_carries_retry_after_ms() -> None:
    config = ServerConfig(message_burst=1, message_rate=0.5, message_queue=0, max_pending_auth=1)
    core = make(config, clients=3)
    core.handle(2, JoinGroup(1, 1, "right", "Bob"), NOW)  # takes the one hashing place
    busy = refusal(core.handle(3, JoinGroup(2, 1, "right", "Carol"), NOW))
    assert (busy.code, busy.retry_after_ms) == ("server_busy", 1000)
    [(_, joined)] = sends(core.finish_join(2, JoinGroup(1, 1, "right", "Bob"), True, NOW))[:1]
    assert joined.TYPE == "group_joined"
    core.handle(2, SendMessage(3, 1, "one"), NOW)
    limited = refusal(core.handle(2, SendMessage(4, 1, "two"), NOW))
    assert (limited.code, limited.retry_after_ms) == ("rate_limited", 2000)


def test_the_published_guess_bound_is_the_one_the_defaults_give() -> None:
    """PROTOCOL.md states the most guesses per minute per (address, group); the defaults give exactly that."""
    config = ServerConfig()
    bound = Backoff(config.login_free_failures, config.login_delay, config.login_delay_max, 60.0).most_per_minute()
    stated = re.search(r"at most\s+\*\*(\d+) guesses per minute\*\*", PROTOCOL.read_text())
    assert stated is not None
    assert int(stated.group(1)) == bound == 19
    core = make(ServerConfig(hashes_per_address_burst=10_000), clients=1)  # and the core keeps to it
    now, checked = NOW, 0
    while now < NOW + 60:
        actions = core.handle(1, JoinGroup(1, 1, "wrong", "Eve"), now)
        if isinstance(actions[0], VerifyPassword):
            core.finish_join(1, actions[0].request, False, now)
            checked += 1
        else:
            retry_ms = refusal(actions).retry_after_ms
            assert retry_ms is not None
            now += retry_ms / 1000
    assert checked == bound
