"""What the core asks the loop to do: send frames, or run password work off the loop."""

from __future__ import annotations

from dataclasses import dataclass

from chat_server.groups import ClientId
from shared import CreateGroup, Event, JoinGroup


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
    stored_hash: str


@dataclass(frozen=True, slots=True)
class Frame:
    """Send these already-encoded frame bytes to every connection in ``recipients``."""

    recipients: tuple[ClientId, ...]
    data: bytes


Action = Outgoing | Frame | HashPassword | VerifyPassword
