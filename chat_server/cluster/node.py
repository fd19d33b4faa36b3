"""ClusterNode: this process's part in a deployment of several server processes sharing one Redis.

It turns what the bus says (other processes' messages and member news) into frames for this
process's members, keeps the process's heartbeat going and sweeps processes that stopped, reads a
group's log back when its seqs have a gap, and after the bus reconnects (Redis restarted, or this
process was cut off) reloads groups and members and re-registers its own. Every Redis call is a
:class:`StoreCall`: its work runs on the store thread, never on the loop.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chat_server.cluster.events import (
    GroupAdded,
    Joined,
    Left,
    MemberRenamed,
    Posted,
    Presence,
    Resync,
    TypingNews,
)
from chat_server.cluster.remote_members import RemoteMembers
from chat_server.cluster.roster import RemoteMember, Roster
from chat_server.cluster.sequencer import NOBODY, Held, Sequencer
from chat_server.config import ServerConfig
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.outgoing import Action, Outgoing, StoreCall
from chat_server.store import GroupRecord, StoredMessage, StoreError
from shared import MemberTyping

if TYPE_CHECKING:
    from chat_server.member_news import MemberNews
    from chat_server.message_log import MessageLog
    from chat_server.store.redis import RedisStore

log = logging.getLogger("chat_server")

# Messages read back from the log per call when a gap is refilled; a longer gap takes several reads.
LOG_READ_ROWS = 1000
# Member news held while groups and members are read (one Redis round trip, usually); past this, a resync.
MAX_WAITING_NEWS = 100_000
# Seconds before a resync that found Redis away again is tried again.
RESYNC_RETRY = 1.0
BusEvent = Posted | Joined | Left | MemberRenamed | Presence | TypingNews | GroupAdded | Resync
# What a resync reads: every group with the members of other processes in it.
Snapshot = list[tuple[GroupRecord, list[RemoteMember]]]


class ClusterNode:
    """One server process among several over Redis; ``clock`` is wall time (Unix seconds)."""

    def __init__(
        self,
        config: ServerConfig,
        store: RedisStore,
        groups: GroupDirectory,
        news: MemberNews,
        log_: MessageLog,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.node = secrets.token_hex(4)
        self.store, self.groups, self.news, self.log = store, groups, news, log_
        self.roster = Roster(store)
        self.remote = RemoteMembers(news)
        self.sequencer = Sequencer(config.gap_wait)
        self.clock = clock
        self._ttl_ms = max(1, round(config.node_timeout * 1000))
        self._beat_every = config.node_timeout / 3
        self._next_beat = 0.0
        self._beating = False
        self._redis_down = False  # the last heartbeat failed: said once in the log, not every beat
        self._resyncing = False
        self._reads = 0  # reads of groups and members in flight
        self._waiting_news: list[Joined | Left | MemberRenamed | Presence] = []  # news held behind them
        self._resync_at: float | None = None  # a failed resync is tried again then
        log.info(
            "cluster node=%s heartbeat every %.1f s, dropped after %.1f s",
            self.node,
            self._beat_every,
            config.node_timeout,
        )

    def member_key(self, client_id: ClientId) -> str:
        return f"{self.node}/{client_id}"

    # --- timed work ------------------------------------------------------------------------------

    def due(self, now: float) -> list[Action]:
        """The heartbeat (with a sweep of stopped processes) when its time has come; reads of the log
        for gaps that waited long enough."""
        actions: list[Action] = []
        if now >= self._next_beat and not self._beating:
            self._beating = True
            self._next_beat = now + self._beat_every
            roster, node, ttl = self.roster, self.node, self._ttl_ms

            def beat() -> list[str]:
                roster.heartbeat(node, ttl)
                return roster.sweep()

            actions.append(StoreCall(beat, self._beaten))
        if self._resync_at is not None and now >= self._resync_at:
            self._resync_at = None
            actions += self._resync_once()
        actions += [self._read_log(group_id) for group_id in self.sequencer.due(now)]
        return actions

    def next_deadline(self) -> float:
        times = [self._next_beat, self.sequencer.next_deadline(), self._resync_at]
        return min(t for t in times if t is not None)

    def _beaten(self, outcome: list[str] | StoreError) -> list[Action]:
        self._beating = False
        if isinstance(outcome, StoreError):
            if not self._redis_down:
                log.error("cluster heartbeat failed: %s", outcome)
            self._redis_down = True
        else:
            if self._redis_down:
                log.info("cluster heartbeat works again")
            self._redis_down = False
            for node in outcome:
                log.info("cluster node=%s stopped heartbeating: its members were removed", node)
            if self.node in outcome:  # this process itself was silent too long (cut off from Redis)
                return self._resync_once()
        return []

    # --- reading a group's log back ----------------------------------------------------------------

    def _read_log(self, group_id: int) -> StoreCall:
        group = self.groups.get(group_id)
        after = 0 if group is None else group.stored_seq
        store = self.store
        return StoreCall(
            lambda: store.messages_after(group_id, after, LOG_READ_ROWS),
            lambda outcome: self._log_read(group_id, outcome),
        )

    def _log_read(self, group_id: int, outcome: list[StoredMessage] | StoreError) -> list[Action]:
        now = self.clock()
        self.sequencer.read_done(group_id, now)
        group = self.groups.get(group_id)
        if isinstance(outcome, StoreError):
            log.error("cluster: reading group %d's log for a gap failed: %s", group_id, outcome)
            return []
        if group is None:
            return []
        released: list[Held] = []
        senders = {name: cid for cid, name in group.members.items()} if outcome else {}
        for message in outcome:
            # A message of a member here that reaches it only now, from the log: its commit was stored but
            # its answer lost (Redis went away). The sender gets it as its own, a resend's message_accepted
            # standing in its place, as the protocol promises every sender; the others get it posted.
            sender = senders.get(message.sender, NOBODY)
            released += self.sequencer.offer(group, message.seq, self.held(message, sender), now)
        actions = self.log.release(group, released)
        if len(outcome) == LOG_READ_ROWS and self.sequencer.held(group_id):
            actions.append(self._read_log(group_id))  # a long gap: go on reading at once
        return actions

    def held(self, message: StoredMessage | Posted, sender: ClientId = NOBODY) -> Held:
        """A stored or published message as it goes to the members (``sender``: the one not sent it)."""
        posted, as_text = self.log.frames(message)
        return Held(sender, b"", posted, as_text)

    # --- what the bus says -------------------------------------------------------------------------

    def on_bus(self, events: list[BusEvent]) -> list[Action]:
        """Frames for this process's members from what other processes did; never raises for one event."""
        actions: list[Action] = []
        now = self.clock()
        # A run of messages goes out as one share per group (one join of their frames for all its members);
        # any other news first lets the messages before it go, so the order on the bus is kept.
        released: dict[int, tuple[Group, list[Held]]] = {}
        for event in events:
            try:
                if isinstance(event, Posted):
                    self._posted(event, now, released)
                    continue
                actions += self._flush(released)
                actions += self._on_event(event)
            except Exception:  # one odd event must not stop the others, nor the loop
                log.exception("cluster: internal error handling %r", type(event).__name__)
        return actions + self._flush(released)

    def _posted(self, event: Posted, now: float, released: dict[int, tuple[Group, list[Held]]]) -> None:
        if event.origin == self.node or (group := self.groups.get(event.group_id)) is None:
            return  # our own come with the commit's answer; an unknown group comes with GroupAdded
        if not group.members:
            self.sequencer.skip_to(group, event.seq, now)  # nobody here to tell
            return
        if out := self.sequencer.offer(group, event.seq, self.held(event), now):
            released.setdefault(group.group_id, (group, []))[1].extend(out)

    def _flush(self, released: dict[int, tuple[Group, list[Held]]]) -> list[Action]:
        actions: list[Action] = []
        for group, out in released.values():
            actions += self.log.release(group, out)
        released.clear()
        return actions

    def _on_event(self, event: BusEvent) -> list[Action]:
        match event:
            case Resync():
                return self._resync_once()
            case GroupAdded():
                return [] if self.groups.get(event.group_id) else [self._load_group(event.group_id)]
            case TypingNews():
                if event.node == self.node or (group := self.groups.get(event.group_id)) is None:
                    return []
                recipients = self.news.having(group.members, "typing")
                return [Outgoing(recipients, MemberTyping(group.group_id, event.name))] if recipients else []
            case Joined() | Left() | MemberRenamed() | Presence():
                if self._reads:  # applied after the read in flight (see _snapshot)
                    if len(self._waiting_news) >= MAX_WAITING_NEWS:  # a flood: a fresh read repairs it
                        self._waiting_news.clear()
                        return self._resync_once()
                    self._waiting_news.append(event)
                    return []
                return self._member_news(event)
            case _:
                return []

    def _member_news(self, event: Joined | Left | MemberRenamed | Presence) -> list[Action]:
        if (group := self.groups.get(event.group_id)) is None:
            return []
        if event.node == self.node:
            if isinstance(event, Left) and event.client_id in group.members:
                # Still here, yet removed in Redis: this process was swept (cut off longer than
                # --node-timeout). Put its members back.
                log.warning("cluster: this process was taken for stopped; registering its members again")
                return self._resync_once()
            return []
        return self.remote.news_of(group, event)

    # --- groups and members loaded from Redis -------------------------------------------------------

    def _load_group(self, group_id: int) -> StoreCall:
        return self._snapshot(self._group_reader(group_id), self._loaded)

    def _group_reader(self, group_id: int) -> Callable[[], Snapshot]:
        store, roster = self.store, self.roster
        return lambda: [(record, roster.members(group_id))] if (record := store.load_group(group_id)) else []

    def load_group_then(
        self, group_id: int, client_id: ClientId, then: Callable[[StoreError | None], list[Action]]
    ) -> StoreCall:
        """Learn a group another process created that this one has not heard of yet (its news may still be
        on the way), then go on with ``then`` (given the StoreError if Redis could not be read)."""

        def loaded(outcome: Snapshot | StoreError) -> list[Action]:
            actions = self._loaded(outcome)
            return actions + then(outcome if isinstance(outcome, StoreError) else None)

        return self._snapshot(self._group_reader(group_id), loaded, client_id)

    def _snapshot(
        self,
        work: Callable[[], Snapshot],
        then: Callable[[Snapshot | StoreError], list[Action]],
        client_id: ClientId | None = None,
    ) -> StoreCall:
        """A read of groups and members. Member news from the bus waits while one is in flight and is
        applied after it: the read may have been taken before or after any of that news, and news applied
        over the read is right either way (each event sets or removes one member), news applied before it
        could be undone by it (a member who joined meanwhile, missing from an older read)."""
        self._reads += 1

        def done(outcome: Snapshot | StoreError) -> list[Action]:
            actions = then(outcome)
            self._reads -= 1
            if not self._reads:
                waiting, self._waiting_news = self._waiting_news, []
                for event in waiting:
                    actions += self._member_news(event)
            return actions

        return StoreCall(work, done, client_id)

    def _resync_once(self) -> list[Action]:
        """A resync, unless one is already in flight (a burst of reasons needs one)."""
        if self._resyncing:
            return []
        self._resyncing = True
        return [self._resync()]

    def _resync(self) -> StoreCall:
        """After the bus (re)connects: put this process's members back in Redis as they are here, then
        read every group and its members; :meth:`_loaded` tells the differences and refills gaps."""
        store, roster, node = self.store, self.roster, self.node
        mine = {
            group.group_id: {
                cid: (name, cid in self.news.away_reasons, self.news.away_reasons.get(cid, ""))
                for cid, name in group.members.items()
            }
            for group in self.groups.all()
            if group.members
        }

        def work() -> Snapshot:
            roster.reconcile(node, mine)
            return [(record, roster.members(record.group_id)) for record in store.load_groups()]

        def then(outcome: Snapshot | StoreError) -> list[Action]:
            self._resyncing = False
            if isinstance(outcome, StoreError):  # Redis went away again: try again in a moment
                self._resync_at = self.clock() + RESYNC_RETRY
            return self._loaded(outcome)

        return self._snapshot(work, then)

    def _loaded(self, outcome: Snapshot | StoreError) -> list[Action]:
        if isinstance(outcome, StoreError):
            log.error("cluster: reading groups and members from Redis failed: %s", outcome)
            return []
        now = self.clock()
        actions: list[Action] = []
        for record, members in outcome:
            group = self.groups.get(record.group_id)
            if group is None:
                group = Group(record.group_id, record.name, record.password_hash, record.last_seq, record.last_seq)
                self.groups.add(group)
            actions += self.remote.now(group, [m for m in members if m.node != self.node])
            if not group.members:
                self.sequencer.skip_to(group, record.last_seq, now)
            elif record.last_seq > group.stored_seq:
                actions.append(self._read_log(group.group_id))  # the bus lost something: read it back
        return actions

    # --- this process's members, told to Redis ------------------------------------------------------

    def claim(self, group_id: int, client_id: ClientId, name: str, then: Callable[[Any], list[Action]]) -> StoreCall:
        """Make a joiner a member in Redis (atomically: False if a member elsewhere has the name); the
        result is ``(claimed, the group's last stored seq)``."""
        roster, store, node = self.roster, self.store, self.node
        away, reason = client_id in self.news.away_reasons, self.news.away_reasons.get(client_id, "")

        def work() -> tuple[bool, int]:
            claimed = roster.claim(group_id, node, client_id, name, away, reason)
            record = store.load_group(group_id)
            return claimed, 0 if record is None else record.last_seq

        return StoreCall(work, then, client_id)

    def release(self, group_id: int, client_id: ClientId) -> StoreCall:
        roster, node = self.roster, self.node
        return StoreCall(lambda: roster.release(group_id, node, client_id), _logged("release a member"))

    def renamed(self, group_id: int, client_id: ClientId, name: str) -> StoreCall:
        roster, node = self.roster, self.node
        return StoreCall(lambda: roster.rename(group_id, node, client_id, name), _logged("rename a member"))

    def presence(self, client_id: ClientId, group_ids: list[int], away: bool, reason: str) -> StoreCall:
        roster, node = self.roster, self.node
        return StoreCall(
            lambda: roster.set_presence(node, client_id, group_ids, away, reason), _logged("set a presence")
        )

    def typing(self, group_id: int, name: str) -> StoreCall:
        roster, node = self.roster, self.node
        return StoreCall(lambda: roster.typing(group_id, node, name), _logged("pass on typing"))

    def forget_me(self) -> StoreCall:
        """At a clean shutdown: this process's members leave every member list now, not after the timeout."""
        roster, node = self.roster, self.node
        return StoreCall(lambda: roster.forget_node(node), _logged("leave the cluster"))


def _logged(doing: str) -> Callable[[Any], list[Action]]:
    """A ``then`` for news told to Redis: nothing waits for it; a failure is logged (a resync repairs it)."""

    def then(outcome: object) -> list[Action]:
        if isinstance(outcome, StoreError):
            log.warning("cluster: could not %s: %s", doing, outcome)
        return []

    return then
