"""ServerConfig: every server setting and limit in one place, each with its reason and its flag.

``chat-server`` makes one ``--flag`` per field below from its metadata (``cli.py``); the help text
says what the setting does and the comment beside it why its default is what it is. The field's kind
(``setting_kinds``: a port, a count, seconds, a size...) checks the flag's value, so a bad one is a
usage error before anything starts; a field that names no kind is checked by its default's type.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from chat_server import setting_kinds as kinds
from chat_server.setting_kinds import Kind
from shared import limits

# The largest message_posted (4000 four-byte characters from a 32-character name) is 16,213 bytes, and a
# history page must hold one; a smaller frame limit would refuse legal messages. Larger than the protocol's
# own limit is refused too: a server may tighten the protocol's limits, never loosen them.
MIN_FRAME_SIZE = 20 * 1024


def setting(default: Any, help: str, kind: Kind | None = None) -> Any:
    """A field with a command-line flag.

    Args:
        default: the value without the flag; None means "not set" and ``help`` must say what that does.
        help: what the setting does, for ``--help`` (the default is appended from the field).
        kind: how the flag's text is parsed and checked (``setting_kinds``); without it, one is derived
            from the default's type: an int is a positive count, a float positive seconds, a str text.
    """
    return dataclasses.field(default=default, metadata={"help": help, "kind": kind or kinds.kind_for(default)})


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings for one server process. Defaults are what ``chat-server`` runs with."""

    host: str = setting("127.0.0.1", "address to listen on", kinds.text("HOST"))
    port: int = setting(7030, "TCP port; 0 picks a free one", kinds.PORT)
    store_url: str | None = setting(
        None,
        "memory:, sqlite:///PATH (default: groupchat.db in the user data dir), or redis://HOST:PORT/DB to share "
        "groups with other server processes",
        kinds.text("URL"),
    )
    # "normal" survives a crash of this process; "full" also a power loss (one fsync per commit).
    sync: str = setting(
        "normal",
        "SQLite durability: normal (survives a server crash) or full (a power loss too)",
        kinds.choice("normal", "full"),
    )
    tls_cert: str | None = setting(
        None, "PEM certificate chain: serve TLS (with --tls-key); without it, plain TCP", kinds.text("PEM_FILE")
    )
    tls_key: str | None = setting(None, "PEM private key for --tls-cert", kinds.text("PEM_FILE"))
    # weechat's logger backlog is 20 lines, gomuks fetches 50 events, discordo 50 messages.
    history_on_join: int = setting(50, "messages replayed to a member who joins (0: none)", kinds.COUNT_OR_ZERO)
    # Larger gaps are paged by the client with fetch_history, so a reconnect never floods it.
    catch_up_limit: int = setting(
        1000, "most messages replayed to a member rejoining with since_seq (0: none)", kinds.COUNT_OR_ZERO
    )

    # --- input ---
    # Ten times the longest message plus envelope; checked on the header, before buffering (NATS: 1 MiB).
    max_frame_size: int = setting(
        limits.MAX_FRAME_SIZE,
        "largest frame body accepted after the handshake",
        kinds.size(MIN_FRAME_SIZE, limits.MAX_FRAME_SIZE),
    )
    # Enough for dozens of frames; small enough that one busy client cannot starve the others in a turn.
    # At most 16 MiB: recv() allocates the whole chunk before it knows how much arrived.
    read_chunk: int = setting(64 * 1024, "bytes read from one client per loop turn", kinds.size(1, 16 * 1024**2))
    # Fairness between clients in one turn (redis NET_MAX_WRITES_PER_EVENT is 64 KiB).
    write_budget: int = setting(256 * 1024, "bytes written to one client per loop turn", kinds.BYTES)

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
    # NATS TLS_TIMEOUT is 2 s. A refused TLS client is told why only after its handshake (item 18), and
    # a refusal must not hold a descriptor long: a hammering client gets these by the hundred.
    tls_refusal_timeout: float = setting(2.0, "seconds a refused TLS client has to finish its handshake and hear why")
    # Refusals are what a flood produces; past this many being told at once, a refusal is one best-effort
    # write and a close (over TLS, a silent close: no handshake is spent on it).
    max_refusals: int = setting(64, "refused connections being told why at once; past it they are just closed")
    # Closing a socket with unread bytes makes the kernel send a reset, which can destroy our last frame
    # before the peer reads it (a client that pipelined a hello). Apache lingers 2 s for the same reason.
    linger_timeout: float = setting(2.0, "seconds a closed connection's last incoming bytes are drained")

    # --- slow consumers ---
    # InspIRCd hardsendq is 1 MiB; Redis pubsub closes at 32 MiB. Our frames are small.
    output_hard_limit: int = setting(1024 * 1024, "pending output bytes that close a client at once", kinds.BYTES)
    # The Redis pubsub soft-limit pattern (8 MiB for 60 s), scaled to chat frames.
    output_soft_limit: int = setting(
        256 * 1024, "pending output bytes tolerated for --output-soft-seconds", kinds.BYTES
    )
    output_soft_seconds: float = setting(10.0, "seconds a client may stay above --output-soft-limit")
    # NATS write_deadline is 10 s.
    write_timeout: float = setting(10.0, "seconds pending output may make no progress before closing")
    output_high_water: int = setting(
        64 * 1024, "pending output above which a client's requests are not read", kinds.BYTES
    )
    # A quarter of high water (the hysteresis redis and asyncio's transports use): reading resumes, and
    # the next piece of a catch-up replay is queued, once output drains below this.
    output_low_water: int = setting(
        16 * 1024, "pending output below which reading resumes and more catch-up replay is queued", kinds.BYTES
    )
    # About one write budget's worth: a fast reader is never starved, a slow one holds little.
    replay_chunk: int = setting(64 * 1024, "bytes of catch-up replay queued at a time", kinds.BYTES)

    # --- floods and guessing ---
    # ergo fakelag: burst 5, then 2/s; Synapse rc_message: 0.2/s, burst 10.
    message_burst: int = setting(10, "messages a client may send at once")
    message_rate: float = setting(2.0, "messages per second a client may send after its burst", kinds.PER_SECOND)
    message_queue: int = setting(
        10, "messages held back over the rate before more are refused (0: refuse at once)", kinds.COUNT_OR_ZERO
    )
    # Clients send at most one typing frame per 3 s per group; a burst of 5 covers a few groups at once.
    # Beyond it, typing frames are dropped silently: they are hints, never worth an error.
    typing_burst: int = setting(5, "typing notices a client may send at once before extras are dropped")
    typing_rate: float = setting(1.0, "typing notices per second a client may send after its burst", kinds.PER_SECOND)
    # Renames and presence changes are announced to every member of a group (a rename in every group
    # for presence): a burst of 5 then one per 5 s is plenty for a person and caps the fan-out of a flood.
    member_news_burst: int = setting(5, "renames and presence changes a client may make at once")
    member_news_rate: float = setting(
        0.2, "renames and presence changes per second a client may make after its burst", kinds.PER_SECOND
    )
    # A search page scans at most this many messages on the loop thread. Measured (issue 10, 200k messages
    # in SQLite): a miss over 20k rows costs 1.9 ms of CPU for an ASCII needle, 4.7 ms for another (100k
    # rows: 9.5 and 25.5 ms); a page of a common word 0.2 ms. So a page never holds the loop much longer
    # than a turn; a longer search is more pages, each answered between other clients' requests.
    search_scan_rows: int = setting(20_000, "messages one search page may scan before it says where to go on")
    # A person pages through results by hand: a burst of 5 then 1 per second. A bot cannot make the loop
    # scan more than search_rate * search_scan_rows rows per second per connection.
    search_burst: int = setting(5, "search pages a client may ask for at once")
    search_rate: float = setting(1.0, "search pages per second a client may ask for after its burst", kinds.PER_SECOND)
    # Guessing is slowed, never locked out (issue 8 item 14): a lockout per address also locks out everyone
    # behind that address. ergo login-throttling allows 3 attempts a minute; Synapse failed_attempts burst 3.
    login_free_failures: int = setting(
        3,
        "wrong passwords per (address, group) before each further try is delayed (0: delay from the first)",
        kinds.COUNT_OR_ZERO,
    )
    # The delay doubles per further failure, from --login-delay up to --login-delay-max.
    login_delay: float = setting(1.0, "seconds the first delayed password try waits after the last wrong one")
    # A few seconds: the most a right password from someone else on the same address is ever refused for.
    # With the defaults, at most 19 guesses per minute per (address, group) (PROTOCOL.md states it).
    login_delay_max: float = setting(4.0, "most seconds a password try is delayed (must be under --login-window)")
    login_window: float = setting(60.0, "seconds without a wrong password after which an address's are forgotten")
    # Every password hash counts (right ones and creates too): one address cannot keep the hash workers
    # busy (a hash is ~0.5 s of one core here, so 1/s is half a worker). The burst is twice
    # --max-connections-per-address: a team behind one NAT all joining at 9 am is not slowed.
    # Resume-token joins need no hash and do not count.
    hashes_per_address_burst: int = setting(32, "password hashes one address may start at once")
    hashes_per_address_rate: float = setting(
        1.0, "password hashes per second one address may start after its burst", kinds.PER_SECOND
    )
    # 24 h (issue 8 item 15): a member reconnecting within a day rejoins without a password hash.
    resume_token_lifetime: float = setting(86400.0, "seconds a resume token stays valid")
    # A commit that finds the database locked keeps its messages and retries on later turns; past this many
    # tries they are refused with internal (the client resends them). The loop never waits on the lock.
    store_busy_retries: int = setting(100, "loop turns a commit may find the database locked before refusing")
    # Several processes over Redis (--store redis://): a process that stops heartbeating (killed, cut off)
    # has its members removed from every member list after this long; it heartbeats every third of it.
    node_timeout: float = setting(10.0, "seconds after which a silent server process's members are dropped (redis)")
    # Redis's pub/sub may lose a message (a reconnect); a group's seqs that stay out of order this long
    # are read back from the stored log. The bus is usually in order within a millisecond.
    gap_wait: float = setting(0.25, "seconds a gap in a group's seqs may wait before it is read from the log (redis)")
    # ergo allows 30 account registrations per 10 min.
    groups_per_address: int = setting(10, "groups one address may create per --groups-window")
    groups_window: float = setting(3600.0, "seconds over which created groups are counted")
    max_groups_per_connection: int = setting(100, "groups one connection may be in at once")
    # Each hash is ~0.2 s of CPU and 16 MiB; a queue past this is a denial of service, not a backlog.
    max_pending_auth: int = setting(64, "password hashes queued or running at once, server-wide")
    # scrypt releases the GIL, so workers run beside the loop; one core is always left to the loop, so
    # a storm of joins slows joins, not chat (measured with chat-bench --storm).
    # At most 256: each worker is a thread with up to 16 MiB of scrypt memory.
    auth_workers: int = setting(
        max(1, (os.cpu_count() or 2) - 1),
        "threads hashing passwords (CPU cores - 1, at least 1: one core stays with the loop)",
        kinds.count(1, 256),
    )
    shutdown_grace: float = setting(5.0, "seconds to flush goodbyes on shutdown (0: none)", kinds.SECONDS_OR_ZERO)
    # Every request costs 1 and a history page its rows: 5 full pages at once, then 2 a second. One
    # connection pipelining pages then cannot take the loop from others (item 5); ngircd lets 3 commands
    # through per loop, InspIRCd 1 a second. At least one full page, or a page could never be afforded.
    request_burst: int = setting(
        500,
        "request cost one connection may spend at once (a history page costs its rows, others 1)",
        kinds.count(limits.MAX_HISTORY_PAGE),
    )
    request_rate: float = setting(200.0, "request cost one connection may spend per second", kinds.PER_SECOND)
    # Decoded requests waiting per connection (behind a password check or the budget) before its socket
    # is no longer read; one read may add a read chunk's worth of frames beyond it.
    inbox_limit: int = setting(64, "requests waiting per connection before it is no longer read")

    server_label: str = "groupchat/0.1.0"
