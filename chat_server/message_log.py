"""The durable message path: commit, then acknowledge, then fan out; plus history for joins and paging.

Messages posted during one loop turn wait in ``_pending`` and are stored by :meth:`MessageLog.commit`
in one transaction (group commit). Only after that commit returns do their senders get
``message_accepted`` and the other members ``message_posted``: an acknowledged message is on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chat_server.groups import ClientId, Group, GroupDirectory
from chat_server.outgoing import Action, Frame, Outgoing
from chat_server.store import Store, StoredMessage, StoreError
from shared import Error, HistoryEntry, HistoryPage, MessageAccepted, MessagePosted, SendMessage
from shared.codec import encode_fields

log = logging.getLogger("chat_server")
# Encoded bytes one history entry costs beyond its text and sender (array header, seq, ts, str headers).
_ENTRY_OVERHEAD = 32
# Bytes of a history_page frame that are not entries (type, id, group_id, has_more, headers).
_PAGE_OVERHEAD = 128


@dataclass(frozen=True, slots=True)
class _Pending:
    """A message waiting for the next commit; ``message`` is None for a resend of a stored one."""

    client_id: ClientId
    request_id: int
    group_id: int
    seq: int
    ts: int
    message: StoredMessage | None


class MessageLog:
    """Sequence numbers, group commit, idempotent resends and history reads over a :class:`Store`."""

    def __init__(self, store: Store, groups: GroupDirectory, max_frame_size: int) -> None:
        self.store = store
        self.groups = groups
        self.max_frame_size = max_frame_size
        self._pending: list[_Pending] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def post(self, group: Group, client_id: ClientId, request: SendMessage, ts: int) -> None:
        """Queue a message (or the answer to its resend) for the next commit."""
        sender, request_id, client_msg_id = group.members[client_id], request.request_id, request.client_msg_id
        if client_msg_id is not None and (earlier := self._find_earlier(group, client_id, sender, client_msg_id)):
            seq, first_ts = earlier
            self._pending.append(_Pending(client_id, request_id, group.group_id, seq, first_ts, None))
            return
        seq = group.next_seq()
        message = StoredMessage(group.group_id, seq, ts, sender, request.text, client_msg_id)
        if client_msg_id is not None:
            group.remember_client_id(sender, client_msg_id, seq, ts)
        self._pending.append(_Pending(client_id, request_id, group.group_id, seq, ts, message))

    def _find_earlier(
        self, group: Group, client_id: ClientId, sender: str, client_msg_id: str
    ) -> tuple[int, int] | None:
        if found := group.recent_client_ids.get((sender, client_msg_id)):
            return found
        if client_id not in group.resuming:  # a fresh member cannot be resending: skip the store read
            return None
        stored = self.store.find_by_client_id(group.group_id, sender, client_msg_id)
        return (stored.seq, stored.ts) if stored else None

    def commit(self) -> list[Action]:
        """Store everything pending in one transaction, then return the acks and the fan-out."""
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        try:
            self.store.append([p.message for p in pending if p.message is not None])
        except StoreError as exc:
            log.error("commit of %d message(s) failed: %s", len(pending), exc)
            return self._refuse(pending)
        # Every value below was checked when its request was decoded: encode without re-checking.
        actions: list[Action] = []
        for p in pending:
            actions.append(Frame((p.client_id,), encode_fields(MessageAccepted, p.request_id, p.group_id, p.seq, p.ts)))
            group = self.groups.get(p.group_id)
            if p.message is not None and group is not None:
                posted = encode_fields(MessagePosted, p.group_id, p.seq, p.ts, p.message.sender, p.message.text)
                actions.append(Frame(group.others(p.client_id), posted))
        return actions

    def _refuse(self, pending: list[_Pending]) -> list[Action]:
        """Nothing of the batch was stored: give its seqs back and tell each sender."""
        for p in pending:
            group = self.groups.get(p.group_id)
            if group is not None and p.message is not None:
                group.last_seq = min(group.last_seq, p.seq - 1)
                group.recent_client_ids.pop((p.message.sender, p.message.client_msg_id or ""), None)
        error = "the server could not store your message; send it again"
        return [Outgoing((p.client_id,), Error(p.request_id, "internal", error)) for p in pending]

    def replay(self, group: Group, since_seq: int | None, limit: int) -> list[MessagePosted]:
        """What a joiner sees before live messages: the last ``limit``, or those after ``since_seq``.

        If more than ``limit`` came after ``since_seq``, the newest ``limit`` are sent; the client pages
        back for the rest with fetch_history, so it always holds a gap-free suffix of the log.
        """
        if since_seq is not None:
            limit = min(limit, max(0, group.last_seq - since_seq))
        if limit == 0:
            return []
        stored = self.store.messages_before(group.group_id, group.last_seq + 1, limit)
        return [MessagePosted(m.group_id, m.seq, m.ts, m.sender, m.text) for m in stored]

    def page(self, group: Group, request_id: int, before_seq: int, limit: int) -> HistoryPage:
        """Up to ``limit`` messages before ``before_seq``, trimmed from the old end to fit one frame."""
        stored = self.store.messages_before(group.group_id, before_seq, limit)
        budget = self.max_frame_size - _PAGE_OVERHEAD
        keep = 0
        for message in reversed(stored):
            budget -= _ENTRY_OVERHEAD + len(message.sender.encode()) + len(message.text.encode())
            if budget < 0:
                break
            keep += 1
        entries = tuple(HistoryEntry(m.seq, m.ts, m.sender, m.text) for m in stored[len(stored) - keep :])
        has_more = bool(entries) and entries[0].seq > 1  # seqs run from 1 without gaps
        return HistoryPage(request_id, group.group_id, entries, has_more)
