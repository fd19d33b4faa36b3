"""The shared store (``--store redis://HOST:PORT/DB``): groups and message logs in Redis, for several servers.

Every server process that names the same Redis database sees the same groups, IDs, password hashes,
message logs and server secret (so a resume token from one process works on every other).

Layout, all under ``groupchat:`` (one database may hold other data beside ours):

- ``next_group_id``: a counter; ``INCR`` hands out group IDs, strictly increasing, never reused.
- ``group_names``: hash from a name key (``shared.fields.name_key``) to the group's ID, which makes
  names unique across processes at creation (checked and set in one script).
- ``group:{id}``: hash with ``name``, ``name_key``, ``hash`` (the password hash), ``ts`` and ``last_seq``.
- ``log:{id}``: a stream whose entry IDs are ``{seq}-0``. A stream refuses an ID not above its last one,
  and ``XRANGE``/``XREVRANGE`` over ID ranges are the history pages.
- ``cid:{id}``: hash from ``{sender name key}\\0{client_msg_id}`` to the seq stored under it (resends).
- ``secret``: 32 random bytes, set once with ``SET NX``.
- ``bus``: the pub/sub channel of cluster mode (:mod:`chat_server.cluster.events`): :meth:`RedisStore.commit`
  and :meth:`RedisStore.create_group` publish on it from inside their scripts; members, names and node
  heartbeats are :mod:`chat_server.cluster.roster`'s keys.

Writes go through Lua scripts, so a batch is stored whole or not at all, as one SQLite transaction
would be, even with other processes writing at the same time. Redis's own persistence settings
decide what "stored" survives: run it with ``appendonly yes`` and ``appendfsync always`` for the same
promise as SQLite's ``--sync full`` (README, "What each store promises").

This module blocks on each call for one round trip (bounded by a socket timeout); the loop's use of it
is the scale-out issue's business.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

from chat_server.store.base import GroupRecord, SearchPage, StoreBusy, StoredMessage, StoreError
from chat_server.store.search import scan_range, search_rows
from shared import fields

__all__ = ["BUS_CHANNEL", "DEFAULT_TIMEOUT", "PREFIX", "Committed", "RedisStore", "StoreUnavailable"]

PREFIX = "groupchat:"
BUS_CHANNEL = PREFIX + "bus"
DEFAULT_TIMEOUT = 1.0
"""Seconds a call may wait on Redis before it fails as unavailable: a stalled Redis must not stall us long."""
_SECRET_BYTES = 32
_GROUP_FIELDS = ["name", "hash", "last_seq"]
_Rows = list[tuple[bytes, dict[bytes, bytes]]]
Committed = tuple[int, int, bool]
"""What :meth:`RedisStore.commit` says of one message: (seq, ts, stored now)."""

# KEYS: group_names, next_group_id. ARGV: prefix, name, name_key, password hash, ts.
_CREATE_GROUP = """
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return -1 end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[3], id)
redis.call('HSET', ARGV[1] .. 'group:' .. id, 'name', ARGV[2], 'name_key', ARGV[3], 'hash', ARGV[4],
           'ts', ARGV[5], 'last_seq', 0)
redis.call('PUBLISH', ARGV[1] .. 'bus', cmsgpack.pack({'g', id}))
return id
"""

# ARGV: prefix, then 8 fields per message: group id, seq, ts, sender, sender key, text, client id ('' = none),
# action ('1' for a /me line, '' for a plain one; a plain line's entry has no 'a' field, as before).
# Checks the whole batch first, then writes it, so a refusal stores nothing. Returns 'ok' or a reason.
_APPEND = """
local prefix = ARGV[1]
local last = {}
local cids = {}
for i = 2, #ARGV, 8 do
  local gid, seq = ARGV[i], tonumber(ARGV[i + 1])
  if last[gid] == nil then
    local stored = redis.call('HGET', prefix .. 'group:' .. gid, 'last_seq')
    if not stored then return 'no group ' .. gid end
    last[gid] = tonumber(stored)
  end
  if seq <= last[gid] then return 'seq ' .. seq .. ' of group ' .. gid .. ' taken' end
  last[gid] = seq
  local cid = ARGV[i + 6]
  if cid ~= '' then
    local key = ARGV[i + 4] .. '\\0' .. cid
    if cids[gid .. '/' .. key] or redis.call('HEXISTS', prefix .. 'cid:' .. gid, key) == 1 then
      return 'client_msg_id ' .. cid .. ' taken'
    end
    cids[gid .. '/' .. key] = true
  end
