"""Guard: the per-client and per-address limits on floods and guessing. Pure: every call takes ``now``.

The core asks it before doing anything costly (hashing a password, storing a message) and tells it
what happened (a password check admitted or right, a group created). Limits come from :class:`ServerConfig`.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from chat_server.config import ServerConfig
from chat_server.groups import ClientId
from chat_server.ratelimit import Backoff, KeyedBuckets, TokenBucket, WindowCounter
from shared import SendMessage


class Verdict(enum.Enum):
    SEND = "send"
    DELAY = "delay"  # over the rate: held until a token is there
    REFUSE = "refuse"  # over the rate with the hold queue full


@dataclass(slots=True)
class _ClientQuota:
    address: str
    messages: TokenBucket
    # Made on first use: an empty deque is 760 bytes, and most clients never go over the rate.
    delayed: deque[SendMessage] | None = None
    auth_pending: bool = False
    searches: TokenBucket | None = None  # made on the first search: most clients never search


class Guard:
    """Message rates, login throttling, group-creation limits and the password-hashing queue."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._clients: dict[ClientId, _ClientQuota] = {}
        self._holding: set[ClientId] = set()  # clients with delayed messages: the only ones due() visits
        # Password guesses per (address, group): slowed down, never locked out (see Backoff).
        # The window is kept past twice the cap: failures forgotten during a delay would grant new free tries.
        window = max(config.login_window, 2 * config.login_delay_max)
        self._guesses = Backoff(config.login_free_failures, config.login_delay, config.login_delay_max, window)
        self._hashes = KeyedBuckets(config.hashes_per_address_rate, config.hashes_per_address_burst)
        self._creations = WindowCounter(config.groups_per_address, config.groups_window)
        self._auth_pending = 0

    def admit(self, client_id: ClientId, address: str) -> None:
        bucket = TokenBucket(self.config.message_rate, self.config.message_burst)
        self._clients[client_id] = _ClientQuota(address, bucket)

    def forget(self, client_id: ClientId) -> None:
        # A hash it started keeps its place in the queue until end_auth: it still costs the CPU.
        self._clients.pop(client_id, None)
        self._holding.discard(client_id)

    # --- messages ------------------------------------------------------------------------------------

    def message_verdict(self, client_id: ClientId, request: SendMessage, now: float) -> Verdict:
        """Whether to post ``request`` now; a DELAY verdict means the guard now holds it."""
        quota = self._clients[client_id]
        delayed = quota.delayed
        if not delayed and quota.messages.take(now):
            return Verdict.SEND
        if delayed is None:
            delayed = quota.delayed = deque()
        if len(delayed) >= self.config.message_queue:
            return Verdict.REFUSE
        delayed.append(request)  # held in order behind any earlier held message
        self._holding.add(client_id)
        return Verdict.DELAY

    def due(self, now: float) -> list[tuple[ClientId, SendMessage]]:
        """Held messages whose tokens have arrived, oldest first per client."""
        released = []
        for client_id in sorted(self._holding):
            quota = self._clients[client_id]
            delayed = quota.delayed
            while delayed and quota.messages.take(now):
                released.append((client_id, delayed.popleft()))
            if not delayed:
                quota.delayed = None
                self._holding.discard(client_id)
        return released

    def next_deadline(self, now: float) -> float | None:
        """When the next held message may go (None if nothing is held)."""
        times = [self._clients[cid].messages.next_token_at(now) for cid in self._holding]
        return min(times, default=None)

    def release_all(self) -> list[tuple[ClientId, SendMessage]]:
        """Every held message, whatever the rate (at shutdown: stored, never lost)."""
        released = []
        for client_id in sorted(self._holding):
            quota = self._clients[client_id]
            released += [(client_id, request) for request in quota.delayed or ()]
            quota.delayed = None
        self._holding.clear()
        return released

    def refused_retry_after(self, client_id: ClientId, now: float) -> float:
        """Seconds until a refused message could be held again: when the oldest held one goes."""
        return self._clients[client_id].messages.next_token_at(now) - now

    def search_wait(self, client_id: ClientId, now: float) -> float:
        """Spend one of the client's search pages: 0, or the seconds until one is there."""
        quota = self._clients[client_id]
        if quota.searches is None:
            quota.searches = TokenBucket(self.config.search_rate, self.config.search_burst)
        return 0.0 if quota.searches.take(now) else quota.searches.next_token_at(now) - now

    # --- passwords -------------------------------------------------------------------------------------

    def address(self, client_id: ClientId) -> str:
        quota = self._clients.get(client_id)
        return quota.address if quota is not None else "?"

    def login_wait(self, client_id: ClientId, group_id: int, now: float) -> float:
        """Seconds this client's address must wait before trying a password for ``group_id`` (0: go)."""
        return self._guesses.wait((self._clients[client_id].address, group_id), now)

    def guess_started(self, client_id: ClientId, group_id: int, now: float) -> None:
        """A password check for ``group_id`` is admitted: counted as a failure at once, so guesses in
        flight count too (:meth:`guess_succeeded` takes it back)."""
        self._guesses.record((self._clients[client_id].address, group_id), now)

    def guess_succeeded(self, client_id: ClientId, group_id: int) -> None:
        quota = self._clients.get(client_id)
        if quota is not None:
            self._guesses.refund((quota.address, group_id))

    def hash_wait(self, client_id: ClientId, now: float) -> float:
        """Spend one of the address's password hashes: 0, or the seconds until one is there.

        Every hash counts (right passwords and creates too), so no address can keep the workers busy.
        """
        return self._hashes.take(self._clients[client_id].address, now)

    def hash_not_started(self, client_id: ClientId) -> None:
        """A hash budgeted by :meth:`hash_wait` was refused a place in the queue: its token goes back."""
        self._hashes.give_back(self._clients[client_id].address)

    def create_wait(self, client_id: ClientId, now: float) -> float:
        """Seconds this client's address must wait before creating another group (0: go)."""
        return self._creations.blocked_for(self._clients[client_id].address, now)

    def group_created(self, client_id: ClientId, now: float) -> None:
        quota = self._clients.get(client_id)
        if quota is not None:
            self._creations.record(quota.address, now)

    # --- the hashing queue -------------------------------------------------------------------------------

    def busy(self, client_id: ClientId) -> bool:
        """Whether a password hash of this client is in flight."""
        quota = self._clients.get(client_id)
        return quota is not None and quota.auth_pending

    def start_auth(self, client_id: ClientId) -> str | None:
        """Reserve a place for one password hash; returns an error code if there is none."""
        quota = self._clients[client_id]
        if quota.auth_pending:
            return "busy"  # one create/join at a time per connection: no queueing hashes per client
        if self._auth_pending >= self.config.max_pending_auth:
            return "server_busy"
        quota.auth_pending = True
        self._auth_pending += 1
        return None

    def end_auth(self, client_id: ClientId) -> None:
        """A hash started by ``client_id`` finished (whether or not the client is still here)."""
        self._auth_pending -= 1
        quota = self._clients.get(client_id)
        if quota is not None:
            quota.auth_pending = False
