"""Storage back ends behind one small interface; :func:`open_store` picks one from a ``--store`` URL."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from chat_server.store.base import GroupRecord, Store, StoreBusy, StoredMessage, StoreError, StoreLocked
from chat_server.store.memory import MemoryStore
from chat_server.store.sqlite import SqliteStore

__all__ = [
    "GroupRecord",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreLocked",
    "StoredMessage",
    "default_store_url",
    "open_store",
]


def default_store_url() -> str:
    """``sqlite:///<user data dir>/groupchat.db``: works on first run with no set-up."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('groupchat')) / 'groupchat.db'}"


def open_store(url: str, *, sync: str = "normal") -> Store:
    """Open the store a URL names: ``memory:``, ``redis://HOST:PORT/DB`` (shared by several processes),
    or ``sqlite:///PATH`` where PATH is relative to the working
    directory unless it starts with ``/`` (so ``sqlite:////var/lib/chat.db`` is absolute, as in SQLAlchemy).
    The store's ``location`` is the path resolved at open: log it, since a relative one is easy to misread.

    Raises:
        ValueError: an unknown scheme.
        StoreError: the store cannot be opened.
    """
    if url == "memory:":
        return MemoryStore()
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url.removeprefix("sqlite:///")).expanduser(), sync=sync)
    if url.startswith(("redis://", "rediss://")):  # rediss: Redis over TLS
        from chat_server.store.redis import RedisStore  # noqa: PLC0415 (redis-py is an optional extra)

        return RedisStore(url)
    raise ValueError(f"unknown store {url!r}: use memory:, sqlite:///PATH, redis://HOST:PORT/DB or rediss://...")
