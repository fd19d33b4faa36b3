"""A store in process memory (``--store memory:``): for tests and benchmarks; nothing survives exit."""

from __future__ import annotations

import bisect

from chat_server.store.base import GroupRecord, StoredMessage, StoreError


class MemoryStore:
    """Implements :class:`chat_server.store.base.Store` with dicts and lists."""

    def __init__(self) -> None:
        self._groups: dict[int, GroupRecord] = {}
        self._name_keys: set[str] = set()
        self._logs: dict[int, list[StoredMessage]] = {}
        self._by_client_id: dict[tuple[int, str, str], StoredMessage] = {}

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
        for message in messages:
            self._logs[message.group_id].append(message)
            if message.client_msg_id is not None:
                self._by_client_id[(message.group_id, message.sender, message.client_msg_id)] = message

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        log = self._logs.get(group_id, [])
        end = bisect.bisect_left(log, before_seq, key=lambda m: m.seq)
        return log[max(0, end - limit) : end]

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        log = self._logs.get(group_id, [])
        start = bisect.bisect_right(log, after_seq, key=lambda m: m.seq)
        return log[start : start + limit]

    def find_by_client_id(self, group_id: int, sender: str, client_msg_id: str) -> StoredMessage | None:
        return self._by_client_id.get((group_id, sender, client_msg_id))

    def close(self) -> None:
        pass

    def _last_seq(self, group_id: int) -> int:
        log = self._logs.get(group_id)
        return log[-1].seq if log else 0
