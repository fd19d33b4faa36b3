"""RedisStore against a real redis-server: the Store promises, shared by two processes, across a crash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server.store import StoredMessage, StoreError
from chat_server.store.redis import RedisStore, StoreUnavailable
from shared.fields import name_key
from tests.redis.redis_server import RedisServer


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    opened = RedisStore(redis_server.url)
    yield opened
    opened.close()


def _msgs(group_id: int, seqs: range, sender: str = "Bob") -> list[StoredMessage]:
    return [StoredMessage(group_id, seq, 1000 + seq, sender, f"text {seq}", f"m-{seq}") for seq in seqs]


def test_groups_get_increasing_ids_and_unique_name_keys_across_processes(redis_server: RedisServer) -> None:
    first, second = RedisStore(redis_server.url), RedisStore(redis_server.url)
    try:
        assert first.create_group("team", "team", "hash-a", 1) == 1
        assert second.create_group("ops", "ops", "hash-b", 2) == 2
        with pytest.raises(StoreError, match="taken"):
            second.create_group("TEAM", "team", "hash-c", 3)
        assert first.create_group("dev", "dev", "hash-d", 4) == 3  # a refused name used no id
        records = second.load_groups()
        assert [(g.group_id, g.name, g.password_hash, g.last_seq) for g in records] == [
            (1, "team", "hash-a", 0),
            (2, "ops", "hash-b", 0),
            (3, "dev", "hash-d", 0),
        ]
        assert first.server_secret() == second.server_secret()
        assert len(first.server_secret()) == 32
    finally:
        first.close()
        second.close()


def test_history_pages_and_last_seq(store: RedisStore) -> None:
    group = store.create_group("team", "team", "h", 0)
    store.append(_msgs(group, range(1, 11)))
    assert [m.seq for m in store.messages_before(group, 11, 3)] == [8, 9, 10]
    assert [m.seq for m in store.messages_before(group, 4, 10)] == [1, 2, 3]
    assert store.messages_before(group, 1, 10) == []
    assert [m.seq for m in store.messages_after(group, 7, 10)] == [8, 9, 10]
    assert [m.seq for m in store.messages_after(group, 0, 2)] == [1, 2]
    assert store.messages_after(group, 10, 5) == []
    assert store.load_groups()[0].last_seq == 10
    first = store.messages_after(group, 0, 1)[0]
    assert (first.ts, first.sender, first.text, first.client_msg_id) == (1001, "Bob", "text 1", "m-1")


def test_a_batch_is_stored_whole_or_not_at_all(store: RedisStore) -> None:
    group = store.create_group("team", "team", "h", 0)
    other = store.create_group("ops", "ops", "h", 0)
    store.append(_msgs(group, range(1, 3)))
    with pytest.raises(StoreError, match="seq 2 of group 1 taken"):
        store.append(_msgs(other, range(1, 3)) + _msgs(group, range(2, 4)))
    with pytest.raises(StoreError, match="no group 9"):
        store.append(_msgs(other, range(1, 2)) + _msgs(9, range(1, 2)))
    with pytest.raises(StoreError, match="client_msg_id"):
        store.append([StoredMessage(other, 1, 0, "Ann", "a", "same"), StoredMessage(other, 2, 0, "ANN", "b", "same")])
    assert store.messages_after(other, 0, 10) == []
    assert [g.last_seq for g in store.load_groups()] == [2, 0]


def test_a_resend_is_found_by_the_senders_name_key_and_refused_as_a_duplicate(store: RedisStore) -> None:
    group = store.create_group("team", "team", "h", 0)
    store.append([StoredMessage(group, 1, 5, "Bob", "hello", "m-1"), StoredMessage(group, 2, 6, "Ann", "no id")])
    found = store.find_by_client_id(group, name_key("BOB"), "m-1")
    assert found is not None
    assert (found.seq, found.text) == (1, "hello")
    assert store.find_by_client_id(group, name_key("Ann"), "m-1") is None
    with pytest.raises(StoreError, match="taken"):
        store.append([StoredMessage(group, 3, 7, "bob", "again", "m-1")])


def test_two_processes_racing_for_one_seq_store_exactly_one(redis_server: RedisServer) -> None:
    first, second = RedisStore(redis_server.url), RedisStore(redis_server.url)
    try:
        group = first.create_group("team", "team", "h", 0)
        first.append([StoredMessage(group, 1, 0, "Ann", "from A")])
        with pytest.raises(StoreError, match="taken"):
            second.append([StoredMessage(group, 1, 0, "Bob", "from B")])
        assert [m.text for m in second.messages_after(group, 0, 10)] == ["from A"]
    finally:
        first.close()
        second.close()


def test_every_acknowledged_write_survives_a_redis_crash(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    group = store.create_group("team", "team", "h", 0)
    store.append(_msgs(group, range(1, 51)))
    secret = store.server_secret()
    redis_server.kill()
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.append(_msgs(group, range(51, 52)))
    with pytest.raises(StoreUnavailable):
        store.messages_after(group, 0, 10)
    redis_server.start()
    # The same store object carries on once Redis is back: no restart of ours needed.
    assert [m.seq for m in store.messages_after(group, 0, 100)] == list(range(1, 51))
    store.append(_msgs(group, range(51, 52)))
    store.close()
    reopened = RedisStore(redis_server.url)
    assert reopened.server_secret() == secret
    assert reopened.load_groups()[0].last_seq == 51
    reopened.close()


def test_an_unreachable_redis_refuses_the_start_with_one_line(redis_server: RedisServer) -> None:
    url = redis_server.url
    redis_server.stop()
    with pytest.raises(StoreUnavailable, match=r"cannot open the store: Redis at redis://127\.0\.0\.1:\d+/0"):
        RedisStore(url, timeout=0.5)


def test_a_damaged_entry_fails_only_the_reads_that_meet_it(store: RedisStore) -> None:
    import redis

    group = store.create_group("team", "team", "h", 0)
    store.append(_msgs(group, range(1, 4)))
    raw = redis.Redis.from_url(store.location)
    raw.xadd(f"groupchat:log:{group}", {"t": "x", "s": b"\xff", "x": "y"}, id="4-0")
    raw.close()
    with pytest.raises(StoreError, match="damaged") as refused:
        store.messages_after(group, 0, 10)
    assert "\xff" not in str(refused.value)
    assert [m.seq for m in store.messages_before(group, 4, 10)] == [1, 2, 3]


def test_an_action_keeps_its_flag_and_search_pages(store: RedisStore) -> None:
    group = store.create_group("team", "team", "h", 0)
    texts = ["Deploy one", "x", "y", "z", "w", "deploy TWO", "v", "waves DEPLOY"]
    store.append([StoredMessage(group, seq, seq, "Bob", text, None, seq == 8) for seq, text in enumerate(texts, 1)])
    assert [m.action for m in store.messages_after(group, 0, 10)] == [False] * 7 + [True]
    first = store.search(group, "deploy", 2**53, 10, 4)
    assert ([m.seq for m in first.hits], first.next_before_seq) == ([8, 6], 5)
    second = store.search(group, "DEPLOY", first.next_before_seq, 10, 4)
    assert ([m.seq for m in second.hits], second.next_before_seq) == ([1], 0)
