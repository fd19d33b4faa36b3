"""The ``--plain`` client's view of a group: :class:`TimelinePrinter` prints a timeline's new lines.

It subscribes to the group's :class:`~chat_tui.session.GroupTimeline` like the full-screen pane does,
and prints each entry once, as it settles: a stored message as ``Name: text`` (ours once the server
acknowledged it), a member's arrival or departure, a gap as ``(N earlier messages not shown)``. The
rest of a timeline is for the full-screen view (read markers, our pending messages, the client's own
notices such as "Reconnected.", which the plain client prints from the session's events instead).
"""

from __future__ import annotations

from collections.abc import Callable

from chat_tui.plain_io import LineOutput, OutputClosed
from chat_tui.sanitize import sanitize_name
from chat_tui.session import Entry, GroupTimeline, TimelineChange


def message_line(sender: str, text: str) -> str:
    """``Name: text``: the first ``": "`` always ends the name, as a name shows no ``:``
    (:func:`~chat_tui.sanitize.sanitize_name`), so no name can make a line look like another's."""
    return f"{sanitize_name(sender)}: {text}"


def plain_line(entry: Entry) -> str | None:
    """How the plain client prints ``entry`` (None: not at all)."""
    if entry.kind in ("message", "action"):
        return message_line(entry.sender, entry.text) if entry.state == "sent" else None
    if entry.kind == "gap" and entry.gap is not None:
        missing = entry.gap[1] - entry.gap[0] - 1
        return f"({missing} earlier message{'s' if missing != 1 else ''} not shown)"
    if entry.kind == "notice" and entry.sender:  # about a member: joined or left
        return entry.text
    return None


class TimelinePrinter:
    """Prints what ``timeline`` already holds, then each entry added to it, once, in list order.

    Args:
        timeline: the group to follow.
        out: where lines go.
        on_closed: called when ``out`` cannot be written any more (the printer then stops): it prints
            from inside the session's receive loop, which must not fail for it.
    """

    def __init__(self, timeline: GroupTimeline, out: LineOutput, *, on_closed: Callable[[OutputClosed], None]) -> None:
        self._entries = timeline.entries
        self._out = out
        self._on_closed = on_closed
        self._printed = [False] * len(self._entries)  # per entry: seen (printed, or nothing to print)
        self._print_from(0)
        self._unsubscribe: Callable[[], None] = self._entries.subscribe(self._changed)

    def close(self) -> None:
        """Stop following the timeline."""
        self._unsubscribe()

    def _changed(self, change: TimelineChange) -> None:
        # Replay the splices' shape on the flags (as a pane does on its caches); the new places are
        # the entries added, whatever the batch did in between.
        printed = self._printed
        low = len(printed)
        for splice in change.splices:
            printed[splice.start : splice.start + splice.removed] = [False] * splice.added
            low = min(low, splice.start)
        try:
            self._print_from(low)
        except OutputClosed as exc:
            self.close()
            self._on_closed(exc)

    def _print_from(self, start: int) -> None:
        printed, entries = self._printed, self._entries
        for index in range(start, len(entries)):
            if not printed[index]:
                printed[index] = True
                if (line := plain_line(entries[index])) is not None:
                    self._out.line(line)
