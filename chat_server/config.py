"""ServerConfig: every server setting and limit in one place, each with its reason and its flag.

``chat-server`` makes one ``--flag`` per field below from its metadata (``cli.py``); the help text
says what the setting does and the comment beside it why its default is what it is.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from shared import limits


def setting(default: Any, help: str) -> Any:
    """A field with a command-line flag."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings for one server process. Defaults are what ``chat-server`` runs with."""

    host: str = setting("127.0.0.1", "address to listen on")
    port: int = setting(7030, "TCP port; 0 picks a free one")
    store_url: str | None = setting(None, "memory: or sqlite:///PATH (default: groupchat.db in the user data dir)")
    # "normal" survives a crash of this process; "full" also a power loss (one fsync per commit).
    sync: str = setting("normal", "SQLite durability: normal (survives a server crash) or full (a power loss too)")
    tls_cert: str | None = setting(None, "PEM certificate chain: serve TLS (with --tls-key)")
    tls_key: str | None = setting(None, "PEM private key for --tls-cert")
    # weechat's logger backlog is 20 lines, gomuks fetches 50 events, discordo 50 messages.
    history_on_join: int = setting(50, "messages replayed to a member who joins")
    # Larger gaps are paged by the client with fetch_history, so a reconnect never floods it.
    catch_up_limit: int = setting(1000, "most messages replayed to a member rejoining with since_seq")

    # --- input ---
    # Ten times the longest message plus envelope; checked on the header, before buffering (NATS: 1 MiB).
    max_frame_size: int = setting(limits.MAX_FRAME_SIZE, "largest frame body accepted after the handshake")
    # Enough for dozens of frames; small enough that one busy client cannot starve the others in a turn.
    read_chunk: int = setting(64 * 1024, "bytes read from one client per loop turn")
    # Fairness between clients in one turn (redis NET_MAX_WRITES_PER_EVENT is 64 KiB).
    write_budget: int = setting(256 * 1024, "bytes written to one client per loop turn")

    # --- connections ---
    # Redis maxclients is 10000; we hold far less state per client than Redis does.
    max_connections: int = setting(10_000, "open connections, in total")
    # ergo allows 16 concurrent connections per IP; a team behind one NAT fits in that.
    max_connections_per_address: int = setting(16, "open connections per client address")
    # ergo allows 32 per 10 min; reconnect storms after a restart need more.
    connect_attempts: int = setting(60, "new connections per address per --connect-window")
    connect_window: float = setting(60.0, "seconds over which --connect-attempts are counted")
    # NATS allows 2 s, InspIRCd 20-90 s; 10 s covers a slow TLS handshake on a bad link.
    hello_timeout: float = setting(10.0, "seconds to complete the TLS and hello handshake")
    frame_timeout: float = setting(30.0, "seconds a partial frame may wait for its next byte")
    # NATS pings every 2 min and allows 2 outstanding; chat wants to notice dead peers sooner.
    ping_interval: float = setting(30.0, "seconds of silence before the server pings a client")
    max_unanswered_pings: int = setting(2, "unanswered pings before a client is closed")
    accepts_per_turn: int = setting(64, "connections accepted per loop turn")

    # --- slow consumers ---
    # InspIRCd hardsendq is 1 MiB; Redis pubsub closes at 32 MiB. Our frames are small.
    output_hard_limit: int = setting(1024 * 1024, "pending output bytes that close a client at once")
    # The Redis pubsub soft-limit pattern (8 MiB for 60 s), scaled to chat frames.
    output_soft_limit: int = setting(256 * 1024, "pending output bytes tolerated for --output-soft-seconds")
    output_soft_seconds: float = setting(10.0, "seconds a client may stay above --output-soft-limit")
    # NATS write_deadline is 10 s.
    write_timeout: float = setting(10.0, "seconds pending output may make no progress before closing")
    output_high_water: int = setting(64 * 1024, "pending output above which a client's requests are not read")

    # --- floods and guessing ---
    # ergo fakelag: burst 5, then 2/s; Synapse rc_message: 0.2/s, burst 10.
    message_burst: int = setting(10, "messages a client may send at once")
    message_rate: float = setting(2.0, "messages per second a client may send after its burst")
    message_queue: int = setting(10, "messages held back over the rate before more are refused")
    # ergo login-throttling: 3 attempts a minute; Synapse failed_attempts: burst 3.
    login_failures_per_group: int = setting(3, "wrong passwords per (address, group) per --login-window")
    login_failures_per_address: int = setting(10, "wrong passwords per address per --login-window")
    login_window: float = setting(60.0, "seconds over which wrong passwords are counted")
    # ergo allows 30 account registrations per 10 min.
    groups_per_address: int = setting(10, "groups one address may create per --groups-window")
    groups_window: float = setting(3600.0, "seconds over which created groups are counted")
    max_groups_per_connection: int = setting(100, "groups one connection may be in at once")
    # Each hash is ~0.2 s of CPU and 16 MiB; a queue past this is a denial of service, not a backlog.
    max_pending_auth: int = setting(64, "password hashes queued or running at once, server-wide")
    # scrypt releases the GIL, so workers run beside the loop; one core is always left to the loop, so
    # a storm of joins slows joins, not chat (measured with chat-bench --storm).
    auth_workers: int = setting(max(1, (os.cpu_count() or 2) - 1), "threads hashing passwords")
    shutdown_grace: float = setting(5.0, "seconds to flush goodbyes on shutdown")

    server_label: str = "groupchat/0.1.0"
