"""Roster: who is a member of which group, across every server process, kept in Redis.

Each change is one Lua script that writes the hashes and PUBLISHes the news on the bus in the same
atomic step, so a process that reads the member list after subscribing misses nothing. Keys (under
``groupchat:``, beside :mod:`chat_server.store.redis`'s):

- ``members:{gid}``: hash ``{node}/{client_id}`` -> msgpack ``[name, name_key, away, reason]``.
- ``names:{gid}``: hash name key -> member key: a name is held by one member of a group, whichever
  process it is on, checked and taken in one script.
- ``node_groups:{node}``: the groups where the node has (or had) members: where its sweep looks.
- ``node:{node}``: its heartbeat, expiring after the node timeout; ``nodes``: nodes not yet swept.

A process that dies without saying so (SIGKILL, power loss) leaves its members behind until its
heartbeat expires and any process's :meth:`Roster.sweep` removes them, publishing ``Left`` for each.
Every method runs on the store worker thread, blocks for one round trip, and fails like the store
(:meth:`RedisStore.failures`): StoreUnavailable when Redis is away, StoreError otherwise.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, cast

import msgpack

from chat_server.cluster.events import TypingNews
from chat_server.store.redis import BUS_CHANNEL, PREFIX, RedisStore
from shared.fields import name_key

__all__ = ["RemoteMember", "Roster"]

log = logging.getLogger("chat_server")

# Shared by the scripts below: the member key, and removing one member with its name (the name only
# if it is still this member's: a rename may have moved it) and its Left on the bus.
_COMMON = """
local prefix = ARGV[1]
local bus = prefix .. 'bus'
local function remove(gid, member, packed)
  local node, cid = string.match(member, '^(.*)/(%d+)$')
  local record = cmsgpack.unpack(packed)
  redis.call('HDEL', prefix .. 'members:' .. gid, member)
  if redis.call('HGET', prefix .. 'names:' .. gid, record[2]) == member then
    redis.call('HDEL', prefix .. 'names:' .. gid, record[2])
  end
  redis.call('PUBLISH', bus, cmsgpack.pack({'l', node, tonumber(gid), tonumber(cid), record[1]}))
end
local function remove_node(node)
  local mine = node .. '/'
  for _, gid in ipairs(redis.call('SMEMBERS', prefix .. 'node_groups:' .. node)) do
    local all = redis.call('HGETALL', prefix .. 'members:' .. gid)
    for i = 1, #all, 2 do
      if string.sub(all[i], 1, #mine) == mine then remove(gid, all[i], all[i + 1]) end
    end
  end
  redis.call('DEL', prefix .. 'node_groups:' .. node, prefix .. 'node:' .. node)
  redis.call('SREM', prefix .. 'nodes', node)
end
"""

# ARGV: prefix, gid, node, cid, name, name key, away ('1'/''), reason. 1: claimed; 0: the name is another's.
_CLAIM = """
local gid, node, cid, name, key, away, reason = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7] == '1', ARGV[8]
local member = node .. '/' .. cid
local names, members = prefix .. 'names:' .. gid, prefix .. 'members:' .. gid
local holder = redis.call('HGET', names, key)
if holder and holder ~= member then return 0 end
local old = redis.call('HGET', members, member)
if old then  -- claimed again under another name (a reconcile): its old name is free
  local old_key = cmsgpack.unpack(old)[2]
  if old_key ~= key and redis.call('HGET', names, old_key) == member then redis.call('HDEL', names, old_key) end
