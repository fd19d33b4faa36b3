"""Cluster mode's Redis writes against a real redis-server: commit (seqs, resends, the bus) and the roster."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from chat_server.cluster.events import (
    GroupAdded,
    Joined,
    Left,
    MemberRenamed,
    Posted,
    Presence,
    TypingNews,
    WireEvent,
    decode_event,
)
from chat_server.cluster.roster import RemoteMember, Roster
from chat_server.store import StoredMessage
from chat_server.store.redis import BUS_CHANNEL, RedisStore, StoreUnavailable
from tests.redis.redis_server import RedisServer

DEADLINE = 10.0


class Bus:
    """A plain subscriber on the bus: what the scripts published, decoded, in order."""

    def __init__(self, url: str) -> None:
        client: Any = redis.Redis.from_url(url)
        self._client = client
        self._pubsub = client.pubsub()
        self._pubsub.subscribe(BUS_CHANNEL)
        assert self._next()["type"] == "subscribe"  # from here on, nothing published is missed

    def take(self, count: int) -> list[WireEvent | None]:
        """The next ``count`` events (fails past the deadline)."""
        got: list[WireEvent | None] = []
        deadline = time.monotonic() + DEADLINE
        while len(got) < count:
            assert time.monotonic() < deadline, f"only {got} arrived"
            message = self._pubsub.get_message(timeout=0.2)
            if message is not None and message["type"] == "message":
                got.append(decode_event(message["data"]))
        return got

    def quiet(self) -> bool:
        """Nothing more was published (a PING's answer comes after anything published before it)."""
        self._pubsub.ping()
        return bool(self._next()["type"] == "pong")

    def _next(self) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            message = self._pubsub.get_message(timeout=0.2)
            if message is not None:
                return dict(message)
        raise AssertionError("Redis said nothing before the deadline")

    def close(self) -> None:
        self._pubsub.close()
        self._client.close()


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    opened = RedisStore(redis_server.url)
    yield opened
    opened.close()


@pytest.fixture
def bus(redis_server: RedisServer) -> Iterator[Bus]:
    listening = Bus(redis_server.url)
    yield listening
    listening.close()


@pytest.fixture
def roster(store: RedisStore) -> Roster:
    return Roster(store)


def _msg(group_id: int, text: str, cid: str | None = None, sender: str = "Bob", action: bool = False) -> StoredMessage:
    return StoredMessage(group_id, 999, 1_700_000_000_000, sender, text, cid, action)


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)


# --- commit -------------------------------------------------------------------------------------------


def test_commit_allocates_seqs_stores_and_publishes_each_message(store: RedisStore, bus: Bus) -> None:
    group = store.create_group("team", "team", "h", 0)
    assert bus.take(1) == [GroupAdded(group)]
    ts = 1_700_000_000_123
    batch = [
        StoredMessage(group, 0, ts, "Bob", "héllo 👋", "m-1"),
        StoredMessage(group, 0, ts + 1, "Ann", "waves", None, True),
    ]
    assert store.commit(batch, "node-a") == [(1, ts, True), (2, ts + 1, True)]
    assert store.messages_after(group, 0, 10) == [
        StoredMessage(group, 1, ts, "Bob", "héllo 👋", "m-1", False),
        StoredMessage(group, 2, ts + 1, "Ann", "waves", None, True),
    ]
    assert bus.take(2) == [
        Posted("node-a", group, 1, ts, "Bob", "héllo 👋", False),
        Posted("node-a", group, 2, ts + 1, "Ann", "waves", True),
    ]
    long = "ü" * 4000 + "x" * 70_000  # past every msgpack string size class Lua's cmsgpack picks from
    assert store.commit([StoredMessage(group, 0, ts, "Bob", long)], "node-a")[0][0] == 3
    assert bus.take(1) == [Posted("node-a", group, 3, ts, "Bob", long, False)]
    assert store.load_group(group) == store.load_groups()[0]
    assert store.load_groups()[0].last_seq == 3
    assert store.commit([], "node-a") == []


def test_commit_dedupes_resends_across_batches_and_within_one(store: RedisStore, bus: Bus) -> None:
    group = store.create_group("team", "team", "h", 0)
    first = store.commit([_msg(group, "one", "m-1")], "a")
    assert first == [(1, 1_700_000_000_000, True)]
    later = StoredMessage(group, 0, 1_700_000_009_999, "BOB", "one again", "m-1")  # the same sender by name key
    second = store.commit(
        [later, _msg(group, "two", "m-2"), _msg(group, "two again", "m-2"), _msg(group, "no id")], "a"
    )
    assert second == [(1, 1_700_000_000_000, False), (2, 1_700_000_000_000, True), (2, 1_700_000_000_000, False),
                      (3, 1_700_000_000_000, True)]  # fmt: skip
    assert [m.text for m in store.messages_after(group, 0, 10)] == ["one", "two", "no id"]
    assert [e.seq for e in bus.take(4)[1:] if isinstance(e, Posted)] == [1, 2, 3]
    assert bus.quiet()  # a resend publishes nothing
    assert store.commit([_msg(group, "Ann's", "m-1", sender="Ann")], "a") == [(4, 1_700_000_000_000, True)]


