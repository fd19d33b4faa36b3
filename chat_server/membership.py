"""Creating, joining and leaving groups: the order of the checks, the password hand-off, resume tokens.

The order of the checks is the protocol's "Request checks, in order" (PROTOCOL.md) and is chosen so
that nothing about a group is told before its password is proven (issue 8 item 13): a join is
checked only against the connection and its address (throttles), then the password (against a decoy
hash for an unknown group: the same work and the same answer), and only a right password learns
``already_member``, ``name_taken`` or ``group_full``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.guard import Guard
from chat_server.member_pages import member_pages
from chat_server.message_log import MessageLog
from chat_server.outgoing import (
    Action,
    HashPassword,
    Outgoing,
    Replay,
    StoreCall,
    VerifyPassword,
    refusal,
    store_refusal,
)
from chat_server.resume import ResumeTokens
from chat_server.store import StoreBusy, StoreError
from shared import CreateGroup, Error, GroupCreated, GroupJoined, JoinGroup, MemberJoined, MemberLeft, fields, limits

if TYPE_CHECKING:
    from chat_server.cluster.node import ClusterNode

log = logging.getLogger("chat_server")

BAD_CREDENTIALS = "wrong group ID or password"
# What else a join brings (presence, PROTOCOL.md §9): (frames for the joiner before its replay, frames
# for the others after their member_joined).
JoinNews = Callable[[Group, ClientId], tuple[list[Action], list[Action]]]
# A full hashing queue drains at about a hash per worker every 0.5 s: try again after about that.
SERVER_BUSY_RETRY = 1.0


class Membership:
    """Who is in which group, and on what grounds."""

    def __init__(
        self,
        config: ServerConfig,
        groups: GroupDirectory,
        guard: Guard,
        log_: MessageLog,
        *,
        tokens: ResumeTokens,
        decoy_hash: str,
        join_news: JoinNews | None = None,
    ) -> None:
        self.config, self.groups, self.guard, self.log, self.tokens = config, groups, guard, log_, tokens
        self._decoy_hash = decoy_hash
        self._join_news = join_news
        self.cluster: ClusterNode | None = None  # set when this process shares groups over Redis
        self.connected: Callable[[ClientId], bool] = lambda _client_id: True

    def _membership_cap(self, client_id: ClientId, request_id: int) -> list[Action]:
        if len(self.groups.groups_of(client_id)) >= self.config.max_groups_per_connection:
            message = f"you are in {self.config.max_groups_per_connection} groups already; leave one first"
            return refusal(client_id, request_id, "too_many_groups", message)
        return []

    def _start_hash(self, client_id: ClientId, request_id: int, now: float) -> list[Action]:
        """Reserve a password hash for this client: its address's budget, then a place in the queue."""
        if wait := self.guard.hash_wait(client_id, now):
            self._throttled("hashes", client_id, None, wait)
            message = f"too many password checks from your address; try again in {math.ceil(wait)} s"
            return refusal(client_id, request_id, "too_many_attempts", message, wait)
        code = self.guard.start_auth(client_id)
        if code is not None:
            self.guard.hash_not_started(client_id)
        if code == "busy":
            return refusal(client_id, request_id, code, "wait for the answer to your previous join or create")
        if code is not None:
            self._throttled("server_busy", client_id, None, SERVER_BUSY_RETRY)
            message = "the server is busy checking passwords; try again soon"
            return refusal(client_id, request_id, code, message, SERVER_BUSY_RETRY)
        return []

    def _throttled(self, kind: str, client_id: ClientId, group_id: int | None, wait: float) -> None:
        address = self.guard.address(client_id)
        log.info(
            "throttle kind=%s conn=%d group=%s address=%s retry_after_ms=%d",
            kind, client_id, group_id, address, math.ceil(wait * 1000),
        )  # fmt: skip

    # --- create ------------------------------------------------------------------------------------

    def create(self, client_id: ClientId, request: CreateGroup, now: float) -> list[Action]:
        refused = self._create_refusal(client_id, request, now)
        return refused or self._start_hash(client_id, request.request_id, now) or [HashPassword(client_id, request)]

    def _create_refusal(self, client_id: ClientId, request: CreateGroup, now: float) -> list[Action]:
        if refused := self._membership_cap(client_id, request.request_id):
            return refused
        if self.groups.name_taken(request.group_name):
            message = f"a group named {request.group_name!r} (or one that looks the same) already exists"
            return refusal(client_id, request.request_id, "group_name_taken", message)
        if wait := self.guard.create_wait(client_id, now):
            self._throttled("groups", client_id, None, wait)
            message = f"too many groups created from your address; try again in {math.ceil(wait)} s"
            return refusal(client_id, request.request_id, "too_many_groups", message, wait)
        return []

    def finish_create(self, client_id: ClientId, request: CreateGroup, password_hash: str, now: float) -> list[Action]:
        """The password is hashed: store the group (if still possible), then reply."""
        refused = self._create_refusal(client_id, request, now)  # another create may have won the race
        if refused:
            return refused
        key = fields.group_name_key(request.group_name)
        if self.cluster is not None:
            return [self._create_shared(client_id, request, key, password_hash, now)]
        try:
            group_id = self.log.store.create_group(request.group_name, key, password_hash, int(now * 1000))
        except StoreError:
            log.exception("storage error op=create_group conn=%d", client_id)
            return refusal(client_id, request.request_id, "internal", "the group could not be stored; try again")
        return self._created(client_id, request, group_id, password_hash, now)

    def _create_shared(
        self, client_id: ClientId, request: CreateGroup, key: str, password_hash: str, now: float
    ) -> StoreCall:
        """Create the group in the shared store and make its creator a member there, off the loop."""
        assert self.cluster is not None
        store, roster, node = self.log.store, self.cluster.roster, self.cluster.node

        def work() -> int:
            group_id = store.create_group(request.group_name, key, password_hash, int(now * 1000))
            roster.claim(group_id, node, client_id, request.name, False, "")  # a new group: no name is taken
            return group_id

        def then(outcome: int | StoreError) -> list[Action]:
            if isinstance(outcome, StoreError):
                if not isinstance(outcome, StoreBusy) and "taken" in str(outcome):
                    message = f"a group named {request.group_name!r} (or one that looks the same) already exists"
                    return refusal(client_id, request.request_id, "group_name_taken", message)
                log.error("storage error op=create_group conn=%d: %s", client_id, outcome)
                return store_refusal(client_id, request.request_id, outcome, "store the group")
            if not self.connected(client_id):
                assert self.cluster is not None
                return [self.cluster.release(outcome, client_id)]  # the group stays; its creator is gone
            return self._created(client_id, request, outcome, password_hash, now)

        return StoreCall(work, then, client_id)

    def _created(
        self, client_id: ClientId, request: CreateGroup, group_id: int, password_hash: str, now: float
    ) -> list[Action]:
        self.guard.group_created(client_id, now)
        group = self.groups.get(group_id)
        if group is None:  # another process's news of it may have come first (--store redis://)
            group = Group(group_id, request.group_name, password_hash)
            self.groups.add(group)
        self.groups.add_member(group, client_id, request.name)
        log.info(
            "group created id=%d name=%r conn=%d address=%s",
            group_id,
            group.name,
            client_id,
            self.guard.address(client_id),
        )
        token = self.tokens.issue(group_id, fields.name_key(request.name), now)
        return [Outgoing((client_id,), GroupCreated(request.request_id, group_id, group.name, request.name, token))]

    # --- join --------------------------------------------------------------------------------------

    def join(self, client_id: ClientId, request: JoinGroup, now: float) -> list[Action]:
        """A join: with a token, checked at once; with a password, throttles first, then the password
        check off the loop (against a decoy hash for an unknown group: the same work, the same answer)."""
        if request.resume_token is not None:
            return self._join_with_token(client_id, request, request.resume_token, now)
        if refused := self._membership_cap(client_id, request.request_id):
            return self._refused(client_id, request, refused)
        if wait := self.guard.login_wait(client_id, request.group_id, now):
            self._throttled("guesses", client_id, request.group_id, wait)
            # Guesses still being checked count too, so this may meet a right password in flight: say "tries".
            message = f"too many password tries for this group from your address; try again in {math.ceil(wait)} s"
            return self._refused(
                client_id, request, refusal(client_id, request.request_id, "too_many_attempts", message, wait)
            )
        if refused := self._start_hash(client_id, request.request_id, now):
            return self._refused(client_id, request, refused)
        # Counted as a wrong guess now, while it is checked: guesses in flight count (refunded if right).
        self.guard.guess_started(client_id, request.group_id, now)
        if self.cluster is not None and self.groups.get(request.group_id) is None:
            return [
                self.cluster.load_group_then(
                    request.group_id, client_id, lambda failed: self._verify(client_id, request, failed)
                )
            ]
        return self._verify(client_id, request, None)

    def _verify(self, client_id: ClientId, request: JoinGroup, failed: StoreError | None) -> list[Action]:
        if failed is not None:  # the group could not be looked up in the shared store
            self.guard.end_auth(client_id)
            return store_refusal(client_id, request.request_id, failed, "look the group up")
        group = self.groups.get(request.group_id)
        return [VerifyPassword(client_id, request, group.password_hash if group else self._decoy_hash)]

    def _join_with_token(
        self, client_id: ClientId, request: JoinGroup, token: str, now: float, *, looked_up: bool = False
    ) -> list[Action]:
        # Checked on the loop: an HMAC of a few dozen bytes, compared in constant time; no hash, no queue.
        if refused := self._membership_cap(client_id, request.request_id):
            return self._refused(client_id, request, refused)
        group = self.groups.get(request.group_id)
        if (
            group is None
            and not looked_up
            and self.cluster is not None
            and self.tokens.valid(token, request.group_id, fields.name_key(request.name), now)
        ):
            # A token for a group another process made, whose news has not come yet: look it up first.
            return [
                self.cluster.load_group_then(
                    request.group_id,
                    client_id,
                    lambda failed: (
                        store_refusal(client_id, request.request_id, failed, "look the group up")
                        if failed
                        else self._join_with_token(client_id, request, token, now)
                    ),
                )
            ]
        key = fields.name_key(request.name)
        if group is None or not self.tokens.valid(token, request.group_id, key, now):
            self.guard.guess_started(client_id, request.group_id, now)  # a wrong token is a failed guess
            return self._refused(
                client_id, request, refusal(client_id, request.request_id, "bad_credentials", BAD_CREDENTIALS)
            )
        return self.admit(client_id, group, request, now, "token")

    def finish_join(self, client_id: ClientId, request: JoinGroup, password_ok: bool, now: float) -> list[Action]:
        """The password is checked: admit the member (if still possible)."""
        group = self.groups.get(request.group_id)
        if group is None or not password_ok:
            return self._refused(
                client_id, request, refusal(client_id, request.request_id, "bad_credentials", BAD_CREDENTIALS)
            )
        self.guard.guess_succeeded(client_id, request.group_id)
        return self.admit(client_id, group, request, now, "password")

    def _refused(self, client_id: ClientId, request: JoinGroup, refused: list[Action]) -> list[Action]:
        """Log a refused join (its code and address), and pass the refusal on."""
        [reply] = refused
        assert isinstance(reply, Outgoing)
        assert isinstance(reply.event, Error)
        log.info(
            "join refused code=%s conn=%d group=%d address=%s",
            reply.event.code, client_id, request.group_id, self.guard.address(client_id),
        )  # fmt: skip
        return refused

    def _admission_refusal(self, client_id: ClientId, group: Group, request: JoinGroup) -> list[Action]:
        """What only someone who proved the password may learn."""
        rid = request.request_id
        if client_id in group.members:
            return refusal(client_id, rid, "already_member", f"you are already in group {group.group_id}")
        if group.name_in_use(request.name):
            message = f"someone in this group is already called {request.name!r} (or a name that looks the same)"
            return refusal(client_id, rid, "name_taken", message)
        if group.size >= limits.MAX_MEMBERS_IN_FRAME:
            return refusal(client_id, rid, "group_full", "this group is full")
        return self._membership_cap(client_id, rid)  # a token join may have filled the connection meanwhile

    def admit(self, client_id: ClientId, group: Group, request: JoinGroup, now: float, via: str) -> list[Action]:
        """Make ``client_id`` a member: the reply (paged), then its catch-up, and the news to the others."""
        if refused := self._admission_refusal(client_id, group, request):
            return self._refused(client_id, request, refused)
        if self.cluster is not None:
            return [self._claim(client_id, group, request, now, via)]
        return self._admitted(client_id, group, request, now, via)

    def _claim(self, client_id: ClientId, group: Group, request: JoinGroup, now: float, via: str) -> StoreCall:
        """Make the joiner a member in the shared store first, where a name is claimed atomically across
        processes; then admit it here (if it is still connected and still may)."""
        assert self.cluster is not None
        cluster = self.cluster

        def then(outcome: tuple[bool, int] | StoreError) -> list[Action]:
            if isinstance(outcome, StoreError):
                log.error("storage error op=join conn=%d group=%d: %s", client_id, group.group_id, outcome)
                return store_refusal(client_id, request.request_id, outcome, "join the group")
            claimed, last_seq = outcome
            if not claimed:
                message = f"someone in this group is already called {request.name!r}"
                return self._refused(client_id, request, refusal(client_id, request.request_id, "name_taken", message))
            if not self.connected(client_id):
                return [cluster.release(group.group_id, client_id)]
            if refused := self._admission_refusal(client_id, group, request):  # a local join came first
                return [cluster.release(group.group_id, client_id), *self._refused(client_id, request, refused)]
            if not group.members:  # nobody here followed the group: it is where the store says
                cluster.sequencer.skip_to(group, last_seq, cluster.clock())
            return self._admitted(client_id, group, request, now, via)

        return cluster.claim(group.group_id, client_id, request.name, then)

    def _admitted(self, client_id: ClientId, group: Group, request: JoinGroup, now: float, via: str) -> list[Action]:
        self.groups.add_member(group, client_id, request.name)
        log.info(
            "join accepted conn=%d group=%d address=%s via=%s",
            client_id,
            group.group_id,
            self.guard.address(client_id),
            via,
        )
        token = self.tokens.issue(group.group_id, fields.name_key(request.name), now)
        joined = GroupJoined(
            request.request_id, group.group_id, group.name, request.name, (), group.stored_seq, resume_token=token
        )
        pages = member_pages(joined, group.member_names(), self.config.max_frame_size)
        actions: list[Action] = [Outgoing((client_id,), page) for page in pages]
        to_joiner, to_others = self._join_news(group, client_id) if self._join_news else ([], [])
        actions += to_joiner
        after_seq = self._replay_start(group, request.since_seq)
        if after_seq < group.stored_seq:
            group.start_catching_up(client_id, after_seq)  # out of live fan-out until the replay reaches stored_seq
            actions.append(Replay(client_id, group.group_id, after_seq))
        actions.append(Outgoing(group.others(client_id), MemberJoined(group.group_id, request.name)))
        return actions + to_others

    def _replay_start(self, group: Group, since_seq: int | None) -> int:
        """The seq after which a joiner's replay starts: the last --history-on-join messages, or those
        after ``since_seq`` (at most --catch-up-limit; the client pages back for older ones)."""
        if since_seq is None:
            return max(0, group.stored_seq - self.config.history_on_join)
        return max(min(since_seq, group.stored_seq), group.stored_seq - self.config.catch_up_limit)

    # --- leave -------------------------------------------------------------------------------------

    def leave(self, group: Group, client_id: ClientId) -> list[Action]:
        name = self.groups.remove_member(group, client_id)
        if name is None:
            return []
        actions: list[Action] = [Outgoing(tuple(group.members), MemberLeft(group.group_id, name))]
        if self.cluster is not None:
            actions.append(self.cluster.release(group.group_id, client_id))
            if not group.members:
                self.cluster.sequencer.forget(group.group_id)
        return actions
