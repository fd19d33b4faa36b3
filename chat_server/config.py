"""ServerConfig: every server setting and limit in one place, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass

from shared import limits


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings for one server process. Defaults are what ``chat-server`` runs with."""

    host: str = "127.0.0.1"
    port: int = 7030
    max_frame_size: int = limits.MAX_FRAME_SIZE
    # Bytes read from one client per loop turn: enough for dozens of frames, small enough that one
    # busy client cannot starve the others in the same turn (redis reads 16 KiB per event).
    read_chunk: int = 64 * 1024
    # Bytes written to one client per loop turn, for fairness (redis NET_MAX_WRITES_PER_EVENT is 64 KiB).
    write_budget: int = 256 * 1024
    # Seconds to flush goodbyes on shutdown before closing anyway.
    shutdown_grace: float = 5.0
    # Threads hashing passwords: hashing is ~0.2 s of CPU and must never run on the loop.
    auth_workers: int = 2
    # Connections accepted per readiness event, so an accept storm cannot stall the loop.
    accepts_per_turn: int = 64
    server_label: str = "groupchat/0.1.0"
    # Where groups and messages live: "memory:" or "sqlite:///PATH"; None means the default SQLite file
    # under the user's data directory.
    store_url: str | None = None
    # SQLite synchronous mode: "normal" survives a crash of this process, "full" also a power loss.
    sync: str = "normal"
    # Messages replayed to a joiner without since_seq (weechat's logger backlog is 20, gomuks fetches 50).
    history_on_join: int = 50
    # Most messages replayed to a joiner that says what it has seen; older gaps are paged with fetch_history.
    catch_up_limit: int = 1000
