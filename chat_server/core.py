"""ChatCore: what the server does with each event. No sockets, no clock, no hashing here.

The loop feeds it decoded events with the current time and carries out the actions it returns:
frames to send, and password work to run off the loop whose result comes back through
:meth:`ChatCore.finish_create` or :meth:`ChatCore.finish_join`. Once per loop turn the loop calls
:meth:`ChatCore.commit`, which stores the turn's messages and only then acknowledges and fans them out.
"""

from __future__ import annotations

import math

from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.guard import Guard, Verdict
from chat_server.message_log import MessageLog
from chat_server.outgoing import Action, Frame, HashPassword, Outgoing, VerifyPassword
from chat_server.store import Store, StoreError
from shared import (
    PROTOCOL_VERSION,
    CreateGroup,
    Error,
    Event,
    FetchHistory,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    Hello,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    Ping,
    Pong,
    SendMessage,
    Welcome,
    fields,
    limits,
)

__all__ = ["Action", "ChatCore", "Frame", "HashPassword", "Outgoing", "VerifyPassword"]

BAD_CREDENTIALS = "wrong group ID or password"


def _error(client_id: ClientId, request_id: int, code: str, message: str) -> list[Action]:
    return [Outgoing((client_id,), Error(request_id, code, message))]


class ChatCore:
    """Groups, members and message routing for one server, over a :class:`Store`."""

    def __init__(self, config: ServerConfig, store: Store, decoy_hash: str) -> None:
        self.config = config
        self.groups = GroupDirectory()
        for record in store.load_groups():
            self.groups.add(Group(record.group_id, record.name, record.password_hash, record.last_seq))
        self.log = MessageLog(store, self.groups, config.max_frame_size)
        self.guard = Guard(config)
        self._decoy_hash = decoy_hash
        self._connected: set[ClientId] = set()

    def connect(self, client_id: ClientId, address: str) -> None:
        """A new connection from ``address`` (the host, without port: limits apply per host)."""
        self._connected.add(client_id)
        self.guard.admit(client_id, address)

    def disconnect(self, client_id: ClientId) -> list[Action]:
        """The connection is gone: it leaves every group it was in."""
        self._connected.discard(client_id)
        self.guard.forget(client_id)
        actions: list[Action] = []
        for group in self.groups.groups_of(client_id):
            actions += self._leave(group, client_id)
        return actions

    def commit(self) -> list[Action]:
        """Store this turn's messages; then their acknowledgements and fan-out."""
        return self.log.commit()

    def release_delayed(self, now: float) -> list[Action]:
        """Post the held (rate-limited) messages whose time has come."""
        actions: list[Action] = []
        for client_id, request in self.guard.due(now):
            actions += self._post_now(client_id, request, now)
        return actions

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`release_delayed` has work next (None: nothing is held)."""
        return self.guard.next_deadline(now)

    def handle(self, client_id: ClientId, event: Event, now: float) -> list[Action]:
        """The actions for one event a client sent; ``now`` is Unix time in seconds."""
        match event:
            case Hello():
                label, frame = self.config.server_label, self.config.max_frame_size
                return [Outgoing((client_id,), Welcome(event.request_id, PROTOCOL_VERSION, label, frame))]
            case CreateGroup():
                return self._create(client_id, event, now)
            case JoinGroup():
                return self._join(client_id, event, now)
            case LeaveGroup():
                return self._leave_request(client_id, event)
            case SendMessage():
                return self._post(client_id, event, now)
            case FetchHistory():
                return self._page(client_id, event)
            case Ping():
                return [Outgoing((client_id,), Pong(event.nonce))]
            case _:
                return []  # Pong: liveness is tracked by the loop

    def _member_group(self, client_id: ClientId, request_id: int, group_id: int) -> Group | list[Action]:
        group = self.groups.get(group_id)
        if group is None or client_id not in group.members:
            return _error(client_id, request_id, "not_member", f"you are not in group {group_id}")
        return group

    # --- create ------------------------------------------------------------------------------------

    def _create(self, client_id: ClientId, request: CreateGroup, now: float) -> list[Action]:
        refusal = self._create_refusal(client_id, request, now)
        if refusal:
            return refusal
        return self._start_auth(client_id, request.request_id) or [HashPassword(client_id, request)]

    def _create_refusal(self, client_id: ClientId, request: CreateGroup, now: float) -> list[Action]:
        if self.groups.name_taken(request.group_name):
            message = f"a group named {request.group_name!r} already exists"
            return _error(client_id, request.request_id, "group_name_taken", message)
        if wait := self.guard.create_wait(client_id, now):
            message = f"too many groups created from your address; try again in {math.ceil(wait)} s"
            return _error(client_id, request.request_id, "too_many_groups", message)
        return self._membership_cap(client_id, request.request_id)

    def _membership_cap(self, client_id: ClientId, request_id: int) -> list[Action]:
        if len(self.groups.groups_of(client_id)) >= self.config.max_groups_per_connection:
            message = f"you are in {self.config.max_groups_per_connection} groups already; leave one first"
            return _error(client_id, request_id, "too_many_groups", message)
        return []

    def abort_auth(self, client_id: ClientId, request_id: int) -> list[Action]:
        """Hashing for a request failed (a bug or an exhausted machine): free its place and say so."""
        self.guard.end_auth(client_id)
        return _error(client_id, request_id, "internal", "the server could not check the password; try again")

    def _start_auth(self, client_id: ClientId, request_id: int) -> list[Action]:
        code = self.guard.start_auth(client_id)
        if code == "busy":
            return _error(client_id, request_id, code, "wait for the answer to your previous join or create")
        if code is not None:
            return _error(client_id, request_id, code, "the server is busy checking passwords; try again soon")
        return []

    def finish_create(self, client_id: ClientId, request: CreateGroup, password_hash: str, now: float) -> list[Action]:
        """The password of a CreateGroup is hashed: store the group (if still possible), then reply."""
        self.guard.end_auth(client_id)
        if client_id not in self._connected:
            return []
        refusal = self._create_refusal(client_id, request, now)  # another create may have won the race
        if refusal:
            return refusal
        key = fields.group_name_key(request.group_name)
        try:
            group_id = self.log.store.create_group(request.group_name, key, password_hash, int(now * 1000))
        except StoreError as exc:
            return _error(client_id, request.request_id, "internal", f"the group could not be stored: {exc}")
        self.guard.group_created(client_id, now)
        group = Group(group_id, request.group_name, password_hash)
        self.groups.add(group)
        self.groups.add_member(group, client_id, request.name)
        reply = GroupCreated(request.request_id, group.group_id, group.name, request.name)
        return [Outgoing((client_id,), reply)]

    # --- join and leave ------------------------------------------------------------------------------

    def _join(self, client_id: ClientId, request: JoinGroup, now: float) -> list[Action]:
        if wait := self.guard.login_wait(client_id, request.group_id, now):
            message = f"too many wrong passwords; try again in {math.ceil(wait)} s"
            return _error(client_id, request.request_id, "too_many_attempts", message)
        group = self.groups.get(request.group_id)
        # An unknown group is checked against a decoy hash: same work, same answer as a wrong password.
        refusal = self._join_refusal(group, client_id, request) if group else []
        refusal = refusal or self._membership_cap(client_id, request.request_id)
        refusal = refusal or self._start_auth(client_id, request.request_id)
        stored_hash = group.password_hash if group else self._decoy_hash
        return refusal or [VerifyPassword(client_id, request, stored_hash)]

    def _join_refusal(self, group: Group, client_id: ClientId, request: JoinGroup) -> list[Action]:
        if client_id in group.members:
            return _error(client_id, request.request_id, "already_member", f"you are already in group {group.group_id}")
        if group.name_in_use(request.name):
            message = f"someone in this group is already called {request.name!r}"
            return _error(client_id, request.request_id, "name_taken", message)
        if len(group.members) >= limits.MAX_MEMBERS_IN_FRAME:
            return _error(client_id, request.request_id, "group_full", "this group is full")
        return []

    def finish_join(self, client_id: ClientId, request: JoinGroup, password_ok: bool, now: float) -> list[Action]:
        """The password of a JoinGroup is checked: admit the member (if still possible) and replay history."""
        self.guard.end_auth(client_id)
        if client_id not in self._connected:
            return []
        group = self.groups.get(request.group_id)
        if group is None or not password_ok:
            self.guard.login_failed(client_id, request.group_id, now)
            return _error(client_id, request.request_id, "bad_credentials", BAD_CREDENTIALS)
        refusal = self._join_refusal(group, client_id, request)
        if refusal:
            return refusal
        # Commit what is pending first, so the replay (from the store) and the live messages that
        # follow meet exactly at group.last_seq: no gap, no duplicate.
        actions = self.commit()
        others = group.others(client_id)
        self.groups.add_member(group, client_id, request.name)
        if request.since_seq is not None:
            group.resuming.add(client_id)
        joined = GroupJoined(
            request.request_id, group.group_id, group.name, request.name, group.member_names(), group.last_seq
        )
        actions.append(Outgoing((client_id,), joined))
        replay = self.log.replay(group, request.since_seq, self._replay_limit(request))
        actions += [Outgoing((client_id,), posted) for posted in replay]
        actions.append(Outgoing(others, MemberJoined(group.group_id, request.name)))
        return actions

    def _replay_limit(self, request: JoinGroup) -> int:
        return self.config.history_on_join if request.since_seq is None else self.config.catch_up_limit

    def _leave_request(self, client_id: ClientId, request: LeaveGroup) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        return [Outgoing((client_id,), GroupLeft(request.request_id, group.group_id)), *self._leave(group, client_id)]

    def _leave(self, group: Group, client_id: ClientId) -> list[Action]:
        name = self.groups.remove_member(group, client_id)
        if name is None:
            return []
        return [Outgoing(tuple(group.members), MemberLeft(group.group_id, name))]

    # --- messages and history ------------------------------------------------------------------------

    def _post(self, client_id: ClientId, request: SendMessage, now: float) -> list[Action]:
        verdict = self.guard.message_verdict(client_id, request, now)
        if verdict is Verdict.SEND:
            return self._post_now(client_id, request, now)
        if verdict is Verdict.DELAY:
            return []  # the guard holds it; release_delayed posts it when the rate allows
        rate = self.config.message_rate
        message = f"you are sending too fast (more than {rate:g} messages/s); this message was not sent"
        return _error(client_id, request.request_id, "rate_limited", message)

    def _post_now(self, client_id: ClientId, request: SendMessage, now: float) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        self.log.post(group, client_id, request, int(now * 1000))
        return []  # acknowledged by commit(), after the message is stored

    def _page(self, client_id: ClientId, request: FetchHistory) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        actions = self.commit()  # a page may reach into this turn's messages
        page = self.log.page(group, request.request_id, request.before_seq, request.limit)
        return [*actions, Outgoing((client_id,), page)]