end
redis.call('HSET', members, member, cmsgpack.pack({name, key, away, reason}))
redis.call('HSET', names, key, member)
redis.call('SADD', prefix .. 'node_groups:' .. node, gid)
redis.call('SADD', prefix .. 'nodes', node)
redis.call('PUBLISH', bus, cmsgpack.pack({'j', node, tonumber(gid), tonumber(cid), name, away, reason}))
return 1
"""

# ARGV: prefix, gid, node, cid.
_RELEASE = """
local member = ARGV[3] .. '/' .. ARGV[4]
local packed = redis.call('HGET', prefix .. 'members:' .. ARGV[2], member)
if not packed then return 0 end
remove(ARGV[2], member, packed)
return 1
"""

# ARGV: prefix, gid, node, cid, new name, new name key. 1: renamed; 0: taken by another, or not a member.
_RENAME = """
local gid, node, cid, new, key = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local member = node .. '/' .. cid
local names, members = prefix .. 'names:' .. gid, prefix .. 'members:' .. gid
local packed = redis.call('HGET', members, member)
if not packed then return 0 end
local holder = redis.call('HGET', names, key)
if holder and holder ~= member then return 0 end
local record = cmsgpack.unpack(packed)
if redis.call('HGET', names, record[2]) == member then redis.call('HDEL', names, record[2]) end
redis.call('HSET', names, key, member)
redis.call('HSET', members, member, cmsgpack.pack({new, key, record[3], record[4]}))
redis.call('PUBLISH', bus, cmsgpack.pack({'r', node, tonumber(gid), tonumber(cid), record[1], new}))
return 1
"""

# ARGV: prefix, node, cid, away ('1'/''), reason, then the gids. Groups where it is no member are skipped.
_PRESENCE = """
local node, cid, away, reason = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local member = node .. '/' .. cid
for i = 6, #ARGV do
  local members = prefix .. 'members:' .. ARGV[i]
  local packed = redis.call('HGET', members, member)
  if packed then
    local record = cmsgpack.unpack(packed)
    redis.call('HSET', members, member, cmsgpack.pack({record[1], record[2], away, reason}))
    redis.call('PUBLISH', bus, cmsgpack.pack({'a', node, tonumber(ARGV[i]), tonumber(cid), record[1], away, reason}))
  end
end
return 0
"""

# ARGV: prefix. Removes every node whose heartbeat expired; returns their ids. Atomic, so a node that
# beats while another process sweeps is either alive or swept, never half removed.
_SWEEP = """
local swept = {}
for _, node in ipairs(redis.call('SMEMBERS', prefix .. 'nodes')) do
  if redis.call('EXISTS', prefix .. 'node:' .. node) == 0 then
    remove_node(node)
    table.insert(swept, node)
  end
