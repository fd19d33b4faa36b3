"""ChatCore: what the server does with each event. Pure: no sockets, no clock, no hashing here.

The loop feeds it decoded events with the current time and carries out the actions it returns:
frames to send, and password work to run off the loop whose result comes back through
:meth:`ChatCore.finish_create` or :meth:`ChatCore.finish_join`.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from shared import (
    PROTOCOL_VERSION,
    CreateGroup,
    Error,
    Event,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    Hello,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    SendMessage,
    Welcome,
    limits,
)

BAD_CREDENTIALS = "wrong group ID or password"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Send ``event`` to every connection in ``recipients`` (encoded once for all of them)."""

    recipients: tuple[ClientId, ...]
    event: Event


@dataclass(frozen=True, slots=True)
class HashPassword:
    """Hash the password of ``request`` off the loop, then call ``finish_create`` with the hash."""

    client_id: ClientId
    request: CreateGroup


@dataclass(frozen=True, slots=True)
class VerifyPassword:
    """Check the password of ``request`` against ``stored_hash`` off the loop, then ``finish_join``."""

    client_id: ClientId
    request: JoinGroup
    stored_hash: str


Action = Outgoing | HashPassword | VerifyPassword


def _error(client_id: ClientId, request_id: int, code: str, message: str) -> list[Action]:
    return [Outgoing((client_id,), Error(request_id, code, message))]


class ChatCore:
    """Groups, members and message routing for one server."""

    def __init__(self, config: ServerConfig, decoy_hash: str) -> None:
        self.config = config
        self.groups = GroupDirectory()
        self._decoy_hash = decoy_hash
        self._connected: set[ClientId] = set()

    def connect(self, client_id: ClientId) -> None:
        self._connected.add(client_id)

    def disconnect(self, client_id: ClientId) -> list[Action]:
        """The connection is gone: it leaves every group it was in."""
        self._connected.discard(client_id)
        actions: list[Action] = []
        for group in self.groups.groups_of(client_id):
            actions += self._leave(group, client_id)
        return actions

    def handle(self, client_id: ClientId, event: Event, now: float) -> list[Action]:
        """The actions for one event a client sent; ``now`` is Unix time in seconds."""
        match event:
            case Hello():
                welcome = Welcome(
                    event.request_id, PROTOCOL_VERSION, self.config.server_label, self.config.max_frame_size
                )
                return [Outgoing((client_id,), welcome)]
            case CreateGroup():
                return self._create(client_id, event)
            case JoinGroup():
                return self._join(client_id, event)
            case LeaveGroup():
                return self._leave_request(client_id, event)
            case SendMessage():
                return self._post(client_id, event, now)
            case Ping():
                return [Outgoing((client_id,), Pong(event.nonce))]
            case _:
                return []  # Pong: liveness is tracked by the loop

    def _create(self, client_id: ClientId, request: CreateGroup) -> list[Action]:
        if self.groups.name_taken(request.group_name):
            return _error(
                client_id,
                request.request_id,
                "group_name_taken",
                f"a group named {request.group_name!r} already exists",
            )
        return [HashPassword(client_id, request)]

    def finish_create(self, client_id: ClientId, request: CreateGroup, password_hash: str) -> list[Action]:
        """The password of a CreateGroup is hashed: create the group (if still possible)."""
        if client_id not in self._connected:
            return []
        if self.groups.name_taken(request.group_name):  # another create won the race while we hashed
            return self._create(client_id, request)
        group = self.groups.create(request.group_name, password_hash)
        self.groups.add_member(group, client_id, request.name)
        return [Outgoing((client_id,), GroupCreated(request.request_id, group.group_id, group.name, request.name))]

    def _join(self, client_id: ClientId, request: JoinGroup) -> list[Action]:
        group = self.groups.get(request.group_id)
        if group is None:
            return [VerifyPassword(client_id, request, self._decoy_hash)]
        refusal = self._join_refusal(group, client_id, request)
        return refusal or [VerifyPassword(client_id, request, group.password_hash)]

    def _join_refusal(self, group: Group, client_id: ClientId, request: JoinGroup) -> list[Action]:
        if client_id in group.members:
            return _error(client_id, request.request_id, "already_member", f"you are already in group {group.group_id}")
        if group.name_in_use(request.name):
            return _error(
                client_id,
                request.request_id,
                "name_taken",
                f"someone in this group is already called {request.name!r}",
            )
        if len(group.members) >= limits.MAX_MEMBERS_IN_FRAME:
            return _error(client_id, request.request_id, "group_full", "this group is full")
        return []

    def finish_join(self, client_id: ClientId, request: JoinGroup, password_ok: bool) -> list[Action]:
        """The password of a JoinGroup is checked: admit the member (if still possible)."""
        if client_id not in self._connected:
            return []
        group = self.groups.get(request.group_id)
        if group is None or not password_ok:
            return _error(client_id, request.request_id, "bad_credentials", BAD_CREDENTIALS)
        refusal = self._join_refusal(group, client_id, request)
        if refusal:
            return refusal
        others = group.others(client_id)
        self.groups.add_member(group, client_id, request.name)
        joined = GroupJoined(request.request_id, group.group_id, group.name, request.name, group.member_names())
        return [Outgoing((client_id,), joined), Outgoing(others, MemberJoined(group.group_id, request.name))]

    def _leave_request(self, client_id: ClientId, request: LeaveGroup) -> list[Action]:
        group = self.groups.get(request.group_id)
        if group is None or client_id not in group.members:
            return _error(client_id, request.request_id, "not_member", f"you are not in group {request.group_id}")
        return [
            Outgoing((client_id,), GroupLeft(request.request_id, group.group_id)),
            *self._leave(group, client_id),
        ]

    def _leave(self, group: Group, client_id: ClientId) -> list[Action]:
        name = self.groups.remove_member(group, client_id)
        if name is None:
            return []
        return [Outgoing(tuple(group.members), MemberLeft(group.group_id, name))]

    def _post(self, client_id: ClientId, request: SendMessage, now: float) -> list[Action]:
        group = self.groups.get(request.group_id)
        if group is None or client_id not in group.members:
            return _error(client_id, request.request_id, "not_member", f"you are not in group {request.group_id}")
        seq, ts = group.next_seq(), int(now * 1000)
        posted = MessagePosted(group.group_id, seq, ts, group.members[client_id], request.text)
        return [
            Outgoing((client_id,), MessageAccepted(request.request_id, group.group_id, seq, ts)),
            Outgoing(group.others(client_id), posted),
        ]