end
for i = 2, #ARGV, 8 do
  local gid, seq, cid = ARGV[i], ARGV[i + 1], ARGV[i + 6]
  local entry = {prefix .. 'log:' .. gid, seq .. '-0', 't', ARGV[i + 2], 's', ARGV[i + 3], 'x', ARGV[i + 5]}
  if cid ~= '' then
    table.insert(entry, 'c')
    table.insert(entry, cid)
    redis.call('HSET', prefix .. 'cid:' .. gid, ARGV[i + 4] .. '\\0' .. cid, seq)
  end
  if ARGV[i + 7] ~= '' then
    table.insert(entry, 'a')
    table.insert(entry, '1')
  end
  redis.call('XADD', unpack(entry))
end
for gid, seq in pairs(last) do
  redis.call('HSET', prefix .. 'group:' .. gid, 'last_seq', seq)
end
return 'ok'
"""


# Cluster mode's write: Redis allocates the seqs, so processes never race for one, and each stored
# message is PUBLISHed (as events.Posted) in the same step, so the bus carries a group's messages in
# seq order. ARGV: prefix, origin node, then 7 fields per message: group id, ts, sender, sender key,
# text, client id ('' = none), action ('1' or ''). Returns 3 numbers per message: seq, ts, stored (1/0);
# 0, 0, 0 for an unknown group; the first copy's seq and ts, then 0, for a resend (not stored again, nor
# published).
# A resend is checked against the cid hash as each message is written, so a second copy within the
# batch is found too.
_COMMIT = """
local prefix, origin = ARGV[1], ARGV[2]
local known = {}
local out = {}
for i = 3, #ARGV, 7 do
  local gid, ts, sender, key, text, cid = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
    ARGV[i + 5]
  local group = prefix .. 'group:' .. gid
  local log = prefix .. 'log:' .. gid
  if known[gid] == nil then known[gid] = redis.call('EXISTS', group) == 1 end
  local first = nil
  if known[gid] and cid ~= '' then first = redis.call('HGET', prefix .. 'cid:' .. gid, key .. '\\0' .. cid) end
  if not known[gid] then
    table.insert(out, 0); table.insert(out, 0); table.insert(out, 0)
  elseif first then
    local rows = redis.call('XRANGE', log, first .. '-0', first .. '-0')
    local first_ts = 0
    if rows[1] then
      local row = rows[1][2]
      for j = 1, #row, 2 do if row[j] == 't' then first_ts = tonumber(row[j + 1]) end end
    end
    table.insert(out, tonumber(first)); table.insert(out, first_ts); table.insert(out, 0)
  else
    local seq = redis.call('HINCRBY', group, 'last_seq', 1)
    local action = ARGV[i + 6] ~= ''
    local entry = {log, seq .. '-0', 't', ARGV[i + 1], 's', sender, 'x', text}
    if cid ~= '' then
      table.insert(entry, 'c'); table.insert(entry, cid)
      redis.call('HSET', prefix .. 'cid:' .. gid, key .. '\\0' .. cid, seq)
    end
    if action then table.insert(entry, 'a'); table.insert(entry, '1') end
    redis.call('XADD', unpack(entry))
    redis.call('PUBLISH', prefix .. 'bus',
               cmsgpack.pack({'p', origin, tonumber(gid), seq, ts, sender, text, action}))
    table.insert(out, seq); table.insert(out, ts); table.insert(out, 1)
  end
