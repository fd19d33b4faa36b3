"""Textual Messages that carry the network link's news into the DOM.

The link's notification pump runs as a worker on the app; it turns each protocol event into one of
these messages and posts it to the app, which routes it to the screen that shows the event's group.
"""

from __future__ import annotations

from textual.message import Message

from chat_tui.net import ServerLink
from shared import Event


class Connected(Message):
    """The link is open and handshaken."""

    def __init__(self, link: ServerLink) -> None:
        super().__init__()
        self.link = link


class ConnectFailed(Message):
    """Opening the link failed; ``reason`` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ServerEvent(Message):
    """A server notification (MessagePosted, MemberJoined, MemberLeft, ServerClosing, ...)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class Disconnected(Message):
    """The link ended; ``reason`` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
