"""The storage interface: groups with their password hashes, and one append-only message log per group.

Kept small and engine-neutral so SQLite (embedded default), memory (tests) and Redis (scale-out)
implement the same thing. Every method is synchronous and called from the loop thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A stored group. ``last_seq`` is the seq of its newest stored message (0 if none)."""

    group_id: int
    name: str
    password_hash: str
    last_seq: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message in a group's log. ``client_msg_id`` (with sender) makes a resend idempotent."""

    group_id: int
    seq: int
    ts: int
    sender: str
    text: str
    client_msg_id: str | None = None


class StoreError(Exception):
    """The store could not do what was asked (disk full, database locked, connection lost...)."""


class Store(Protocol):
    """Where groups and messages live. Writes are durable when the method returns."""

    def load_groups(self) -> list[GroupRecord]:
        """Every group, for the server to rebuild its directory at start."""
        ...

    def create_group(self, name: str, name_key: str, password_hash: str, ts: int) -> int:
        """Store a new group and return its id: strictly greater than any id ever returned before.

        Raises:
            StoreError: also when ``name_key`` is taken (another server process may have won).
        """
        ...

    def append(self, messages: list[StoredMessage]) -> None:
        """Store a batch atomically (one transaction, one sync): all of it or none of it."""
        ...

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq < ``before_seq``, the newest ones, in increasing seq."""
        ...

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq > ``after_seq``, the oldest ones, in increasing seq."""
        ...

    def find_by_client_id(self, group_id: int, sender: str, client_msg_id: str) -> StoredMessage | None:
        """The message ``sender`` already posted under ``client_msg_id`` in the group, if any."""
        ...

    def close(self) -> None:
        """Release the store; nothing is lost."""
        ...