def test_commit_refuses_an_unknown_group_and_stores_the_rest(store: RedisStore) -> None:
    group = store.create_group("team", "team", "h", 0)
    assert store.commit([_msg(77, "lost", "m-1"), _msg(group, "kept", "m-1")], "a") == [
        (0, 0, False),
        (1, 1_700_000_000_000, True),
    ]
    assert store.load_group(77) is None
    assert [m.text for m in store.messages_after(group, 0, 10)] == ["kept"]


def test_two_committers_at_once_get_contiguous_seqs_in_bus_order(redis_server: RedisServer, bus: Bus) -> None:
    stores = [RedisStore(redis_server.url), RedisStore(redis_server.url)]
    group = stores[0].create_group("team", "team", "h", 0)
    results: dict[str, list[tuple[int, int, bool]]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def send(store: RedisStore, node: str) -> None:
        start.wait()
        for batch in range(40):
            results[node] += store.commit(
                [_msg(group, f"{node}{batch}.{i}", f"{node}-{batch}-{i}") for i in range(3)], node
            )

    threads = [threading.Thread(target=send, args=(s, n)) for s, n in zip(stores, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(seq for node in "ab" for seq, _, stored in results[node] if stored)
    assert seqs == list(range(1, 241))
    for node in "ab":  # each committer's own seqs increase in the order it sent
        assert [seq for seq, _, _ in results[node]] == sorted(seq for seq, _, _ in results[node])
    stored = stores[1].messages_after(group, 0, 1000)
    assert [m.seq for m in stored] == seqs
    posted = bus.take(1 + 240)[1:]
    assert [(e.seq, e.text) for e in posted if isinstance(e, Posted)] == [(m.seq, m.text) for m in stored]
    for store in stores:
        store.close()


def test_commit_while_redis_is_down_is_unavailable_and_a_resend_after_finds_nothing_lost(
    redis_server: RedisServer, store: RedisStore
) -> None:
    group = store.create_group("team", "team", "h", 0)
    assert store.commit([_msg(group, "one", "m-1")], "a")[0][2]
    redis_server.kill()
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.commit([_msg(group, "two", "m-2")], "a")
    with pytest.raises(StoreUnavailable):
        store.load_group(group)
    redis_server.start()
    assert store.commit([_msg(group, "one", "m-1"), _msg(group, "two", "m-2")], "a") == [
        (1, 1_700_000_000_000, False),
        (2, 1_700_000_000_000, True),
    ]


def test_the_store_gives_its_url_and_client_to_the_roster_and_bus(redis_server: RedisServer, store: RedisStore) -> None:
    assert store.url == redis_server.url
    assert store.redis.ping()


# --- roster -------------------------------------------------------------------------------------------


def test_claim_refuses_a_name_another_member_holds_on_any_node(roster: Roster, bus: Bus) -> None:
    roster.heartbeat("a", 60_000)
    assert roster.claim(1, "a", 5, "Ann", False, "")
    assert not roster.claim(1, "b", 9, "ANN", False, "")  # the name key, not the spelling
    assert roster.claim(1, "a", 5, "Ann", True, "lunch")  # the holder itself may claim again
    assert roster.claim(2, "b", 9, "ann", False, "")  # another group: another namespace
    assert roster.members(1) == [RemoteMember("a", 5, "Ann", True, "lunch")]
    assert bus.take(3) == [
        Joined("a", 1, 5, "Ann", False, ""),
        Joined("a", 1, 5, "Ann", True, "lunch"),
        Joined("b", 2, 9, "ann", False, ""),
    ]
    roster.release(1, "a", 5)
    roster.release(1, "a", 5)  # not a member any more: nothing, and no news
    assert bus.take(1) == [Left("a", 1, 5, "Ann")]
    assert bus.quiet()
    assert roster.claim(1, "b", 9, "ANN", False, "")


def test_claims_of_one_name_at_once_from_many_nodes_admit_exactly_one(redis_server: RedisServer) -> None:
    stores = [RedisStore(redis_server.url) for _ in range(8)]
    won: list[bool] = [False] * len(stores)
    start = threading.Barrier(len(stores))

    def claim(i: int) -> None:
        start.wait()
        won[i] = Roster(stores[i]).claim(1, f"node{i}", 1, "Zed", False, "")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won.count(True) == 1
    assert [m.name for m in Roster(stores[0]).members(1)] == ["Zed"]
    for store in stores:
        store.close()


def test_rename_moves_the_name_and_refuses_a_taken_one(roster: Roster, bus: Bus) -> None:
    assert roster.claim(1, "a", 5, "Ann", False, "")
    assert roster.claim(1, "b", 6, "Bob", False, "")
    assert not roster.rename(1, "a", 5, "BOB")
    assert not roster.rename(1, "a", 99, "Cy")  # not a member
    assert roster.rename(1, "a", 5, "Anna")
    assert roster.claim(1, "b", 7, "ann", False, "")  # the old name is free
    assert not roster.claim(1, "b", 8, "ANNA", False, "")
    assert bus.take(4)[2:] == [MemberRenamed("a", 1, 5, "Ann", "Anna"), Joined("b", 1, 7, "ann", False, "")]
    assert [m.name for m in roster.members(1)] == ["Anna", "Bob", "ann"]


def test_presence_and_typing_are_published(roster: Roster, bus: Bus) -> None:
    for group in (1, 2):
        assert roster.claim(group, "a", 5, "Ann", False, "")
    roster.set_presence("a", 5, [1, 2, 3], True, "afk")  # group 3: not a member there, skipped
    roster.typing(2, "a", "Ann")
    assert bus.take(5)[2:] == [
        Presence("a", 1, 5, "Ann", True, "afk"),
        Presence("a", 2, 5, "Ann", True, "afk"),
        TypingNews("a", 2, "Ann"),
    ]
    assert roster.members(2) == [RemoteMember("a", 5, "Ann", True, "afk")]


def test_sweep_removes_an_expired_nodes_members_and_publishes_left(roster: Roster, store: RedisStore, bus: Bus) -> None:
    roster.heartbeat("dead", 100)
    roster.heartbeat("live", 60_000)
    assert roster.claim(1, "dead", 1, "Ann", False, "")
    assert roster.claim(2, "dead", 2, "Ann", False, "")
    assert roster.claim(1, "live", 1, "Bob", False, "")
    bus.take(3)
    _until(lambda: not store.redis.exists("groupchat:node:dead"))
    assert roster.sweep() == ["dead"]
    assert sorted(bus.take(2), key=repr) == [Left("dead", 1, 1, "Ann"), Left("dead", 2, 2, "Ann")]
    assert roster.members(1) == [RemoteMember("live", 1, "Bob", False, "")]
    assert roster.members(2) == []
    assert roster.claim(1, "live", 2, "ann", False, "")  # its names are free
    assert roster.sweep() == []
    roster.heartbeat("dead", 60_000)  # a node cut off and back is a node again
    assert roster.sweep() == []


def test_forget_node_removes_it_at_once(roster: Roster, bus: Bus) -> None:
    roster.heartbeat("a", 60_000)
    assert roster.claim(1, "a", 1, "Ann", False, "")
    roster.forget_node("a")
    assert bus.take(2) == [Joined("a", 1, 1, "Ann", False, ""), Left("a", 1, 1, "Ann")]
    assert roster.members(1) == []
    assert roster.sweep() == []


def test_reconcile_makes_redis_match_the_nodes_own_members(roster: Roster, bus: Bus) -> None:
    assert roster.claim(1, "a", 1, "Ann", False, "")  # still here, unchanged
    assert roster.claim(1, "a", 2, "Gone", False, "")  # left while Redis was away
    assert roster.claim(2, "a", 1, "Ann", False, "")  # went away (presence) meanwhile
    assert roster.claim(2, "a", 3, "Old", False, "")  # renamed meanwhile
    assert roster.claim(3, "b", 1, "Taken", False, "")  # another node took the name meanwhile
    assert roster.claim(1, "b", 1, "Bob", False, "")  # another node's: untouched
    bus.take(6)
    local = {1: {1: ("Ann", False, "")}, 2: {1: ("Ann", True, "brb"), 3: ("New", False, ""), 4: ("Cy", False, "")},
             3: {9: ("taken", False, "")}}  # fmt: skip
    roster.reconcile("a", local)
    assert set(bus.take(4)) == {
        Left("a", 1, 2, "Gone"),
        Presence("a", 2, 1, "Ann", True, "brb"),
        MemberRenamed("a", 2, 3, "Old", "New"),
        Joined("a", 2, 4, "Cy", False, ""),
    }
    assert bus.quiet()
    assert roster.members(1) == [RemoteMember("a", 1, "Ann", False, ""), RemoteMember("b", 1, "Bob", False, "")]
    assert [(m.client_id, m.name, m.away) for m in roster.members(2)] == [
        (1, "Ann", True),
        (3, "New", False),
        (4, "Cy", False),
    ]
    assert [m.node for m in roster.members(3)] == ["b"]


def test_a_damaged_member_entry_is_left_out(roster: Roster, store: RedisStore) -> None:
    assert roster.claim(1, "a", 1, "Ann", False, "")
    store.redis.hset("groupchat:members:1", "x/2", b"\xc1")
    store.redis.hset("groupchat:members:1", "nonsense", b"\x90")
    assert roster.members(1) == [RemoteMember("a", 1, "Ann", False, "")]


def test_roster_calls_while_redis_is_down_are_unavailable(redis_server: RedisServer, roster: Roster) -> None:
    redis_server.kill()
    for call in (lambda: roster.claim(1, "a", 1, "Ann", False, ""), roster.sweep, lambda: roster.members(1)):
        with pytest.raises(StoreUnavailable):
            call()
    redis_server.start()
    assert roster.claim(1, "a", 1, "Ann", False, "")