end
return swept
"""

# ARGV: prefix, node.
_FORGET = """
remove_node(ARGV[2])
return 0
"""

# ARGV: prefix, node, ttl in ms.
_HEARTBEAT = """
redis.call('SET', prefix .. 'node:' .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('SADD', prefix .. 'nodes', ARGV[2])
return 0
"""


class RemoteMember(NamedTuple):
    """A member as Redis has it: of any process, this one's included."""

    node: str
    client_id: int
    name: str
    away: bool
    reason: str


Local = dict[int, dict[int, tuple[str, bool, str]]]
"""A process's own members as it knows them: group id -> client id -> (name, away, reason)."""


class Roster:
    """The shared member lists, over a :class:`RedisStore`'s client (same thread, same failures)."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        client = store.redis
        self._claim = client.register_script(_COMMON + _CLAIM)
        self._release = client.register_script(_COMMON + _RELEASE)
        self._rename = client.register_script(_COMMON + _RENAME)
        self._presence = client.register_script(_COMMON + _PRESENCE)
        self._sweep = client.register_script(_COMMON + _SWEEP)
        self._forget = client.register_script(_COMMON + _FORGET)
        self._heartbeat = client.register_script(_COMMON + _HEARTBEAT)

    def claim(  # noqa: PLR0917 (the worker's calls are positional, as the contract of issue 12 fixed them)
        self, group_id: int, node: str, client_id: int, name: str, away: bool, reason: str
    ) -> bool:
        """Register a member (publishing Joined); False, with nothing done, if another member has the name.

        Call :meth:`heartbeat` before a node's first claim: a node without one is swept.
        """
        args = [group_id, node, client_id, name, name_key(name), _flag(away), reason]
        return bool(self._run(self._claim, args, f"add a member to group {group_id}"))

    def release(self, group_id: int, node: str, client_id: int) -> None:
        """Remove a member and free its name, publishing Left; nothing if it is not registered."""
        self._run(self._release, [group_id, node, client_id], f"remove a member from group {group_id}")

    def rename(self, group_id: int, node: str, client_id: int, new_name: str) -> bool:
        """Rename a member (publishing MemberRenamed); False, with nothing done, if another member has
        the name, or if this one is not registered (swept while this node was cut off from Redis: the
        reconcile after the bus's Resync registers it again)."""
        args = [group_id, node, client_id, new_name, name_key(new_name)]
        return bool(self._run(self._rename, args, f"rename a member of group {group_id}"))

    def set_presence(self, node: str, client_id: int, group_ids: list[int], away: bool, reason: str) -> None:
        """Set a member's away flag and reason in each group, publishing Presence per group."""
        if group_ids:
            self._run(self._presence, [node, client_id, _flag(away), reason, *group_ids], "set a presence")

    def typing(self, group_id: int, node: str, name: str) -> None:
        """Pass on that a member is typing: news only, nothing stored."""
        with self._store.failures("pass on typing"):
            self._store.redis.publish(BUS_CHANNEL, TypingNews(node, group_id, name).encode())

    def heartbeat(self, node: str, ttl_ms: int) -> None:
        """Say this node is alive for ``ttl_ms`` more (and a member of the cluster again if it was swept)."""
        self._run(self._heartbeat, [node, ttl_ms], "send a heartbeat")

    def sweep(self) -> list[str]:
        """Remove every node whose heartbeat expired, with its members (publishing Left for each)."""
        swept = cast("list[bytes]", self._run(self._sweep, [], "sweep dead nodes"))
        return [node.decode() for node in swept]

    def forget_node(self, node: str) -> None:
        """A clean shutdown: remove this node and its members now rather than at the next sweep."""
        self._run(self._forget, [node], "leave the cluster")

    def members(self, group_id: int) -> list[RemoteMember]:
        """Every registered member of the group, by (node, client id); damaged entries are logged and left out."""
        with self._store.failures(f"read the members of group {group_id}"):
            rows = cast("dict[bytes, bytes]", self._store.redis.hgetall(PREFIX + f"members:{group_id}"))
        members = []
        for member, packed in rows.items():
            parsed = _member(member, packed)
            if parsed is None:
                log.warning("group %d: member entry %r in Redis is damaged; left out", group_id, member[:80])
            else:
                members.append(parsed)
        return sorted(members, key=lambda m: (m.node, m.client_id))

    def reconcile(self, node: str, local: Local) -> None:
        """Make Redis's view of this node's members equal ``local`` (after an outage: the node may have
        been swept, or members came and went while Redis was away). Extra ones are released, missing
        ones claimed (one whose name another process took meanwhile is skipped and logged), changed
        ones renamed or given their presence; each change is published as usual."""
        with self._store.failures("read this node's groups"):
            known = cast("set[bytes]", self._store.redis.smembers(PREFIX + f"node_groups:{node}"))
        for group_id in sorted({int(gid) for gid in known} | set(local)):
            here = local.get(group_id, {})
            there = {m.client_id: m for m in self.members(group_id) if m.node == node}
            for client_id in there.keys() - here.keys():
                self.release(group_id, node, client_id)
            for client_id, (name, away, reason) in here.items():
                self._put_back(group_id, node, client_id, there.get(client_id), (name, away, reason))

    def _put_back(
        self, group_id: int, node: str, client_id: int, there: RemoteMember | None, here: tuple[str, bool, str]
    ) -> None:
        name, away, reason = here
        if there is None:
            done = self.claim(group_id, node, client_id, name, away, reason)
        else:
            done = there.name == name or self.rename(group_id, node, client_id, name)
            if done and (there.away, there.reason) != (away, reason):
                self.set_presence(node, client_id, [group_id], away, reason)
        if not done:
            log.warning("group %d: client %d's name %r was taken while Redis was away; not re-registered",
                        group_id, client_id, name)  # fmt: skip

    def _run(self, script: Any, args: list[Any], doing: str) -> Any:
        with self._store.failures(doing):
            return script(keys=[], args=[PREFIX, *args])


def _flag(value: bool) -> str:
    return "1" if value else ""


def _member(member: bytes, packed: bytes) -> RemoteMember | None:
    """One ``members:{gid}`` entry, or None if it is not what the scripts write."""
    node, _, client_id = member.decode(errors="replace").rpartition("/")
    try:
        name, _key, away, reason = msgpack.unpackb(packed, raw=False)
    except (ValueError, TypeError):
        return None
    kinds = (type(name), type(away), type(reason))
    if not node or not client_id.isdigit() or kinds != (str, bool, str):
        return None
    return RemoteMember(node, int(client_id), name, away, reason)
