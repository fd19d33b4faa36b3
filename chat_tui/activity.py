"""Activity: each open group's unread count and mention marker, the bell, and read positions.

One :class:`Activity` per app follows every open group's timeline (its entry list's change notices).
A message from someone else counts as unread unless its group is the one on screen; one that names
you (:func:`chat_tui.mentions.names_you`) also sets the group's mention marker and rings the bell
(rate-limited, off-able: :class:`chat_tui.mentions.Bell`). Showing a group reads it: its count and
marker clear, and its read position (:class:`chat_tui.read_positions.ReadPositions`, per server, group
and name) moves to its newest message, so a reconnect or a restart knows where you left off.
No Textual here: the group list and the app listen to :meth:`Activity.listen`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chat_tui.mentions import Bell, names_you
from chat_tui.read_positions import ReadPositions
from chat_tui.session import GroupTimeline, TimelineChange

MAX_UNREAD_SHOWN = 999
"""Counts above this show as "999+": a list column stays four cells wide."""


@dataclass(slots=True)
class GroupState:
    """What the group list shows for one group."""

    group_id: int
    name: str
    unread: int = 0
    mentioned: bool = False
    seen_seq: int = 0
    """The newest seq counted (as unread, or read on screen)."""
    stop: Callable[[], None] = field(default=lambda: None, repr=False)
    """Stops following the group's timeline."""


class Activity:
    """Unread counts and mentions of the open groups, in the order they were opened.

    Args:
        server: ``host:port``, the read positions' key with the group and your name.
        bell: rung for a message naming you (None: no bell).
        positions: where each group was last read (None: nothing kept across runs).
    """

    def __init__(self, server: str, *, bell: Bell | None = None, positions: ReadPositions | None = None) -> None:
        self.server = server
        self.bell = bell
        self.positions = positions
        self.groups: dict[int, GroupState] = {}
        self.current: int | None = None
        """The group on screen: its messages are read as they come."""
        self._timelines: dict[int, GroupTimeline] = {}
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after any count or marker changes; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def follow(self, timeline: GroupTimeline) -> None:
        """Count ``timeline``'s new messages from now on (from its read position, if one is kept)."""
        group_id = timeline.group_id
        if group_id in self.groups:
            return
        read = self.positions.get(self.server, group_id, timeline.you) if self.positions else 0
        state = GroupState(group_id, timeline.group_name, seen_seq=read)
        self.groups[group_id] = state
        self._timelines[group_id] = timeline
        state.stop = timeline.entries.subscribe(lambda change: self._changed(group_id, change))
        self._count(state, timeline)
        self._tell()

    def forget(self, group_id: int) -> None:
        """We left the group: it leaves the list (its read position stays on disk)."""
        state = self.groups.pop(group_id, None)
        self._timelines.pop(group_id, None)
        if state is not None:
            state.stop()
            self._tell()

    def show(self, group_id: int | None) -> None:
        """``group_id``'s chat is on screen now (None: none is): it is read."""
        self.current = group_id
        if group_id is not None:
            self.read(group_id)

    def read(self, group_id: int) -> None:
        """Clear the group's count and marker and move its read position to its newest message."""
        state, timeline = self.groups.get(group_id), self._timelines.get(group_id)
        if state is None or timeline is None:
            return
        state.seen_seq = max(state.seen_seq, timeline.newest_seq)
        changed = bool(state.unread or state.mentioned)
        state.unread, state.mentioned = 0, False
        if self.positions is not None:
            self.positions.advance(self.server, group_id, timeline.you, state.seen_seq)
        if changed:
            self._tell()

    def save(self) -> None:
        """Write the read positions (on switching away and on leaving the app, not on every message)."""
        if self.positions is not None:
            self.positions.save()

    def next_unread(self, after: int | None) -> int | None:
        """The group to jump to: the first with a mention, else the first unread, after ``after`` in order."""
        order = list(self.groups)
        start = order.index(after) + 1 if after in order else 0
        ring = order[start:] + order[:start]
        others = [self.groups[group_id] for group_id in ring if group_id != after]
        chosen = next((s for s in others if s.mentioned), None) or next((s for s in others if s.unread), None)
        return chosen.group_id if chosen is not None else None

    def _changed(self, group_id: int, change: TimelineChange) -> None:
        if not any(splice.added for splice in change.splices):
            return
        state, timeline = self.groups.get(group_id), self._timelines.get(group_id)
        if state is not None and timeline is not None and self._count(state, timeline):
            self._tell()

    def _count(self, state: GroupState, timeline: GroupTimeline) -> bool:
        """Count the messages newer than ``state.seen_seq`` (read from the end: new ones are there)."""
        newest, unread, mentioned = state.seen_seq, 0, False
        for entry in reversed(timeline.entries):
            if entry.seq is None:
                continue
            if entry.seq <= state.seen_seq:
                break
            newest = max(newest, entry.seq)
            if entry.kind in ("message", "action") and not entry.own:
                unread += 1
                mentioned = mentioned or names_you(entry.text, timeline.you)
        state.seen_seq = newest
        if mentioned and self.bell is not None:
            self.bell.ring()
        if state.group_id == self.current:
            self.read(state.group_id)
            return False
        state.unread += unread
        state.mentioned = state.mentioned or mentioned
        return bool(unread)

    def _tell(self) -> None:
        for listener in tuple(self._listeners):
            listener()


def unread_label(count: int) -> str:
    """A count as the list shows it ("" for none)."""
    if not count:
        return ""
    return f"{MAX_UNREAD_SHOWN}+" if count > MAX_UNREAD_SHOWN else str(count)
