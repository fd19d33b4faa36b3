"""Textual Messages that carry the chat session's news into the DOM.

The session's event pump runs as a worker on the app; it turns each of the session's own events
(connection states) into a :class:`SessionNews` for the app. A group's conversation does not pass
here: its chat screen follows the group's timeline directly.
"""

from __future__ import annotations

from textual.message import Message

from chat_tui.session import ChatSession
from chat_tui.session.events import SessionEvent
from shared import GroupCreated, GroupJoined


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
    """One event from the session's own stream (connection lost, reconnecting, back, gave up, ...)."""

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event


class GroupEntered(Message):
    """A dialog (from the home screen or ``/join``/``/create``) succeeded: we are in ``reply``'s group."""

    def __init__(self, reply: GroupJoined | GroupCreated) -> None:
        super().__init__()
        self.reply = reply
