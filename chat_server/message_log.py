"""The durable message path: commit, then acknowledge, then fan out; plus idempotent resends and history.

Messages posted during one loop turn wait in ``_pending`` and are stored by :meth:`MessageLog.commit`
in one transaction (group commit). Only after that commit returns do their senders get
``message_accepted`` and the other members ``message_posted``: an acknowledged message is on disk.

A resend whose client_msg_id is not in the in-memory cache (after a restart, or once it left the
cache) is found by the store's unique index: the batch is refused, the resends in it are looked up
and answered with their original seq and ts, and the rest is stored again (issue 8 item 8). A
message that still cannot be stored is refused alone: the batch is then stored one message at a
time, so no message is refused because of another. When the database is locked by someone else
(:class:`StoreBusy`) the batch stays pending and is tried again on a later turn.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from chat_server.cluster.sequencer import Held
from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.outgoing import UNAVAILABLE_RETRY, Action, Fanout, Post, StoreCall, refusal
from chat_server.store import Store, StoredMessage, StoreError
from chat_server.store.base import StoreBusy
from shared import (
    Error,
    HistoryEntry,
    HistoryPage,
    MessageAccepted,
    MessagePosted,
    SearchHistory,
    SearchResults,
    SendMessage,
    encode,
    fields,
    limits,
)
from shared.codec import encode_fields

if TYPE_CHECKING:
    from chat_server.cluster.node import ClusterNode

log = logging.getLogger("chat_server")
# Encoded bytes one history entry costs beyond its text and sender (array header, seq, ts, str headers).
_ENTRY_OVERHEAD = 32
# Bytes of a history_page frame that are not entries (type, id, group_id, has_more, headers).
_PAGE_OVERHEAD = 128
# A replay chunk reads the store in batches: first this many rows (a 4,000-emoji message is 16 KB, so a
# large first read would mostly be thrown away), then as many as the average row so far says still fit.
_REPLAY_FIRST_READ = 16
_REPLAY_LARGEST_READ = 256
_NOT_STORED = "the server could not store your message; send it again"
# Not "not stored": Redis may have stored a commit whose answer it could not send; the resend finds it.
_UNAVAILABLE = "the chat's shared store is unavailable; send your message again with the same client_msg_id"
# Which of some connections asked for a feature (MemberNews.with_feature): who gets a /me line as one.
FeatureFilter = Callable[[frozenset[ClientId], str], frozenset[ClientId]]


def action_as_text(sender: str, text: str) -> str:
    """A /me line for a connection that did not ask for feature "action": "* Alice waves", cut to fit."""
    line = f"* {sender} {text}"
    return line if len(line) <= limits.MAX_TEXT_LENGTH else line[: limits.MAX_TEXT_LENGTH - 1] + "…"


class PostedMessage(Protocol):
    """What a ``message_posted`` is made of: a stored message, or one another process published."""

    @property
    def group_id(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int: ...
    @property
    def sender(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def action(self) -> bool: ...


def _action_frames(message: PostedMessage, seq: int, ts: int) -> tuple[bytes, bytes]:
    """A /me line's message_posted: as one (``action`` true), and as text for those who did not ask."""
    gid, sender, text = message.group_id, message.sender, message.text
    as_text = action_as_text(sender, text)
    return (
        encode_fields(MessagePosted, gid, seq, ts, sender, text, True),
        encode_fields(MessagePosted, gid, seq, ts, sender, as_text),
    )


def _no_features(_clients: frozenset[ClientId], _feature: str) -> frozenset[ClientId]:
    return frozenset()


@dataclass(frozen=True, slots=True)
class _Final:
    """Where a pending message ended up: its seq and ts, and whether it is ``new`` (stored by this
    commit; else it was a resend of a message stored before, whose seq and ts these are)."""

    seq: int
    ts: int
    new: bool


# A pending message stored with the seq and ts it was given (the common case: no _Final is built for it).
_AS_POSTED = _Final(0, 0, new=True)
# What became of the seqs handed out to a batch, by (group_id, seq), when not simply stored as they
# were: a new seq (others before it in its group were not stored), a resend's original, or None: refused.
Fate = dict[tuple[int, int], _Final | None]


class _Pending(NamedTuple):
    """A message waiting for the next commit; ``message`` is None for a resend of a stored one.

    A named tuple: one is made per message, and a frozen dataclass costs five times as much to build.
    """

    client_id: ClientId
    request_id: int
    group_id: int
    seq: int
    ts: int
    message: StoredMessage | None


