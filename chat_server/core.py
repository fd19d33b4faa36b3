"""ChatCore: what the server does with each event. No sockets, no clock, no hashing here.

The loop feeds it decoded events with the current time and carries out the actions it returns:
frames to send, catch-ups to stream (:meth:`ChatCore.replay_chunk`), and password work to run off
the loop whose result comes back through :meth:`ChatCore.finish_create` or :meth:`ChatCore.finish_join`.
Once per loop turn the loop calls :meth:`ChatCore.commit`, which stores the turn's messages and only
then acknowledges and fans them out. Joining and leaving live in :mod:`chat_server.membership`.

A :class:`StoreError` while handling one request fails that request only, with ``internal``, and is
logged with its traceback; every store call is made before the state it would change, so the state
stays consistent.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chat_server.cluster.node import ClusterNode
from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.guard import Guard, Verdict
from chat_server.member_news import MemberNews
from chat_server.membership import Membership
from chat_server.message_log import MessageLog
from chat_server.outgoing import (
    Action,
    Fanout,
    HashPassword,
    Outgoing,
    Replay,
    StoreCall,
    VerifyPassword,
    refusal,
    store_refusal,
)
from chat_server.resume import ResumeTokens
from chat_server.store import Store, StoredMessage, StoreError
from chat_server.store.redis import RedisStore
from shared import (
    PROTOCOL_VERSION,
    CreateGroup,
    Event,
    FetchHistory,
    GroupLeft,
    Hello,
    JoinGroup,
    LeaveGroup,
    Ping,
    Pong,
    Rename,
    SearchHistory,
    SendMessage,
    SetPresence,
    Typing,
    Welcome,
)

if TYPE_CHECKING:
    from chat_server.cluster.node import BusEvent

__all__ = ["Action", "ChatCore", "Fanout", "HashPassword", "Outgoing", "Replay", "StoreCall", "VerifyPassword"]

log = logging.getLogger("chat_server")
# When messages wait for a database locked by someone else, the loop comes back this soon to retry.
STORE_BUSY_RETRY_INTERVAL = 0.05
# Rows one read of a shared store's log brings for a catch-up; the frames are then cut at the chunk size.
REPLAY_READ_ROWS = 64


class ChatCore:
    """Groups, members and message routing for one server, over a :class:`Store`.

    Raises:
        StoreError: the groups or the server secret could not be read: the server cannot start.
    """

    def __init__(
        self, config: ServerConfig, store: Store, decoy_hash: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.groups = GroupDirectory()
        try:
            records, secret = store.load_groups(), store.server_secret()
        except StoreError as exc:
            raise StoreError(f"cannot load the groups from {store.location}: {exc}") from exc
        for record in records:
            self.groups.add(Group(record.group_id, record.name, record.password_hash, record.last_seq, record.last_seq))
        tokens = ResumeTokens(secret, config.resume_token_lifetime)
        self.news = MemberNews(config, self.groups, tokens)
        self.log = MessageLog(
            store, self.groups, config.max_frame_size, config.store_busy_retries, with_feature=self.news.with_feature
        )
        self.guard = Guard(config)
        self.membership = Membership(
            config, self.groups, self.guard, self.log, tokens=tokens, decoy_hash=decoy_hash, join_news=self.news.on_join
        )
        self._connected: set[ClientId] = set()
        self.membership.connected = self._connected.__contains__
        self.cluster: ClusterNode | None = None
        if isinstance(store, RedisStore):
            self._join_cluster(store, clock)

    def _join_cluster(self, store: RedisStore, clock: Callable[[], float]) -> None:
        """This process shares its groups with others over Redis: seqs, members and news go through it."""
        assert isinstance(store, RedisStore)
        self.cluster = ClusterNode(self.config, store, self.groups, self.news, self.log, clock=clock)
        self.log.cluster = self.membership.cluster = self.news.cluster = self.cluster

    def on_bus(self, events: list[BusEvent]) -> list[Action]:
        """What other server processes did (``--store redis://``), as frames for this process's members."""
        return [] if self.cluster is None else self.cluster.on_bus(events)

    def leave_cluster(self) -> list[Action]:
        """At a clean shutdown: this process's members leave other processes' member lists now."""
        return [] if self.cluster is None else [self.cluster.forget_me()]

    def connect(self, client_id: ClientId, address: str) -> None:
        """A new connection from ``address`` (its address key: limits apply per key)."""
        self._connected.add(client_id)
        self.guard.admit(client_id, address)

    def disconnect(self, client_id: ClientId) -> list[Action]:
        """The connection is gone: it leaves every group it was in."""
        self._connected.discard(client_id)
        self.guard.forget(client_id)
        self.news.forget(client_id)
        actions: list[Action] = []
        for group in self.groups.groups_of(client_id):
            actions += self.membership.leave(group, client_id)
        return actions

    def busy(self, client_id: ClientId) -> bool:
        """Whether a request of this client must finish before its next one is handled (a hash in flight)."""
        return self.guard.busy(client_id)

    def commit(self) -> list[Action]:
        """Store this turn's messages; then their acknowledgements and fan-out."""
        return self.log.commit()

    def release_delayed(self, now: float) -> list[Action]:
        """Post the held (rate-limited) messages whose time has come; and the cluster's timed work."""
        actions: list[Action] = [] if self.cluster is None else self.cluster.due(now)
        for client_id, request in self.guard.due(now):
            actions += self._post_now(client_id, request, now)
        return actions

    def release_all_held(self, now: float) -> list[Action]:
        """At shutdown: post every held message now, whatever the rate (the next commit stores them)."""
        actions: list[Action] = []
        for client_id, request in self.guard.release_all():
            actions += self._post_now(client_id, request, now)
        return actions

    def next_deadline(self, now: float) -> float | None:
        """When the core has timed work next (held messages, a commit to retry); None: nothing."""
        if self.log.waiting_for_lock:
            return now + STORE_BUSY_RETRY_INTERVAL
        deadline = self.guard.next_deadline(now)
        if self.cluster is not None:
            deadline = self.cluster.next_deadline() if deadline is None else min(deadline, self.cluster.next_deadline())
        return deadline

    def handle(self, client_id: ClientId, event: Event, now: float) -> list[Action]:
        """The actions for one event a client sent; ``now`` is Unix time in seconds."""
        try:
            return self._handle(client_id, event, now)
        except StoreError:  # a read the request needed failed: that request fails, nothing else
            log.exception("storage error op=%s conn=%d", event.TYPE, client_id)
            request_id = getattr(event, "request_id", None)
            return [] if request_id is None else refusal(client_id, request_id, "internal", "storage failed; try again")

    def _handle(self, client_id: ClientId, event: Event, now: float) -> list[Action]:
        match event:  # the cases are tried in order: the hot one goes first
            case SendMessage():
                return self._post(client_id, event, now)
            case Hello():
                label, frame = self.config.server_label, self.config.max_frame_size
                offered = self.news.hello(client_id, event.features)
                return [Outgoing((client_id,), Welcome(event.request_id, PROTOCOL_VERSION, label, frame, offered))]
            case CreateGroup():
                return self.membership.create(client_id, event, now)
            case JoinGroup():
                return self.membership.join(client_id, event, now)
            case LeaveGroup():
                return self._leave_request(client_id, event)
            case FetchHistory():
                return self._page(client_id, event)
            case Ping():
                return [Outgoing((client_id,), Pong(event.nonce))]
            case Typing():
                return self.news.typing(client_id, event, now)
            case SetPresence():
                return self.news.set_presence(client_id, event, now)
            case Rename():
                return self.news.rename(client_id, event, now)
            case SearchHistory():
                return self._search(client_id, event, now)
            case _:
                return []  # Pong: liveness is tracked by the loop

    def _member_group(self, client_id: ClientId, request_id: int, group_id: int) -> Group | list[Action]:
        group = self.groups.get(group_id)
        if group is None or client_id not in group.members:
            return refusal(client_id, request_id, "not_member", f"you are not in group {group_id}")
        return group

    # --- password work comes back --------------------------------------------------------------------

    def abort_auth(self, client_id: ClientId, request_id: int) -> list[Action]:
        """Hashing for a request failed (a bug or an exhausted machine): free its place and say so."""
        self.guard.end_auth(client_id)
        return refusal(client_id, request_id, "internal", "the server could not check the password; try again")

    def finish_create(self, client_id: ClientId, request: CreateGroup, password_hash: str, now: float) -> list[Action]:
        """The password of a CreateGroup is hashed: store the group (if still possible), then reply."""
        self.guard.end_auth(client_id)
        if client_id not in self._connected:
            return []
        return self.membership.finish_create(client_id, request, password_hash, now)

    def finish_join(self, client_id: ClientId, request: JoinGroup, password_ok: bool, now: float) -> list[Action]:
        """The password of a JoinGroup is checked: admit the member (if still possible)."""
        self.guard.end_auth(client_id)
        if client_id not in self._connected:
            return []
        return self.membership.finish_join(client_id, request, password_ok, now)

    # --- leaving -------------------------------------------------------------------------------------

    def _leave_request(self, client_id: ClientId, request: LeaveGroup) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        left = Outgoing((client_id,), GroupLeft(request.request_id, group.group_id))
        return [left, *self.membership.leave(group, client_id)]

    # --- messages, catch-up and history ------------------------------------------------------------

    def _post(self, client_id: ClientId, request: SendMessage, now: float) -> list[Action]:
        verdict = self.guard.message_verdict(client_id, request, now)
        if verdict is Verdict.SEND:
            return self._post_now(client_id, request, now)
        if verdict is Verdict.DELAY:
            return []  # the guard holds it; release_delayed posts it when the rate allows
        wait = self.guard.refused_retry_after(client_id, now)
        log.info(
            "rate limit conn=%d address=%s retry_after_ms=%d",
            client_id,
            self.guard.address(client_id),
            math.ceil(wait * 1000),
        )
        rate = self.config.message_rate
        message = f"you are sending too fast (more than {rate:g} messages/s); this message was not sent"
        return refusal(client_id, request.request_id, "rate_limited", message, wait)

    def _post_now(self, client_id: ClientId, request: SendMessage, now: float) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        self.log.post(group, client_id, request, int(now * 1000))
        return []  # acknowledged by commit(), after the message is stored

    def replay_chunk(
        self, client_id: ClientId, group_id: int, after_seq: int, max_bytes: int
    ) -> tuple[list[bytes], int | None]:
        """The next part of a member's catch-up (see :class:`Replay`): encoded ``message_posted``
        frames after ``after_seq``, about ``max_bytes`` in all, and the seq to continue after; or None
        once the member has caught up with the group's stored messages, when it goes back into live
        fan-out in this same call (so nothing is missed or sent twice). A member who left gets ([], None),
        and so does a stale replay: one whose ``after_seq`` is not where the member's replay has got to.

        If the store cannot be read, the member goes live at once: its client sees the gap in seqs
        and pages back for it with fetch_history.
        """
        group = self.groups.get(group_id)
        if group is None or group.catching_up.get(client_id) != after_seq:
            return [], None  # left, or a stale replay from before a leave and rejoin: the current one goes on
        try:
            action = self.news.wants(client_id, "action")
            frames, last = self.log.replay_chunk(group, after_seq, max_bytes, action=action)
        except StoreError:
            log.exception("storage error op=replay conn=%d group=%d after_seq=%d", client_id, group_id, after_seq)
            frames, last = [], group.stored_seq
        return self._replayed(client_id, group, frames, last)

    def _replayed(
        self, client_id: ClientId, group: Group, frames: list[bytes], last: int
    ) -> tuple[list[bytes], int | None]:
        if frames and last < group.stored_seq:
            group.catching_up[client_id] = last
            return frames, last
        group.caught_up(client_id)
        return frames, None

    def replay_call(
        self,
        client_id: ClientId,
        group_id: int,
        after_seq: int,
        max_bytes: int,
        deliver: Callable[[list[bytes], int | None], list[Action]],
    ) -> StoreCall | None:
        """:meth:`replay_chunk` with a shared store: the read runs off the loop, then ``deliver`` gets what
        :meth:`replay_chunk` would have returned. None: nothing to read (left, or a stale replay).

        Only messages up to ``stored_seq`` are sent: the shared log may already hold newer ones, which
        reach the member by live fan-out once it is caught up, so none is sent twice.
        """
        group = self.groups.get(group_id)
        if group is None or group.catching_up.get(client_id) != after_seq:
            return None
        action, store = self.news.wants(client_id, "action"), self.log.store

        def then(outcome: list[StoredMessage] | StoreError) -> list[Action]:
            group = self.groups.get(group_id)
            if group is None or group.catching_up.get(client_id) != after_seq:
                return deliver([], None)
            if isinstance(outcome, StoreError):
                log.error("storage error op=replay conn=%d group=%d: %s", client_id, group_id, outcome)
                return deliver(*self._replayed(client_id, group, [], group.stored_seq))
            frames, last, size = [], after_seq, 0
            for m in outcome:
                if m.seq > group.stored_seq or size >= max_bytes:
                    break
                posted, as_text = self.log.frames(m)
                frames.append(posted if as_text is None or action else as_text)
                size, last = size + len(frames[-1]), m.seq
            return deliver(*self._replayed(client_id, group, frames, last))

        return StoreCall(lambda: store.messages_after(group_id, after_seq, REPLAY_READ_ROWS), then, client_id)

    def _answer(self, client_id: ClientId, request_id: int, outcome: Event | StoreError, doing: str) -> list[Action]:
        """The reply to a request whose reading ran off the loop, or its refusal."""
        if isinstance(outcome, StoreError):
            log.error("storage error conn=%d: could not %s: %s", client_id, doing, outcome)
            return store_refusal(client_id, request_id, outcome, doing)
        return [Outgoing((client_id,), outcome)]

    def _page(self, client_id: ClientId, request: FetchHistory) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        actions = self.commit()  # a page may reach into this turn's messages
        action = self.news.wants(client_id, "action")
        if self.cluster is not None:
            log_, rid = self.log, request.request_id
            return [
                *actions,
                StoreCall(
                    lambda: log_.page(group, rid, request.before_seq, request.limit, action=action),
                    lambda outcome: self._answer(client_id, rid, outcome, "read the history"),
                    client_id,
                ),
            ]
        try:
            page = self.log.page(group, request.request_id, request.before_seq, request.limit, action=action)
        except StoreError:  # the acks of the commit above still go out
            log.exception("storage error op=fetch_history conn=%d group=%d", client_id, group.group_id)
            return [
                *actions,
                *refusal(client_id, request.request_id, "internal", "the history could not be read; try again"),
            ]
        return [*actions, Outgoing((client_id,), page)]

    def _search(self, client_id: ClientId, request: SearchHistory, now: float) -> list[Action]:
        group = self._member_group(client_id, request.request_id, request.group_id)
        if isinstance(group, list):
            return group
        if wait := self.guard.search_wait(client_id, now):
            message = f"too many searches; try again in {math.ceil(wait)} s"
            return refusal(client_id, request.request_id, "rate_limited", message, wait)
        actions = self.commit()  # a search may reach into this turn's messages
        action = self.news.wants(client_id, "action")
        if self.cluster is not None:
            if request.before_seq is None:  # from what this process's members have been sent
                request = dataclasses.replace(request, before_seq=group.stored_seq + 1)
            log_, rows, asked = self.log, self.config.search_scan_rows, request
            return [
                *actions,
                StoreCall(
                    lambda: log_.search(group, asked, rows, action=action),
                    lambda outcome: self._answer(client_id, asked.request_id, outcome, "search the history"),
                    client_id,
                ),
            ]
        try:
            found = self.log.search(group, request, self.config.search_scan_rows, action=action)
        except StoreError:  # the acks of the commit above still go out
            log.exception("storage error op=search_history conn=%d group=%d", client_id, group.group_id)
            return [*actions, *refusal(client_id, request.request_id, "internal", "the search failed; try again")]
        return [*actions, Outgoing((client_id,), found)]
