"""Sequencer: a group's messages reach its members once each and in seq order, whichever way they came.

With several processes a group's messages come from three places: this process's own commits (with
the senders' acknowledgements), the bus (other processes' messages, in order but at most once), and
the stored log (when the bus lost something). Each is offered here by seq; a run that continues what
the group's members last got is released, the rest waits, and a gap that waits ``gap_wait`` seconds
is reported for reading back from the log (:meth:`Sequencer.due`). ``group.stored_seq`` is where
the release has got to: a joiner's catch-up reads the log up to there, live fan-out goes on after it.
"""

from __future__ import annotations

from typing import NamedTuple

from chat_server.groups import ClientId, Group

NOBODY: ClientId = 0
"""The sender of a message that is no local connection's: from another process or from the log."""


class Held(NamedTuple):
    """One message on its way to the group's live members.

    Args:
        client_id: the local sender (its ``reply`` goes in place of its own message), or NOBODY.
        reply: the sender's ``message_accepted`` (b"" for none).
        posted: the ``message_posted`` frame (as an action for a /me line); None: a reply alone.
        as_text: a /me line's frame for connections that did not ask for "action"; None otherwise.
    """

    client_id: ClientId
    reply: bytes
    posted: bytes | None
    as_text: bytes | None = None


class Sequencer:
    """Per group, the messages waiting for an earlier seq, and since when a gap has waited."""

    def __init__(self, gap_wait: float) -> None:
        self.gap_wait = gap_wait
        self._held: dict[int, dict[int, Held]] = {}
        self._gap_since: dict[int, float] = {}
        self._reading: set[int] = set()  # groups with a read of the log in flight

    def held(self, group_id: int) -> int:
        return len(self._held.get(group_id, ()))

    def offer(self, group: Group, seq: int, message: Held, now: float) -> list[Held]:
        """Take one message; the run it completes, in seq order (empty while a gap is before it)."""
        if seq <= group.stored_seq:
            # Already delivered (the log was read before the bus or the commit's answer came): only a
            # sender's acknowledgement is still owed.
            return [Held(message.client_id, message.reply, None)] if message.reply else []
        waiting = self._held.setdefault(group.group_id, {})
        earlier = waiting.get(seq)
        if earlier is None or (message.reply and not earlier.reply):
            waiting[seq] = message  # a copy with the sender's reply beats one without
        return self._release(group, now)

    def skip_to(self, group: Group, seq: int, now: float) -> list[Held]:
        """Everything up to ``seq`` is known to be delivered some other way (a group nobody here was in):
        move on to there, and release what then follows."""
        if seq > group.stored_seq:
            group.stored_seq = seq
            if waiting := self._held.get(group.group_id):
                for old in [s for s in waiting if s <= seq]:
                    del waiting[old]
        return self._release(group, now)

    def _release(self, group: Group, now: float) -> list[Held]:
        group_id = group.group_id
        waiting = self._held.get(group_id)
        if not waiting:
            self._held.pop(group_id, None)
            self._gap_since.pop(group_id, None)
            return []
        released = []
        seq = group.stored_seq + 1
        while (message := waiting.pop(seq, None)) is not None:
            released.append(message)
            seq += 1
        group.stored_seq = seq - 1
        if waiting:
            if released or group_id not in self._gap_since:
                self._gap_since[group_id] = now  # a new gap: it gets its own wait
        else:
            del self._held[group_id]
            self._gap_since.pop(group_id, None)
        return released

    def due(self, now: float) -> list[int]:
        """The groups whose gap has waited long enough: read their log after ``stored_seq`` now.
        Each is reported once until :meth:`read_done`."""
        due = [
            gid for gid, since in self._gap_since.items() if now - since >= self.gap_wait and gid not in self._reading
        ]
        self._reading.update(due)
        return due

    def read_done(self, group_id: int, now: float) -> None:
        """A read of the log for the group came back (whatever it held): a gap left waits afresh."""
        self._reading.discard(group_id)
        if group_id in self._gap_since:
            self._gap_since[group_id] = now

    def next_deadline(self) -> float | None:
        waits = [since for gid, since in self._gap_since.items() if gid not in self._reading]
        return min(waits) + self.gap_wait if waits else None

    def forget(self, group_id: int) -> int:
        """Nothing of the group waits any more (no member here, or what waits cannot come); how many did."""
        self._gap_since.pop(group_id, None)
        return len(self._held.pop(group_id, ()))