end
return out
"""


class StoreUnavailable(StoreBusy):
    """Redis did not answer (down, restarting, unreachable): nothing was done; try again later."""


class RedisStore:
    """Implements :class:`chat_server.store.base.Store` on a Redis database several servers share.

    Differences from SQLite a caller can see: a group's seqs must be appended in increasing order (a
    stream's IDs only grow), which is how the server allocates them anyway.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            import redis  # noqa: PLC0415 (an optional extra: only a Redis store needs it)
        except ImportError as exc:
            raise StoreError("the redis store needs redis-py: pip install 'groupchat[redis]'") from exc
        self._errors = redis.exceptions
        parts = urlsplit(url)
        self._url = url
        self._location = f"redis://{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=False
        )
        self._create_group = self._redis.register_script(_CREATE_GROUP)
        self._append = self._redis.register_script(_APPEND)
        self._commit = self._redis.register_script(_COMMIT)
        with self.failures("open the store"):
            self._redis.ping()
            self._redis.set(PREFIX + "secret", secrets.token_bytes(_SECRET_BYTES), nx=True)
            secret = self._redis.get(PREFIX + "secret")
        if not isinstance(secret, bytes) or len(secret) != _SECRET_BYTES:
            raise StoreError(f"the server secret in {self._location} is damaged: delete key {PREFIX}secret")
        self._secret = secret

    @property
    def location(self) -> str:
        return self._location

    @property
    def url(self) -> str:
        """The URL this store was opened with, for the bus listener's own connection."""
        return self._url

    @property
    def redis(self) -> Any:  # redis.Redis: an optional import, so not named in a signature
        """The client (bytes replies, this store's timeout), shared with the roster on the same thread."""
        return self._redis

    def load_groups(self) -> list[GroupRecord]:
        with self.failures("load the groups"):
            ids = sorted(int(v) for v in cast("list[bytes]", self._redis.hvals(PREFIX + "group_names")))
            pipe = self._redis.pipeline(transaction=False)
            for group_id in ids:
                pipe.hmget(PREFIX + f"group:{group_id}", _GROUP_FIELDS)
            rows = pipe.execute()
        return [self._group(group_id, row) for group_id, row in zip(ids, rows, strict=True)]

    def load_group(self, group_id: int) -> GroupRecord | None:
        """One group (another process created it: events.GroupAdded), or None if there is no such group."""
        with self.failures(f"load group {group_id}"):
            row = cast("list[bytes | None]", self._redis.hmget(PREFIX + f"group:{group_id}", _GROUP_FIELDS))
        return None if row[0] is None else self._group(group_id, row)

    def create_group(self, name: str, name_key: str, password_hash: str, ts: int) -> int:
        with self.failures("create a group"):
            group_id = int(
                self._create_group(
                    keys=[PREFIX + "group_names", PREFIX + "next_group_id"],
                    args=[PREFIX, name, name_key, password_hash, ts],
                )
            )
        if group_id < 0:
            raise StoreError(f"group name {name!r} is taken")
        return group_id

    def append(self, messages: list[StoredMessage]) -> None:
        if not messages:
            return
        args: list[Any] = [PREFIX]
        for m in messages:
            args += [m.group_id, m.seq, m.ts, m.sender, fields.name_key(m.sender), m.text, m.client_msg_id or ""]
            args.append("1" if m.action else "")
        with self.failures(f"store {len(messages)} message(s)"):
            verdict = _text(self._append(keys=[], args=args))
        if verdict != "ok":
            raise StoreError(f"cannot store {len(messages)} message(s): {verdict}")

    def commit(self, messages: list[StoredMessage], origin: str) -> list[Committed]:
        """Store a batch with seqs Redis allocates, and publish each stored message on the bus.

        Unlike :meth:`append`, each message stands alone: the given ``seq`` is ignored; a message
        whose (sender name key, client_msg_id) is already stored, earlier or in this batch, is a resend
        and gives the first copy's ``(seq, ts, False)``; one for an unknown group gives ``(0, 0, False)``.

        Args:
            origin: the committing process's node id, so it can skip its own ``Posted`` on the bus.

        Returns:
            One ``(seq, ts, stored)`` per message, in order.

        Raises:
            StoreUnavailable: Redis did not answer; nothing may be taken as stored (a resend finds out).
            StoreError: Redis refused the script.
        """
        if not messages:
            return []
        args: list[Any] = [PREFIX, origin]
        for m in messages:
            args += [m.group_id, m.ts, m.sender, fields.name_key(m.sender), m.text, m.client_msg_id or ""]
            args.append("1" if m.action else "")
        with self.failures(f"store {len(messages)} message(s)"):
            out = cast("list[int]", self._commit(keys=[], args=args))
        return [(out[i], out[i + 1], out[i + 2] == 1) for i in range(0, len(out), 3)]

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        if before_seq <= 1 or limit <= 0:
            return []
        with self.failures("read history"):
            log = PREFIX + f"log:{group_id}"
            rows = cast("_Rows", self._redis.xrevrange(log, max=str(before_seq - 1), min="-", count=limit))
        return [self._message(group_id, entry_id, row) for entry_id, row in reversed(rows)]

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        with self.failures("read history"):
            rows = cast(
                "_Rows",
                self._redis.xrange(PREFIX + f"log:{group_id}", min=f"{max(after_seq, 0) + 1}", max="+", count=limit),
            )
        return [self._message(group_id, entry_id, row) for entry_id, row in rows]

    def find_by_client_id(self, group_id: int, sender_key: str, client_msg_id: str) -> StoredMessage | None:
        with self.failures("look up a resend"):
            seq = cast("bytes | None", self._redis.hget(PREFIX + f"cid:{group_id}", f"{sender_key}\0{client_msg_id}"))
            if seq is None:
                return None
            log = PREFIX + f"log:{group_id}"
            rows = cast("_Rows", self._redis.xrange(log, min=_text(seq), max=_text(seq), count=1))
        return self._message(group_id, *rows[0]) if rows else None

    def search(self, group_id: int, needle: str, before_seq: int, limit: int, scan_rows: int) -> SearchPage:
        if before_seq <= 1 or limit <= 0:
            return SearchPage([], 0)
        log = PREFIX + f"log:{group_id}"
        with self.failures("search history"):
            newest = cast("_Rows", self._redis.xrevrange(log, max="+", min="-", count=1))
            last = int(newest[0][0].split(b"-", 1)[0]) if newest else 0
            floor, before = scan_range(before_seq, last, scan_rows)
            if before <= floor:
                return SearchPage([], 0)
            rows = cast("_Rows", self._redis.xrevrange(log, max=str(before - 1), min=str(floor), count=scan_rows))
        return search_rows((self._message(group_id, *row) for row in rows), needle, limit, floor)

    def server_secret(self) -> bytes:
        return self._secret

    def close(self) -> None:
        self._redis.close()

    def _group(self, group_id: int, row: Sequence[bytes | None]) -> GroupRecord:
        name, password_hash, last_seq = row
        try:
            return GroupRecord(group_id, _text(name), _text(password_hash), int(last_seq))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:  # a field missing (None) or not text/number
            raise StoreError(f"group {group_id} in {self._location} is damaged: its record is incomplete") from exc

    def _message(self, group_id: int, entry_id: bytes, row: dict[bytes, bytes]) -> StoredMessage:
        try:
            seq = int(entry_id.split(b"-", 1)[0])
            cid = row.get(b"c")
            return StoredMessage(
                group_id,
                seq,
                int(row[b"t"]),
                _text(row[b"s"]),
                _text(row[b"x"]),
                None if cid is None else _text(cid),
                b"a" in row,
            )
        except (KeyError, ValueError) as exc:
            # The text stays out of the message: it is someone's words, not a fact for a log.
            raise StoreError(f"message {entry_id!r} of group {group_id} in {self._location} is damaged") from exc

    @contextmanager
    def failures(self, doing: str) -> Iterator[None]:
        """Every Redis failure leaves as a StoreError; one that says Redis is away, as StoreUnavailable.

        Public for the cluster's roster, which shares this client and must fail the same way.
        """
        try:
            yield
        except (self._errors.ConnectionError, self._errors.TimeoutError) as exc:
            raise StoreUnavailable(f"cannot {doing}: Redis at {self._location} is unavailable ({exc})") from exc
        except self._errors.RedisError as exc:
            raise StoreError(f"cannot {doing}: Redis at {self._location} said {exc}") from exc


def _text(value: bytes | str | Sequence[int]) -> str:
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8")
