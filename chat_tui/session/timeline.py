"""GroupTimeline: everything the client knows about one group's conversation, in one place.

The session keeps one per joined group and feeds it from the receive loop. It is the ONE place that
dedupes and orders: messages by ``seq`` (a replay, a live message, a history page and an
acknowledgement of ours may all bring the same one), our own pending messages below everything
settled until the server answers, gaps (stored messages not in memory, shown as ``gap`` entries), the
read marker between the replayed history and what is new, the member list (:class:`Roster`) and the
window kept in memory (at most ``scrollback`` messages; the end away from the reader is trimmed and
paged back in on demand through :meth:`load_older` and :meth:`fill_gap`).

What it decides lives in :attr:`GroupTimeline.entries`, an :class:`EntryList` that views (the message
pane, the ``--plain`` printer) subscribe to. Facts that are not lines (the member list changed, a
message of ours was refused, the group is lost) go to :meth:`GroupTimeline.listen` subscribers.
No Textual and no I/O: history pages come through an injected ``fetch``, time through ``clock``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from chat_tui.sanitize import sanitize_line, sanitize_name
from chat_tui.session.entries import Entry, EntryKind, EntryList
from chat_tui.session.paging import HEADER_LOADING, HEADER_START, Fetch, HistoryUnavailable, Pager
from chat_tui.session.roster import REJOIN_GRACE, Roster
from chat_tui.session.window import HEADER_MORE
from shared import limits

__all__ = [
    "HEADER_LOADING",
    "HEADER_MORE",
    "HEADER_START",
    "NEW_SINCE_JOIN",
    "NEW_SINCE_READ",
    "SCROLLBACK",
    "Fetch",
    "GroupLost",
    "GroupTimeline",
    "HistoryUnavailable",
    "MembersChanged",
    "News",
    "Refused",
    "clock_time",
]

SCROLLBACK = 5000
"""Messages a group keeps in memory by default (irssi's ``scrollback_lines`` is 5000 too)."""
NEW_SINCE_JOIN = "new since you joined"
"""The join marker: a rule between the history replayed on joining and what arrived after."""
NEW_SINCE_READ = "new since you last read"
"""The read marker: a rule above the first message newer than the user's read position."""


@dataclass(frozen=True, slots=True)
class MembersChanged:
    """The member list (:attr:`GroupTimeline.members`) changed."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The server refused a message of ours for good; ``text`` is what the user typed."""

    text: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class GroupLost:
    """The server refused to let us back into the group after a reconnect; the session forgot it."""

    reason: str


News = MembersChanged | Refused | GroupLost


def clock_time(tz: tzinfo | None = None) -> Callable[[float], str]:
    """Seconds since the epoch as ``HH:MM`` in ``tz`` (None: the local zone)."""

    last_minute, last_shown = -1.0, ""  # a busy group's messages share their minute: format it once

    def format_time(seconds: float) -> str:
        nonlocal last_minute, last_shown
        minute = seconds // 60  # zone offsets are whole minutes: one minute shows one way
        if minute != last_minute:
            try:
                last_shown = datetime.fromtimestamp(seconds, tz).strftime("%H:%M")
            except (OverflowError, OSError, ValueError):  # a server's ts may lie anywhere in 0..2**53 ms
                last_shown = "--:--"
            last_minute = minute
        return last_shown

    return format_time


class GroupTimeline(Pager):
    """One group's conversation. Created by the session on joining (or creating) the group.

    Args:
        group_id, group_name, you: the group, and our name in it.
        joined_at: the group's ``last_seq`` when we joined (the replay ends there; the read marker goes
            after it); None for a group we created.
        members, members_complete: the join's member list (its first page, if more follow).
        fetch: how history pages are fetched (None: no paging, e.g. a test without a server).
        scrollback: messages kept in memory.
        clock, time_format: now in seconds, and how a time is shown.
        rejoin_grace: seconds members we knew have to rejoin silently after a reconnect.
    """

    def __init__(
        self,
        group_id: int,
        group_name: str,
        you: str,
        *,
        joined_at: int | None = None,
        members: Iterable[str] = (),
        members_complete: bool = True,
        fetch: Fetch | None = None,
        scrollback: int = SCROLLBACK,
        clock: Callable[[], float] = time.time,
        time_format: Callable[[float], str] | None = None,
        rejoin_grace: float = REJOIN_GRACE,
    ) -> None:
        self._format = time_format or clock_time()
        super().__init__(EntryList(), scrollback, fetch=fetch, you=you, joined_at=joined_at, time_format=self._format)
        self._rejoin_grace = rejoin_grace
        self.group_id, self.group_name = group_id, group_name
        self.roster = Roster(members or (you,), complete=members_complete)
        self._clock = clock
        self._pending: dict[str, Entry] = {}  # client_msg_id -> its entry in the tail
        self._marked = not joined_at  # nothing is replayed: no marker to place
        self._replay_after: int | None = None
        self._read_key: int | None = None  # the read marker's entry, if one is shown
        self._read_after: int | None = None  # the read position, until a message newer than it arrives
        self._listeners: list[Callable[[News], None]] = []
        self.entries.set_header(HEADER_MORE if self.older else HEADER_START)
        if joined_at is None:
            name = sanitize_line(group_name)
            share = "share it and the password so others can join."
            self.notice(f"You created “{name}”. Its group ID is {group_id}: {share}")
        elif not joined_at:
            self.notice(self._greeting())

    # --- reading ------------------------------------------------------------------------------------

    @property
    def members(self) -> list[str]:
        """The members, ours included (those expected back after a reconnect too)."""
        return self.roster.members

    @property
    def resume_seq(self) -> int:
        """The ``since_seq`` of a rejoin: nothing at or below it is replayed again."""
        return max(self.newest_seq, self.joined_at or 0)

    def listen(self, listener: Callable[[News], None]) -> Callable[[], None]:
        """Call ``listener`` with each :data:`News`; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- messages -----------------------------------------------------------------------------------

    def posted(self, seq: int, ts_ms: int, sender: str, text: str, *, action: bool = False) -> None:
        """A stored message (a /me line if ``action``) from the server, replayed or live; dropped if known."""
        kind: EntryKind = "action" if action else "message"
        entry = Entry(kind, text, sender, self._format(ts_ms / 1000), sender == self.you, seq=seq, ts_ms=ts_ms)
        self._settle(entry, live=True)
        if self.roster.stopped_typing(sender):
            self._tell(MembersChanged())

    def pending(self, client_msg_id: str, sender: str, text: str, *, action: bool = False) -> None:
        """Our message waits for the server: shown below everything settled."""
        entry = Entry("action" if action else "message", text, sender, own=True, state="pending")
        self._pending[client_msg_id] = entry
        self.entries.append((entry,))
        self._tail += 1

    def delayed(self, client_msg_id: str, retry_in: float, code: str) -> None:
        """The server holds our message back (too fast, or failed to store it); it is resent by itself."""
        entry = self._pending.get(client_msg_id)
        if entry is None or entry.state == "delayed":
            return
        self._pending[client_msg_id] = again = entry.changed(state="delayed")
        with self.entries.batch():
            self._swap(entry, again)
            wait = f"retrying in {max(1, math.ceil(retry_in))} s"
            if code == "internal":
                self.notice(f"The server could not store your message; {wait} (nothing to retype).")
            elif code == "unavailable":
                self.notice(f"The server cannot reach its message store; {wait} (nothing to retype).")
            else:
                self.notice(f"Sending too fast: the server holds your messages back; {wait}.")

    def acknowledged(
        self, client_msg_id: str, sender: str, text: str, seq: int, ts_ms: int, *, action: bool = False
    ) -> None:
        """The server stored our message as ``seq``: it leaves the pending tail for its place in order."""
        with self.entries.batch():
            self._drop_pending(client_msg_id)
            kind: EntryKind = "action" if action else "message"
            entry = Entry(kind, text, sender, self._format(ts_ms / 1000), True, seq=seq, ts_ms=ts_ms)
            self._settle(entry, live=False)

    def refused(self, client_msg_id: str, text: str, code: str, reason: str) -> None:
        """The server refused our message for good: it stays, marked as not delivered."""
        with self.entries.batch():
            entry = self._drop_pending(client_msg_id)
            if entry is not None:
                self.insert(self.settled_end, [entry.changed(state="failed")])
        self._tell(Refused(text, code, reason))

    def expect_replay(self, since_seq: int, last_seq: int) -> None:
        """A rejoin with ``since_seq`` was answered with ``last_seq``: a replay follows if anything is newer.

        After a long absence the server replays only the newest messages (PROTOCOL.md §6): the first
        replayed seq then lies above ``since_seq + 1``, and a gap entry stands for the hole.
        """
        self._replay_after = since_seq if last_seq > since_seq else None

    def mark_read(self, read_seq: int) -> bool:
        """Put the read marker (:data:`NEW_SINCE_READ`) above the first message newer than ``read_seq``.

        Called when the group is opened (``read_seq``: the saved read position) and when the user comes
        back to it. With no such message in memory the marker stays where it was, but if the replay of
        our join is still to bring newer ones (``read_seq`` below :attr:`joined_at`), the first of them
        gets it as it arrives. ``read_seq`` 0 (never read) places nothing: the join marker says it.
        Returns whether the marker was placed now. Scans only the messages newer than ``read_seq``.
        """
        self._read_after = None
        if read_seq <= 0:
            return False
        entries, index = self.entries, None
        for position in range(self.settled_end - 1, -1, -1):
            seq = entries[position].seq
            if seq is not None:
                if seq <= read_seq:
                    break
                index = position
        if index is None:
            if read_seq < (self.joined_at or 0):
                self._read_after = read_seq
            return False
        with entries.batch():
            if self._read_key is not None and (old := entries.index_of(self._read_key)) is not None:
                entries.splice(old, 1, ())
                index -= old < index
            marker = Entry("marker", NEW_SINCE_READ)
            self._read_key = marker.key
            self.insert(index, [marker])
        return True

    def _settle(self, entry: Entry, *, live: bool) -> None:
        seq = entry.seq
        assert seq is not None
        self.newest_seq = max(self.newest_seq, seq)
        index = self.place(seq)
        if index is None:
            return  # shown already, in a gap (filled by paging), or above the top of memory
        added = [entry]
        after, self._replay_after = self._replay_after, None
        if after is not None and seq > after + 1:
            added.insert(0, self.gap_entry(after, seq))
        if self._read_after is not None and seq > self._read_after:  # the read position's first new message
            self._read_after = None
            marker = Entry("marker", NEW_SINCE_READ)
            self._read_key = marker.key
            added.insert(0, marker)
        if not self._marked and self.joined_at is not None and seq >= self.joined_at:
            self._marked = True
            mark = [Entry("marker", NEW_SINCE_JOIN), self._notice_entry(self._greeting())]
            added = added + mark if seq == self.joined_at else mark + added
        self.insert(index, added, live=int(live and not entry.own))
        if seq == 1:
            self.older = False
            self.entries.set_header(HEADER_START)
        self.trim(prefer_top=True)

    def _drop_pending(self, client_msg_id: str) -> Entry | None:
        entry = self._pending.pop(client_msg_id, None)
        if entry is not None and (index := self.entries.index_of(entry.key)) is not None:
            self.entries.splice(index, 1, ())
            self._tail -= 1
        return entry

    def _swap(self, old: Entry, new: Entry) -> None:
        index = self.entries.index_of(old.key)
        if index is not None:
            self.entries.replace(index, new)

    # --- notices and members ------------------------------------------------------------------------

    def notice(self, text: str, *, error: bool = False, about: str = "") -> None:
        """A line from the client ("Reconnected."), shown now with the current time.

        ``about``: the member the notice is about (a join or a leave), as the entry's ``sender``.
        """
        self.insert(self.settled_end, [self._notice_entry(text, error=error, about=about)])

    def member_joined(self, name: str) -> None:
        if self.roster.joined(name):
            self.notice(f"{sanitize_name(name)} has joined the chat!", about=name)
        self._tell(MembersChanged())

    def member_left(self, name: str) -> None:
        if self.roster.left(name):
            self.notice(f"{sanitize_name(name)} has left the chat!", about=name)
        self._tell(MembersChanged())

    def members_listed(self, members: Sequence[str]) -> None:
        """The complete member list arrived (the join's ``member_list`` pages)."""
        self.roster.listed(members)
        self._tell(MembersChanged())

    def rejoined(self, members: Sequence[str], *, complete: bool) -> None:
        """We are back in the group after a reconnect: one line says so, and the members we knew have
        ``rejoin_grace`` seconds to come back without a "joined" line (:meth:`tick` then)."""
        self.roster.rejoined(members, complete=complete, now=self._clock(), grace=self._rejoin_grace)
        with self.entries.batch():
            self.notice("Reconnected.")
            self.renew_gaps()  # fills that failed while we were away are asked for again
        self._tell(MembersChanged())

    # --- typing, presence and renames (PROTOCOL.md §9) -------------------------------------------------

    def member_typing(self, name: str) -> None:
        """``name`` is typing: shown for :data:`shared.limits.TYPING_SHOWN_FOR` seconds from now."""
        if name == self.you:
            return
        self.roster.typing(name, self._clock() + limits.TYPING_SHOWN_FOR)
        self._tell(MembersChanged())

    def typing_names(self, now: float) -> list[str]:
        """Who is typing at ``now`` (in the order of their latest typing frame); each expires 5 s after it."""
        return self.roster.typing_names(now)

    def member_presence(self, name: str, away: bool, reason: str) -> None:
        """``name`` is away (with ``reason``) or back."""
        self.roster.set_presence(name, away, reason)
        self._tell(MembersChanged())

    def presence(self, name: str) -> tuple[bool, str]:
        """(away, reason) of a member; anyone never marked away is present."""
        return self.roster.presence(name)

    def member_renamed(self, old: str, new: str) -> None:
        """A member (or we, on our rename's reply) took a new name: the roster keeps its place, a notice says so."""
        if old == self.you:
            self.you = new
        self.roster.renamed(old, new)
        self.notice(f"{sanitize_name(old)} is now known as {sanitize_name(new)}", about=new)
        self._tell(MembersChanged())

    def tick(self) -> None:
        """Members we expected back after a reconnect and who did not come in time have left."""
        gone = self.roster.overdue(self._clock())
        for name in gone:
            self.notice(f"{sanitize_name(name)} has left the chat!", about=name)
        if gone:
            self._tell(MembersChanged())

    def rejoin_refused(self, code: str, message: str, *, final: bool) -> None:
        if final:
            self.notice(f"You are no longer in this group: {sanitize_line(message)}", error=True)
            self._tell(GroupLost(message))
        else:
            why = f"({sanitize_line(code)}): {sanitize_line(message)}"
            self.notice(f"Rejoining refused {why}; trying again", error=True)

    def _notice_entry(self, text: str, *, error: bool = False, about: str = "") -> Entry:
        return Entry("error" if error else "notice", text, about, self._format(self._clock()))

    def _greeting(self) -> str:
        return f"You joined “{sanitize_line(self.group_name)}” (group ID {self.group_id})."

    def _tell(self, news: News) -> None:
        for listener in tuple(self._listeners):
            listener(news)