class MessageLog:
    """Sequence numbers, group commit, idempotent resends and history reads over a :class:`Store`.

    Args:
        busy_retries: commits that may find the database locked before a batch is refused.
    """

    def __init__(
        self,
        store: Store,
        groups: GroupDirectory,
        max_frame_size: int,
        busy_retries: int,
        with_feature: FeatureFilter = _no_features,
    ) -> None:
        self.store = store
        self.with_feature = with_feature
        self.groups = groups
        self.max_frame_size = max_frame_size
        self.busy_retries = busy_retries
        self._pending: list[_Pending] = []
        self._busy_tries = 0  # commits in a row that found the database locked
        # Set when the store is shared with other processes (--store redis://): seqs are then given by
        # the store at commit, and delivered through the node's sequencer in order.
        self.cluster: ClusterNode | None = None
        self._committing = False  # a shared-store commit is in flight: the next waits for its answer

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def waiting_for_lock(self) -> bool:
        """Whether messages wait because the database was locked: the loop should come back soon."""
        return self._busy_tries > 0 and bool(self._pending)

    def post(self, group: Group, client_id: ClientId, request: SendMessage, ts: int) -> None:
        """Queue a message (or the answer to its resend, when its id is in the cache) for the next commit.

        An id that is not in the cache is not looked up now: the store's unique index on (group,
        sender name key, client_msg_id) refuses a resend at commit, which then looks it up (see
        :meth:`_recover`). That costs nothing for the messages that are new, which is nearly all.
        """
        sender, request_id, client_msg_id = group.members[client_id], request.request_id, request.client_msg_id
        sender_key = "" if client_msg_id is None else fields.name_key(sender)
        if client_msg_id is not None and (earlier := group.recent_client_ids.get((sender_key, client_msg_id))):
            seq, first_ts = earlier
            self._pending.append(_Pending(client_id, request_id, group.group_id, seq, first_ts, None))
            return
        if self.cluster is not None:  # the shared store gives the seq at commit; it knows every resend
            message = StoredMessage(group.group_id, 0, ts, sender, request.text, client_msg_id, request.action)
            self._pending.append(_Pending(client_id, request_id, group.group_id, 0, ts, message))
            return
        seq = group.next_seq()
        message = StoredMessage(group.group_id, seq, ts, sender, request.text, client_msg_id, request.action)
        if client_msg_id is not None:
            group.remember_client_id(sender_key, client_msg_id, seq, ts)
        self._pending.append(_Pending(client_id, request_id, group.group_id, seq, ts, message))

    # --- commit ------------------------------------------------------------------------------------

    def commit(self) -> list[Action]:
        """Store everything pending in one transaction, then return the acks and the fan-out."""
        if not self._pending:
            return []
        if self.cluster is not None:
            return self._commit_shared()
        batch = self._pending
        try:
            self.store.append([p.message for p in batch if p.message is not None])
        except StoreBusy as exc:
            self._busy_tries += 1
            if self._busy_tries <= self.busy_retries:
                return []  # kept pending: tried again on a later turn
            log.error("storage error op=commit messages=%d busy_tries=%d: %s", len(batch), self._busy_tries, exc)
            fate: Fate = {(p.group_id, p.seq): None for p in batch if p.message is not None}
        except StoreError as exc:
            fate = self._recover(batch, exc)
        else:
            fate = {}
        self._pending, self._busy_tries = [], 0
        return self._settle(batch, fate)

    # --- commit to a shared store -------------------------------------------------------------------

    def _commit_shared(self) -> list[Action]:
        """One commit in flight at a time (the store gives seqs in the order it stores batches); what is
        posted meanwhile goes in the next, sent as soon as this one's answer comes back."""
        if self._committing:
            return []
        assert self.cluster is not None
        batch, self._pending, self._committing = self._pending, [], True
        messages = [p.message for p in batch if p.message is not None]
        store, origin = self.cluster.store, self.cluster.node
        return [StoreCall(lambda: store.commit(messages, origin), lambda outcome: self._settle_shared(batch, outcome))]

    def _settle_shared(self, batch: list[_Pending], outcome: list[tuple[int, int, bool]] | StoreError) -> list[Action]:
        """The shared store's answer: acknowledge and release in seq order (the sequencer holds a message
        until those before it, from other processes, have gone out), or refuse the whole batch."""
        assert self.cluster is not None
        self._committing = False
        actions: list[Action] = []
        if isinstance(outcome, StoreError):
            busy = isinstance(outcome, StoreBusy)  # Redis did not answer: try again soon
            log.error("storage error op=commit messages=%d: %s", len(batch), outcome)
            for p in batch:
                if p.message is None:  # a resend answered from memory was stored long ago
                    actions.append(self._reply_only(p, p.seq, p.ts))
                elif busy:
                    actions += refusal(p.client_id, p.request_id, "unavailable", _UNAVAILABLE, UNAVAILABLE_RETRY)
                else:
                    actions += refusal(p.client_id, p.request_id, "internal", _NOT_STORED)
            return actions + self.commit()
        results = iter(outcome)
        now = self.cluster.clock()
        released: dict[int, tuple[Group, list[Held]]] = {}
        for p in batch:
            if p.message is None:
                actions.append(self._reply_only(p, p.seq, p.ts))
                continue
            seq, ts, new = next(results)
            group, m = self.groups.get(p.group_id), p.message
            if seq == 0 or group is None:
                actions += refusal(p.client_id, p.request_id, "internal", _NOT_STORED)
                continue
            if m.client_msg_id is not None:
                group.remember_client_id(fields.name_key(m.sender), m.client_msg_id, seq, ts)
            if not new:  # a resend of a message stored before: its original seq and ts, nothing posted
                actions.append(self._reply_only(p, seq, ts))
                continue
            posted, as_text = self.frames(m._replace(seq=seq, ts=ts))
            reply = encode_fields(MessageAccepted, p.request_id, p.group_id, seq, ts)
            out = self.cluster.sequencer.offer(group, seq, Held(p.client_id, reply, posted, as_text), now)
            released.setdefault(p.group_id, (group, []))[1].extend(out)
        for group, out in released.values():
            actions += self.release(group, out)
        return actions + self.commit()

    @staticmethod
    def _reply_only(p: _Pending, seq: int, ts: int) -> Action:
        """A sender's ``message_accepted`` alone (its message is not posted again)."""
        reply = encode_fields(MessageAccepted, p.request_id, p.group_id, seq, ts)
        return Fanout(frozenset(), [(p.client_id, reply, None)])

    @staticmethod
    def frames(m: PostedMessage) -> tuple[bytes, bytes | None]:
        """A stored message's ``message_posted``; for a /me line, also the frame as text for the
        connections that did not ask for "action"."""
        if not m.action:
            return encode_fields(MessagePosted, m.group_id, m.seq, m.ts, m.sender, m.text), None
        return _action_frames(m, m.seq, m.ts)

    def release(self, group: Group, released: list[Held]) -> list[Action]:
        """Fan out a run of a group's messages the sequencer released, in seq order."""
        if not released:
            return []
        posts: list[Post] = [(h.client_id, h.reply, h.posted) for h in released]
        texts = {i: h.as_text for i, h in enumerate(released) if h.as_text is not None}
        return self._fanouts({group.group_id: (group, posts)}, {group.group_id: texts} if texts else {})

    def _recover(self, batch: list[_Pending], exc: StoreError) -> Fate:
        """The batch was refused whole. Find the resends in it (ids the store already holds: after a
        restart, or once out of the cache) and store the rest again as one batch; if that fails too,
        store it one message at a time, so only the messages that fail are refused."""
        log.info("commit of %d message(s) refused (%s): looking for resends", len(batch), exc)
        fate = self._resends(batch)
        rest = self._renumbered(batch, fate)
        try:
            self.store.append([message for _, message in rest])
        except StoreError:  # StoreBusy too: the lock was free a moment ago; no batch waits on a retry here
            log.exception("storage error op=commit messages=%d: storing them one at a time", len(rest))
            return self._store_each(batch, fate)
        for p, message in rest:
            if message.seq != p.seq:
                fate[(p.group_id, p.seq)] = _Final(message.seq, message.ts, new=True)
        return fate

    def _resends(self, batch: list[_Pending]) -> Fate:
        """The batch's messages whose client_msg_id the store already holds, with the stored seq and ts."""
        fate: Fate = {}
        for p in batch:
            if p.message is None or p.message.client_msg_id is None:
                continue
            sender_key = fields.name_key(p.message.sender)
            try:
                stored = self.store.find_by_client_id(p.group_id, sender_key, p.message.client_msg_id)
            except StoreError:  # unknown: if it is a resend, storing it fails again and refuses it alone
                log.exception("storage error op=find_by_client_id group=%d", p.group_id)
                continue
            if stored is not None:
                fate[(p.group_id, p.seq)] = _Final(stored.seq, stored.ts, new=False)
        return fate

    @staticmethod
    def _renumbered(batch: list[_Pending], fate: Fate) -> list[tuple[_Pending, StoredMessage]]:
        """The messages to store, less those ``fate`` settled: each group's later seqs move down over the
        gaps they leave, so a group's seqs stay gap-free (nothing after them was acknowledged yet)."""
        gone: Counter[int] = Counter()
        kept = []
        for p in batch:
            if p.message is None:
                continue
            if (p.group_id, p.seq) in fate:
                gone[p.group_id] += 1
            else:
                kept.append((p, p.message._replace(seq=p.seq - gone[p.group_id])))
        return kept

    def _store_each(self, batch: list[_Pending], fate: Fate) -> Fate:
        """Store the messages ``fate`` has not settled one at a time; a refused one moves its group's
        later seqs down, as in :meth:`_renumbered`."""
        gone: Counter[int] = Counter()
        for p in batch:
            if p.message is None:
                continue
            if (p.group_id, p.seq) in fate:
                gone[p.group_id] += 1
                continue
            message = p.message._replace(seq=p.seq - gone[p.group_id])
            try:
                self.store.append([message])
            except StoreError:
                log.exception("storage error op=store group=%d seq=%d: message refused", p.group_id, message.seq)
                gone[p.group_id] += 1
                fate[(p.group_id, p.seq)] = None
            else:
                if message.seq != p.seq:
                    fate[(p.group_id, p.seq)] = _Final(message.seq, message.ts, new=True)
        return fate

    def _settle(self, batch: list[_Pending], fate: Fate) -> list[Action]:
        """Acknowledge and fan out what was stored, answer resends, refuse what was not stored.

        ``fate`` holds what became of each seq handed out that was not simply stored as it was.
        """
        posts: dict[int, tuple[Group, list[Post]]] = {}  # by group, in the order first posted to
        # For the groups with /me lines this commit: by index in their posts, the line as plain text.
        as_text: dict[int, dict[int, bytes]] = {}
        gone: Counter[int] = Counter()  # seqs handed back per group: refused, or resends of stored ones
        for p in batch:
            group = self.groups.get(p.group_id)
            if group is None:
                continue
            final = fate.get((p.group_id, p.seq), _AS_POSTED) if fate else _AS_POSTED
            if p.message is not None and final is not _AS_POSTED:
                self._recount(group, p.message, final)
                gone[p.group_id] += final is None or not final.new
            posted = None
            if final is None:
                reply = encode(Error(p.request_id, "internal", _NOT_STORED))
            else:
                seq, ts = (p.seq, p.ts) if final is _AS_POSTED else (final.seq, final.ts)
                # Every value below was checked when its request was decoded: encode without re-checking.
                reply = encode_fields(MessageAccepted, p.request_id, p.group_id, seq, ts)
                if p.message is not None and final.new:
                    group.stored_seq = max(group.stored_seq, seq)
                    m = p.message
                    if m.action:
                        posted, text_frame = _action_frames(m, seq, ts)
                        as_text.setdefault(p.group_id, {})[len(posts.get(p.group_id, (group, []))[1])] = text_frame
                    else:
                        posted = encode_fields(MessagePosted, p.group_id, seq, ts, m.sender, m.text)
            if (entry := posts.get(p.group_id)) is None:
                entry = posts[p.group_id] = (group, [])
            entry[1].append((p.client_id, reply, posted))
        for group_id, count in gone.items():
            if count and (group := self.groups.get(group_id)):
                group.last_seq -= count  # they were the group's newest seqs: handed out again
        return self._fanouts(posts, as_text)

    def _fanouts(
        self, posts: dict[int, tuple[Group, list[Post]]], as_text: dict[int, dict[int, bytes]]
    ) -> list[Action]:
        if not as_text:  # the common case: one share per group
            return [Fanout(group.live(), group_posts) for group, group_posts in posts.values()]
        fanouts: list[Action] = []
        for group, group_posts in posts.values():
            texts = as_text.get(group.group_id)
            fanouts += [Fanout(group.live(), group_posts)] if texts is None else self._split(group, group_posts, texts)
        return fanouts

    def _split(self, group: Group, group_posts: list[Post], texts: dict[int, bytes]) -> list[Action]:
        """A commit with /me lines: one share for the live members that asked for "action", one (with the
        lines as text) for the rest. Each sender's reply goes in exactly one of them: its own."""
        live = group.live()
        knowing = self.with_feature(live, "action")
        rest = live - knowing
        mine = [(c, reply if c in knowing else b"", posted) for c, reply, posted in group_posts]
        theirs = [
            (c, b"" if c in knowing else reply, texts.get(index, posted))
            for index, (c, reply, posted) in enumerate(group_posts)
        ]
        return [Fanout(knowing, mine), Fanout(rest, theirs)]

    @staticmethod
    def _recount(group: Group, message: StoredMessage, final: _Final | None) -> None:
        """Keep the resend cache in step with a message's final seq and ts (or forget a refused one)."""
        if message.client_msg_id is None or (final is not None and final.seq == message.seq):
            return
        key = (fields.name_key(message.sender), message.client_msg_id)
        if final is None:
            group.recent_client_ids.pop(key, None)
        else:
            group.recent_client_ids[key] = (final.seq, final.ts)

    # --- reading ------------------------------------------------------------------------------------

    def replay_chunk(
        self, group: Group, after_seq: int, max_bytes: int, *, action: bool = False
    ) -> tuple[list[bytes], int]:
        """Encoded ``message_posted`` frames of the stored messages after ``after_seq``: at least one if
        any is stored, about ``max_bytes`` in all; and the seq of the last one (``after_seq`` if none).

        Raises:
            StoreError: the read failed.
        """
        frames: list[bytes] = []
        size, rows = 0, _REPLAY_FIRST_READ
        while size < max_bytes or not frames:
            stored = self.store.messages_after(group.group_id, after_seq, rows)
            for m in stored:
                if not m.action:
                    frames.append(encode_fields(MessagePosted, m.group_id, m.seq, m.ts, m.sender, m.text))
                elif action:
                    frames.append(encode_fields(MessagePosted, m.group_id, m.seq, m.ts, m.sender, m.text, True))
                else:
                    text = action_as_text(m.sender, m.text)
                    frames.append(encode_fields(MessagePosted, m.group_id, m.seq, m.ts, m.sender, text))
                size += len(frames[-1])
                after_seq = m.seq
                if size >= max_bytes:
                    break
            if len(stored) < rows:
                break  # everything stored has been read
            rows = max(1, min(_REPLAY_LARGEST_READ, math.ceil((max_bytes - size) * len(frames) / size)))
        return frames, after_seq

    def search(self, group: Group, request: SearchHistory, scan_rows: int, *, action: bool = False) -> SearchResults:
        """One page of a history search (:meth:`Store.search`), trimmed from its old end to fit one frame.

        Raises:
            StoreError: the read failed.
        """
        before = group.stored_seq + 1 if request.before_seq is None else request.before_seq
        found = self.store.search(group.group_id, request.text, before, request.limit, scan_rows)
        budget = self.max_frame_size - _PAGE_OVERHEAD - 4 * len(request.text)
        hits: list[StoredMessage] = []
        for message in found.hits:  # newest first: the oldest are the ones cut
            budget -= 2 * _ENTRY_OVERHEAD + 2 * len(message.sender.encode()) + len(message.text.encode())
            if budget < 0:
                break
            hits.append(message)
        next_before = found.next_before_seq if len(hits) == len(found.hits) else hits[-1].seq if hits else before
        entries = tuple(self._entry(m, action) for m in hits)
        actions = tuple(m.seq for m in hits if m.action) if action else ()
        return SearchResults(request.request_id, group.group_id, request.text, entries, next_before, actions)

    @staticmethod
    def _entry(m: StoredMessage, action: bool) -> HistoryEntry:
        """A stored message as a history entry; a /me line as text unless the connection asked for "action"."""
        text = action_as_text(m.sender, m.text) if m.action and not action else m.text
        return HistoryEntry(m.seq, m.ts, m.sender, text)

    def page(self, group: Group, request_id: int, before_seq: int, limit: int, *, action: bool = False) -> HistoryPage:
        """Up to ``limit`` messages before ``before_seq``, trimmed from the old end to fit one frame.

        /me lines are listed in ``actions`` for a connection that asked for "action", else given as text.

        Raises:
            StoreError: the read failed.
        """
        stored = self.store.messages_before(group.group_id, before_seq, limit)
        budget = self.max_frame_size - _PAGE_OVERHEAD
        keep = 0
        for message in reversed(stored):
            # A /me line as text is longer by its sender and "* " and " "; "actions" costs a seq.
            extra = (len(message.sender.encode()) + 3 + _ENTRY_OVERHEAD) if message.action else 0
            budget -= _ENTRY_OVERHEAD + len(message.sender.encode()) + len(message.text.encode()) + extra
            if budget < 0:
                break
            keep += 1
        kept = stored[len(stored) - keep :]
        entries = tuple(self._entry(m, action) for m in kept)
        actions = tuple(m.seq for m in kept if m.action) if action else ()
        has_more = bool(entries) and entries[0].seq > 1  # seqs run from 1 without gaps
        return HistoryPage(request_id, group.group_id, entries, has_more, actions)
