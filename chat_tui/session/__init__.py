"""The client's session layer: the link to the server, reconnects, resends and one timeline per group.

Nothing here imports Textual (a test proves it): the full-screen app and the ``--plain`` client both
sit on top of it, and its rules are tested without a screen.
"""

from chat_tui.session.entries import Entry, EntryKind, EntryList, EntryState, Splice, TimelineChange
from chat_tui.session.session import Backoff, ChatSession, SessionState

__all__ = [
    "Backoff",
    "ChatSession",
    "Entry",
    "EntryKind",
    "EntryList",
    "EntryState",
    "SessionState",
    "Splice",
    "TimelineChange",
]
