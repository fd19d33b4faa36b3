"""The storage interface: groups with their password hashes, and one append-only message log per group.

Kept small and engine-neutral so SQLite (embedded default), memory (tests) and Redis (scale-out)
implement the same thing. Every method is synchronous and called from the loop thread only, so no
method may wait: a store that cannot do something at once raises :class:`StoreBusy` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A stored group. ``last_seq`` is the seq of its newest stored message (0 if none)."""

    group_id: int
    name: str
    password_hash: str
    last_seq: int


class StoredMessage(NamedTuple):
    """One message in a group's log. ``client_msg_id``, with the sender's name key, makes a resend idempotent.

    A named tuple, not a dataclass: one is made per message posted and per row read, and a frozen
    dataclass costs five times as much to build (issue 11).
    """

    group_id: int
    seq: int
    ts: int
    sender: str
    text: str
    client_msg_id: str | None = None
    action: bool = False  # a /me line (feature "action")


@dataclass(frozen=True, slots=True)
class SearchPage:
    """Hits newest first; ``next_before_seq`` continues the search below them (0: nothing older is left)."""

    hits: list[StoredMessage]
    next_before_seq: int


class StoreError(Exception):
    """The store could not do what was asked (disk full, damaged file, undecodable row...).

    The message is one line, fit for a log or a ``cannot start:`` refusal.
    """


class StoreBusy(StoreError):
    """Someone else holds the database's write lock right now: nothing was done; try again on a later turn."""


class StoreLocked(StoreError):
    """Another server process has the store open; the message names the file and that process."""


class Store(Protocol):
    """Where groups and messages live. Writes are durable when the method returns.

    Every method raises :class:`StoreError` (never another exception type) when it fails, reads
    included; the caller fails just the request that needed it.
    """

    @property
    def location(self) -> str:
        """Where the data lives, for the start-up log: the absolute resolved file path, or ``memory``."""
        ...

    def load_groups(self) -> list[GroupRecord]:
        """Every group, for the server to rebuild its directory at start."""
        ...

    def create_group(self, name: str, name_key: str, password_hash: str, ts: int) -> int:
        """Store a new group and return its id: strictly greater than any id ever returned before.

        Raises:
            StoreError: also when ``name_key`` is taken (another server process may have won).
            StoreBusy: the database is locked by someone else; nothing was stored.
        """
        ...

    def append(self, messages: list[StoredMessage]) -> None:
        """Store a batch atomically (one transaction, one sync): all of it or none of it.

        Raises:
            StoreError: nothing was stored, e.g. a (group, seq) or (group, sender name key, client_msg_id)
                already stored, or an unknown group.
            StoreBusy: the database is locked by someone else; nothing was stored, try again next turn.
        """
        ...

    def messages_before(self, group_id: int, before_seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq < ``before_seq``, the newest ones, in increasing seq."""
        ...

    def messages_after(self, group_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq > ``after_seq``, the oldest ones, in increasing seq."""
        ...

    def find_by_client_id(self, group_id: int, sender_key: str, client_msg_id: str) -> StoredMessage | None:
        """The message stored under ``client_msg_id`` in the group by a sender whose name key
        (``shared.fields.name_key``) is ``sender_key``, if any: "BOB" resending Bob's id finds Bob's message.
        """
        ...

    def search(self, group_id: int, needle: str, before_seq: int, limit: int, scan_rows: int) -> SearchPage:
        """Up to ``limit`` messages with seq < ``before_seq`` whose text holds ``needle`` (case-insensitive),
        newest first, looking at no more than the ``scan_rows`` seqs below ``before_seq``
        (:mod:`chat_server.store.search`)."""
        ...

    def server_secret(self) -> bytes:
        """32 random bytes, made once and kept with the data, so resume tokens survive a restart.

        A persistent store makes (or reads) it when opened, so this call never fails nor waits.
        """
        ...

    def close(self) -> None:
        """Release the store (and its lock); nothing is lost."""
        ...
