"""Textual Messages that carry the chat session's news into the DOM.

The session's event pump runs as a worker on the app; it turns each session event into one of these
messages and posts it to the app, which routes it to the screen that shows the event's group.
"""

from __future__ import annotations

from textual.message import Message

from chat_tui.session import ChatSession
from chat_tui.session.events import SessionEvent


class Connected(Message):
    """The session's first connection is up and handshaken."""

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session


class ConnectFailed(Message):
    """Connecting the first time failed; ``reason`` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SessionNews(Message):
    """One event from the session's ordered stream (messages, acknowledgements, reconnect states, ...)."""

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event
