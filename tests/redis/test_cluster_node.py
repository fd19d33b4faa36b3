"""A process's view of other processes' members stays right whatever the order in which a read of Redis
and the bus's news reach its loop (found by the multi-process tests: a group's creator missing on
another process). The real ChatCore over a real Redis; the store thread's part is run by hand, so the
order is the one the test names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server.cluster.events import GroupAdded, Joined, Left, Resync
from chat_server.cluster.roster import Roster
from chat_server.config import ServerConfig
from chat_server.core import ChatCore
from chat_server.outgoing import Action, Outgoing, StoreCall
from chat_server.store.redis import RedisStore
from shared import MemberJoined, MemberLeft
from tests.redis.redis_server import RedisServer


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    opened = RedisStore(redis_server.url)
    yield opened
    opened.close()


def _read(actions: list[Action]) -> StoreCall:
    [call] = [a for a in actions if isinstance(a, StoreCall)]
    return call


def test_a_join_published_while_the_new_group_is_read_is_kept(store: RedisStore) -> None:
    core = ChatCore(ServerConfig(), store, decoy_hash="x")  # process C
    group_id = store.create_group("team", "team", "hash", 0)  # on process A: GroupAdded is published
    load = _read(core.on_bus([GroupAdded(group_id)]))
    snapshot = load.work()  # C's store thread reads the group: nobody in it yet
    Roster(store).claim(group_id, "nodeA", 1, "alice", False, "")  # A's creator: Joined is published
    assert core.on_bus([Joined("nodeA", group_id, 1, "alice", False, "")]) == []  # waits for the read
    load.then(snapshot)
    group = core.groups.get(group_id)
    assert group is not None
    assert group.remote == {"nodeA/1": "alice"}


def test_a_resync_read_before_a_join_does_not_undo_it(store: RedisStore) -> None:
    group_id = store.create_group("team", "team", "hash", 0)
    core = ChatCore(ServerConfig(), store, decoy_hash="x")
    resync = _read(core.on_bus([Resync()]))
    snapshot = resync.work()  # nobody yet
    Roster(store).claim(group_id, "nodeA", 1, "alice", False, "")
    core.on_bus([Joined("nodeA", group_id, 1, "alice", False, "")])
    resync.then(snapshot)
    group = core.groups.get(group_id)
    assert group is not None
    assert group.remote == {"nodeA/1": "alice"}


def test_news_held_behind_a_read_reaches_local_members_once_in_order(store: RedisStore) -> None:
    group_id = store.create_group("team", "team", "hash", 0)
    core = ChatCore(ServerConfig(), store, decoy_hash="x")
    group = core.groups.get(group_id)
    assert group is not None
    core.groups.add_member(group, 7, "carol")  # a member here, who is told about the others
    resync = _read(core.on_bus([Resync()]))
    Roster(store).claim(group_id, "nodeA", 1, "alice", False, "")
    snapshot = resync.work()  # alice is in it
    held = core.on_bus([Joined("nodeA", group_id, 1, "alice", False, ""), Left("nodeA", group_id, 1, "alice")])
    assert held == []
    news = [a.event for a in resync.then(snapshot) if isinstance(a, Outgoing)]
    assert news == [MemberJoined(group_id, "alice"), MemberLeft(group_id, "alice")]
    assert group.remote == {}
