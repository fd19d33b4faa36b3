"""Resume tokens (issue 8 item 15): a member rejoins without a password hash, for 24 h, across restarts."""

from __future__ import annotations

from pathlib import Path

from chat_server.config import ServerConfig
from chat_server.core import ChatCore, VerifyPassword
from chat_server.resume import ResumeTokens
from chat_server.store import MemoryStore, SqliteStore, Store
from shared import CreateGroup, Error, Event, GroupCreated, GroupJoined, JoinGroup, fields, limits
from tests.server.test_core import NOW, sends

DAY = 86400.0


def open_core(store: Store, config: ServerConfig | None = None) -> ChatCore:
    core = ChatCore(config or ServerConfig(), store, decoy_hash="decoy")
    for cid in (1, 2, 3):
        core.connect(cid, "10.0.0.1")
    return core


def create(core: ChatCore, cid: int = 1, group: str = "team", name: str = "Alice") -> GroupCreated:
    request = CreateGroup(1, group, "pw", name)
    core.handle(cid, request, NOW)
    [(_, created)] = sends(core.finish_create(cid, request, "hash-of-pw", NOW))
    assert isinstance(created, GroupCreated)
    return created


def token_join(core: ChatCore, cid: int, group_id: int, name: str, token: str, *, now: float = NOW) -> Event:
    """The first frame answering a join with a token: no password work may be asked for."""
    actions = core.handle(cid, JoinGroup(9, group_id, None, name, resume_token=token), now)
    assert not any(isinstance(a, VerifyPassword) for a in actions)
    return sends(actions)[0][1]


def test_tokens_are_short_printable_and_bound_to_group_name_and_time() -> None:
    tokens = ResumeTokens(b"k" * 32, DAY)
    token = tokens.issue(7, "alice", NOW)
    assert len(token) <= limits.MAX_RESUME_TOKEN_LENGTH
    assert token.isascii()
    assert token.isprintable()
    assert tokens.valid(token, 7, "alice", NOW + DAY - 1)
    assert not tokens.valid(token, 7, "alice", NOW + DAY)  # expired
    assert not tokens.valid(token, 8, "alice", NOW)  # another group
    assert not tokens.valid(token, 7, "bob", NOW)  # another name
    assert not ResumeTokens(b"x" * 32, DAY).valid(token, 7, "alice", NOW)  # another server's secret
    expiry, mac = token.split(".")
    assert not tokens.valid(f"{int(expiry) + 999}.{mac}", 7, "alice", NOW)  # a longer life cannot be forged
    assert not tokens.valid("garbage", 7, "alice", NOW)


def test_created_and_joined_carry_a_token_that_rejoins_without_a_password() -> None:
    core = open_core(MemoryStore())
    created = create(core)
    assert created.resume_token
    request = JoinGroup(2, 1, "pw", "Bob")
    core.handle(2, request, NOW)
    joined = sends(core.finish_join(2, request, True, NOW))[0][1]
    assert isinstance(joined, GroupJoined)
    core.disconnect(2)
    core.connect(3, "10.0.0.9")
    rejoined = token_join(core, 3, 1, "BOB", joined.resume_token)  # the same name key: the same person
    assert isinstance(rejoined, GroupJoined)
    assert rejoined.resume_token  # a fresh one, for another 24 h


def test_a_token_from_before_a_restart_still_works(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = SqliteStore(path)
    token = create(open_core(store)).resume_token
    store.close()
    restarted = open_core(SqliteStore(path))
    assert isinstance(token_join(restarted, 1, 1, "Alice", token), GroupJoined)


def _refused_code(event: Event) -> str:
    assert isinstance(event, Error)
    return event.code


def test_a_token_for_another_name_or_group_or_expired_is_bad_credentials_and_a_failed_guess() -> None:
    config = ServerConfig(login_free_failures=3, resume_token_lifetime=10.0)
    core = open_core(MemoryStore(), config)
    token = create(core).resume_token
    create(core, 1, "other", "Alice")
    assert _refused_code(token_join(core, 2, 2, "Alice", token)) == "bad_credentials"  # another group
    assert _refused_code(token_join(core, 2, 99, "Alice", token)) == "bad_credentials"  # no such group: the same
    assert _refused_code(token_join(core, 2, 1, "Mallory", token)) == "bad_credentials"  # another name
    assert _refused_code(token_join(core, 2, 1, "Alice", "1.x")) == "bad_credentials"  # made up
    assert _refused_code(token_join(core, 2, 1, "Alice", token, now=NOW + 11)) == "bad_credentials"  # expired
    # Three failed guesses at group 1 from this address: a password try now has to wait.
    delayed = sends(core.handle(2, JoinGroup(3, 1, "pw", "Bob"), NOW + 11))[0][1]
    assert _refused_code(delayed) == "too_many_attempts"


def test_a_right_token_is_only_for_its_own_name() -> None:
    core = open_core(MemoryStore())
    token = create(core).resume_token
    assert fields.name_key("ALICE") == fields.name_key("Alice")
    assert isinstance(token_join(core, 2, 1, "Alice2", token), Error)
