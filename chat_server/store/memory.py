"""A store in process memory (``--store memory:``): for tests and benchmarks; nothing survives exit."""

from __future__ import annotations

import bisect
import secrets

from chat_server.store.base import GroupRecord, SearchPage, StoredMessage, StoreError
from chat_server.store.search import scan_range, search_rows
from shared import fields

_SECRET_BYTES = 32


class MemoryStore:
    """Implements :class:`chat_server.store.base.Store` with dicts and lists, with SQLite's constraints."""

    location = "memory"

    def __init__(self) -> None:
        self._groups: dict[int, GroupRecord] = {}
        self._name_keys: set[str] = set()
        self._logs: dict[int, list[StoredMessage]] = {}
        # (group_id, sender name key, client_msg_id): the same key SQLite's unique index has.
        self._by_client_id: dict[tuple[int, str, str], StoredMessage] = {}
        # Random per process: resume tokens die with the data they refer to.
        self._secret = secrets.token_bytes(_SECRET_BYTES)

    def load_groups(self) -> list[GroupRecord]:
        return [
            GroupRecord(g.group_id, g.name, g.password_hash, self._last_seq(g.group_id)) for g in self._groups.values()
        ]

    def create_group(self, name: str, name_key: str, password_hash: str, ts: int) -> int:  # noqa: ARG002 (no use for ts)
        if name_key in self._name_keys:
            raise StoreError(f"group name {name!r} is taken")
        group_id = max(self._groups, default=0) + 1
        self._groups[group_id] = GroupRecord(group_id, name, password_hash, 0)
        self._name_keys.add(name_key)
        self._logs[group_id] = []
        return group_id

    def append(self, messages: list[StoredMessage]) -> None:
        self._check(messages)  # all or nothing, as one SQLite transaction
        for message in messages:
            log = self._logs[message.group_id]
            if not log or log[-1].seq < message.seq:
                log.append(message)  # the common case: seqs arrive in order, no search needed
            else:
                bisect.insort(log, message, key=_seq)
            if message.client_msg_id is not None:
                self._by_client_id[(message.group_id, fields.name_key(message.sender), message.client_msg_id)] = message

    def _check(self, messages: list[StoredMessage]) -> None:
        """Refuse the batch as SQLite's constraints would: unknown group, seq taken, client id taken."""
        seqs: set[tuple[int, int]] = set()
        client_ids: set[tuple[int, str, str]] = set()
        for m in messages:
            log = self._logs.get(m.group_id)
            if log is None:
                raise StoreError(f"cannot store {len(messages)} message(s): no group {m.group_id}")
            if (m.group_id, m.seq) in seqs or self._holds_seq(log, m.seq):
                raise StoreError(f"cannot store {len(messages)} message(s): seq {m.seq} of group {m.group_id} taken")
            seqs.add((m.group_id, m.seq))
            if m.client_msg_id is not None:
                key = (m.group_id, fields.name_key(m.sender), m.client_msg_id)
                if key in client_ids or key in self._by_client_id:
                    taken = f"client_msg_id {m.client_msg_id!r} of {m.sender!r} taken"
                    raise StoreError(f"cannot store {len(messages)} message(s): {taken}")
                client_ids.add(key)

    @staticmethod
    def _holds_seq(log: list[StoredMessage], seq: int) -> bool:
        if not log or log[-1].seq < seq:
            return False  # past the end: the common case of a new message, decided without a search
        at = bisect.bisect_left(log, seq, key=_seq)
        return at < len(log) and log[at].seq == seq

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        log = self._logs.get(group_id, [])
        end = bisect.bisect_left(log, before_seq, key=_seq)
        return log[max(0, end - limit) : end]

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        log = self._logs.get(group_id, [])
        start = bisect.bisect_right(log, after_seq, key=_seq)
        return log[start : start + limit]

    def find_by_client_id(self, group_id: int, sender_key: str, client_msg_id: str) -> StoredMessage | None:
        return self._by_client_id.get((group_id, sender_key, client_msg_id))

    def search(self, group_id: int, needle: str, before_seq: int, limit: int, scan_rows: int) -> SearchPage:
        if before_seq <= 1 or limit <= 0:
            return SearchPage([], 0)
        floor, before = scan_range(before_seq, self._last_seq(group_id), scan_rows)
        log = self._logs.get(group_id, [])
        start, end = bisect.bisect_left(log, floor, key=_seq), bisect.bisect_left(log, before, key=_seq)
        return search_rows(reversed(log[start:end]), needle, limit, floor)

    def server_secret(self) -> bytes:
        return self._secret

    def close(self) -> None:
        pass

    def _last_seq(self, group_id: int) -> int:
        log = self._logs.get(group_id)
        return log[-1].seq if log else 0


def _seq(message: StoredMessage) -> int:
    return message.seq
