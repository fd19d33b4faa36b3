"""What the core asks the loop to do: send frames, stream a catch-up, or run password work off the loop."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chat_server.groups import ClientId
from chat_server.store import StoreBusy, StoreError
from shared import CreateGroup, Error, Event, JoinGroup, limits


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Send ``event`` to every connection in ``recipients`` (encoded once for all of them)."""

    recipients: tuple[ClientId, ...]
    event: Event


@dataclass(frozen=True, slots=True)
class HashPassword:
    """Hash the password of ``request`` off the loop, then call ``ChatCore.finish_create`` with the hash."""

    client_id: ClientId
    request: CreateGroup


@dataclass(frozen=True, slots=True)
class VerifyPassword:
    """Check the password of ``request`` against ``stored_hash`` off the loop, then ``ChatCore.finish_join``."""

    client_id: ClientId
    request: JoinGroup
    stored_hash: str = field(repr=False)

    @property
    def password(self) -> str:
        """The password to check: one is made only for a join with a password (a token join needs none)."""
        return self.request.password or ""  # never empty in practice; "" would simply not match


# One stored message of a commit, as (sender, reply, posted): ``reply`` answers the sender (its
# message_accepted, or an error), ``posted`` is the message_posted frame for the group's live members,
# or None when nothing new was stored (a resend of a stored message, a refusal). A tuple, not a class:
# one is made per message on the hot path.
Post = tuple[ClientId, bytes, bytes | None]


@dataclass(frozen=True, slots=True)
class Fanout:
    """One group's share of a commit, queued by the loop in one go (see :mod:`chat_server.fanout`).

    Every live member gets the turn's ``posted`` frames, joined once and shared by reference; a
    sender gets its ``reply`` in the place of its own message, so each client's bytes are exactly
    what one frame per message in seq order would give.

    Args:
        readers: the group's live members (members catching up are fed by their replay instead).
        posts: the group's messages of this commit, in seq order.
    """

    readers: frozenset[ClientId]
    posts: list[Post]


@dataclass(frozen=True, slots=True)
class Replay:
    """Stream the messages of ``group_id`` after ``after_seq`` to ``client_id`` as its socket drains.

    The loop calls ``ChatCore.replay_chunk`` whenever that client's pending output is low, until it
    answers None: a catch-up of any size then never trips the slow-consumer limits (issue 8 item 9).
    """

    client_id: ClientId
    group_id: int
    after_seq: int


@dataclass(frozen=True, slots=True)
class StoreCall:
    """Run ``work`` against a shared store (Redis) off the loop, then ``then`` on the loop.

    ``then`` gets what ``work`` returned, or the :class:`chat_server.store.StoreError` it raised, and
    returns the actions that follow. Only the cluster code makes these (an embedded store is called
    on the loop, as it always was). ``work`` must not touch the core's state: it runs on the store
    thread; ``then`` runs on the loop thread, in the order the calls were made.

    Args:
        client_id: the connection whose request waits for this call (its next request waits too),
            or None for the server's own work (a commit, a heartbeat).
    """

    work: Callable[[], Any]
    then: Callable[[Any], list[Action]]
    client_id: ClientId | None = None


Action = Outgoing | Fanout | HashPassword | VerifyPassword | Replay | StoreCall


def refusal(
    client_id: ClientId, request_id: int, code: str, message: str, retry_after: float | None = None
) -> list[Action]:
    """The answer refusing one request; ``retry_after`` (seconds) becomes the machine-readable
    ``retry_after_ms``, rounded up so that a retry at that moment is not refused again."""
    retry_ms = None if retry_after is None else min(limits.MAX_RETRY_AFTER_MS, max(1, math.ceil(retry_after * 1000)))
    return [Outgoing((client_id,), Error(request_id, code, message, retry_ms))]


# A shared store (Redis) that did not answer: most restarts are over within a second.
UNAVAILABLE_RETRY = 1.0


def store_refusal(client_id: ClientId, request_id: int, exc: StoreError, doing: str) -> list[Action]:
    """The answer to a request the store failed: ``unavailable`` (try again soon) when a shared store did
    not answer, else ``internal``."""
    if isinstance(exc, StoreBusy):
        message = f"the chat's shared store is unavailable; could not {doing}; try again"
        return refusal(client_id, request_id, "unavailable", message, UNAVAILABLE_RETRY)
    return refusal(client_id, request_id, "internal", f"could not {doing}; try again")
