"""Guard: the per-client and per-address limits on floods and guessing. Pure: every call takes ``now``.

The core asks it before doing anything costly (hashing a password, storing a message) and tells it
what happened (a wrong password, a group created). Limits come from :class:`ServerConfig`.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from chat_server.config import ServerConfig
from chat_server.groups import ClientId
from chat_server.ratelimit import TokenBucket, WindowCounter
from shared import SendMessage


class Verdict(enum.Enum):
    SEND = "send"
    DELAY = "delay"  # over the rate: held until a token is there
    REFUSE = "refuse"  # over the rate with the hold queue full


@dataclass(slots=True)
class _ClientQuota:
    address: str
    messages: TokenBucket
    delayed: deque[SendMessage] = field(default_factory=deque)
    auth_pending: bool = False


class Guard:
    """Message rates, login throttling, group-creation limits and the password-hashing queue."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._clients: dict[ClientId, _ClientQuota] = {}
        self._holding: set[ClientId] = set()  # clients with delayed messages: the only ones due() visits
        self._failures_by_group = WindowCounter(config.login_failures_per_group, config.login_window)
        self._failures_by_address = WindowCounter(config.login_failures_per_address, config.login_window)
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
        if not quota.delayed and quota.messages.take(now):
            return Verdict.SEND
        if len(quota.delayed) >= self.config.message_queue:
            return Verdict.REFUSE
        quota.delayed.append(request)  # held in order behind any earlier held message
        self._holding.add(client_id)
        return Verdict.DELAY

    def due(self, now: float) -> list[tuple[ClientId, SendMessage]]:
        """Held messages whose tokens have arrived, oldest first per client."""
        released = []
        for client_id in sorted(self._holding):
            quota = self._clients[client_id]
            while quota.delayed and quota.messages.take(now):
                released.append((client_id, quota.delayed.popleft()))
            if not quota.delayed:
                self._holding.discard(client_id)
        return released

    def next_deadline(self, now: float) -> float | None:
        """When the next held message may go (None if nothing is held)."""
        times = [self._clients[cid].messages.next_token_at(now) for cid in self._holding]
        return min(times, default=None)

    # --- passwords -------------------------------------------------------------------------------------

    def login_wait(self, client_id: ClientId, group_id: int, now: float) -> float:
        """Seconds this client's address must wait before trying a password for ``group_id`` (0: go)."""
        address = self._clients[client_id].address
        return max(
            self._failures_by_group.blocked_for((address, group_id), now),
            self._failures_by_address.blocked_for(address, now),
        )

    def login_failed(self, client_id: ClientId, group_id: int, now: float) -> None:
        quota = self._clients.get(client_id)
        if quota is not None:
            self._failures_by_group.record((quota.address, group_id), now)
            self._failures_by_address.record(quota.address, now)

    def create_wait(self, client_id: ClientId, now: float) -> float:
        """Seconds this client's address must wait before creating another group (0: go)."""
        return self._creations.blocked_for(self._clients[client_id].address, now)

    def group_created(self, client_id: ClientId, now: float) -> None:
        quota = self._clients.get(client_id)
        if quota is not None:
            self._creations.record(quota.address, now)

    # --- the hashing queue -------------------------------------------------------------------------------

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
