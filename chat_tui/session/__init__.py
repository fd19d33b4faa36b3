"""The client's session layer: the link to the server, reconnects, resends and one timeline per group.

Nothing here imports Textual (a test proves it): the full-screen app and the ``--plain`` client both
sit on top of it, and its rules are tested without a screen. A user interface needs only the names
below: screens never import :mod:`chat_tui.session.link` (a test proves that too).
"""

from chat_tui.session.entries import Entry, EntryKind, EntryList, EntryState, Splice, TimelineChange
from chat_tui.session.events import NotConnected, SearchResults, SessionClosed
from chat_tui.session.link import LinkError, RequestRefused, describe_refusal, retry_after
from chat_tui.session.session import Backoff, ChatSession, SessionState
from chat_tui.session.timeline import (
    SCROLLBACK,
    GroupLost,
    GroupTimeline,
    HistoryUnavailable,
    MembersChanged,
    News,
    Refused,
    clock_time,
)

__all__ = [
    "SCROLLBACK",
    "Backoff",
    "ChatSession",
    "Entry",
    "EntryKind",
    "EntryList",
    "EntryState",
    "GroupLost",
    "GroupTimeline",
    "HistoryUnavailable",
    "LinkError",
    "MembersChanged",
    "News",
    "NotConnected",
    "Refused",
    "RequestRefused",
    "SearchResults",
    "SessionClosed",
    "SessionState",
    "Splice",
    "TimelineChange",
    "clock_time",
    "describe_refusal",
    "retry_after",
]
