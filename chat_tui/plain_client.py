"""The conversation of the ``--plain`` client: the menu, its prompts, and the chat loop, as fixed lines.

:class:`PlainClient` reads one inbox that carries, in arrival order, stdin lines and the session's
events, and handles it serially, so output is ordered without locks and a peer's message prints while
we wait for the user to type. Wiring it to a process (stdin thread, session, exit status) is
:mod:`chat_tui.plain`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

from chat_tui.plain_io import LineOutput
from chat_tui.sanitize import sanitize_name
from chat_tui.session import ChatSession
from chat_tui.session.events import (
    Disconnected,
    GaveUp,
    HistoryGap,
    MessageAcknowledged,
    MessageRefused,
    Reconnected,
    Reconnecting,
    RejoinRefused,
    SessionClosed,
    SessionEvent,
)
from chat_tui.session.link import LinkError, RequestRefused, describe_refusal
from shared import InvalidField, MemberJoined, MemberLeft, MessagePosted, fields, limits

MENU = (
    "Hello client, please choose an option:",
    " 1 - Connect to group chat",
    " 2 - Create a group chat",
    " 3 - Exit the server",
)
LEAVE_COMMAND = "qqq"
InboxItem = str | None | SessionEvent
"""A stdin line, None at end of input, or an event from the session."""
T = TypeVar("T")


class SessionOver(Exception):
    """The session ended; ``message`` is printed as the one ``Error:`` line and we exit with 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _InputEnded(Exception):
    """Stdin reached its end where a line was required: exit cleanly."""


class _ChatLost(Exception):
    """The server refused for good to let us back into the current chat."""


@dataclass
class _Chat:
    """The chat we are in, and our messages in it that the server has not answered yet."""

    group_id: int
    unanswered: set[str] = field(default_factory=set)  # client_msg_ids


class PlainClient:
    """The menu and chat loop over one :class:`ChatSession`.

    Args:
        session: a connected session; the caller closes it.
        inbox: stdin lines and the session's events, in arrival order.
        out: where every line is printed.
    """

    def __init__(self, session: ChatSession, inbox: asyncio.Queue[InboxItem], out: LineOutput) -> None:
        self._session = session
        self._inbox = inbox
        self._out = out
        self._chat: _Chat | None = None  # events of other (left) chats are stale
        self._typed_ahead: deque[str] = deque()  # lines read while waiting for acknowledgements
        self._input_ended = False

    async def run(self) -> int:
        """Show the menu until the user exits; return the exit status (0).

        Raises:
            SessionOver: the session gave up reconnecting (the caller prints it and exits with 1).
        """
        try:
            while await self._menu_round():
                pass
        except _InputEnded:
            pass
        return 0

    async def _menu_round(self) -> bool:
        """One menu choice and what follows it; False when the user is done."""
        for line in MENU:
            self._out.line(line)
        choice = (await self._ask()).strip()
        if choice == "3":
            return False
        if choice not in ("1", "2"):
            self._out.line("Please choose 1, 2 or 3.")
            return True
        group_id = await (self._join() if choice == "1" else self._create())
        return group_id is None or await self._chat_in(group_id)

    # --- menu actions -----------------------------------------------------------------------

    async def _join(self) -> int | None:
        name = await self._ask("Please enter your name:")
        group_text = await self._ask("Please enter the desired chat's ID:")
        password = await self._ask("Please enter the password for the desired chat:")
        # Every answer is read before any is checked, so a script's lines stay in step with the prompts.
        try:
            name = _checked_name(name, "name", limits.MAX_NAME_LENGTH)
            group_id = _checked_group_id(group_text)
            fields.password(password)
        except InvalidField as exc:
            self._out.error(exc.message)
            return None
        reply = await self._refusable(lambda: self._session.join_group(group_id, password, name))
        if reply is None:
            return None
        self._out.line(f"You have joined the chat with ID {reply.group_id}.")
        return reply.group_id

    async def _create(self) -> int | None:
        name = await self._ask("Please enter your name:")
        group_name = await self._ask("Please enter the new chat's name:")
        password = await self._ask("Please enter the password for the new chat:")
        try:
            name = _checked_name(name, "name", limits.MAX_NAME_LENGTH)
            group_name = _checked_name(group_name, "chat name", limits.MAX_GROUP_NAME_LENGTH)
            fields.password(password)
        except InvalidField as exc:
            self._out.error(exc.message)
            return None
        reply = await self._refusable(lambda: self._session.create_group(group_name, password, name))
        if reply is None:
            return None
        self._out.line(f"Created the chat with ID {reply.group_id}.")
        self._out.line(f"You have joined the chat with ID {reply.group_id}.")
        return reply.group_id

    async def _refusable(self, request: Callable[[], Awaitable[T]]) -> T | None:
        """The reply, or None after printing why there is none (a refusal, or no connection now)."""
        try:
            return await request()
        except RequestRefused as exc:
            self._out.error(describe_refusal(exc.error))
        except SessionClosed:
            await self._until_session_end()
        except LinkError as exc:  # reconnecting, or the link dropped under the request: try again later
            self._out.error(str(exc))
        return None

    # --- in a chat --------------------------------------------------------------------------

    async def _chat_in(self, group_id: int) -> bool:
        """Send each line until ``qqq`` (True: back to the menu) or end of input (False)."""
        chat = self._chat = _Chat(group_id)
        try:
            while True:
                line = await self._read()
                if line is None or line.strip() == LEAVE_COMMAND:
                    await self._leave(chat)
                    return line is not None
                if line.strip():
                    await self._send(chat, line)
        except _ChatLost:
            return True
        finally:
            self._chat = None

    async def _send(self, chat: _Chat, line: str) -> None:
        # Printed as "Name: text" once acknowledged: then the message is stored on the server.
        try:
            message = await self._session.send(chat.group_id, line)
        except InvalidField as exc:
            self._out.error(exc.message)
            return
        except SessionClosed:
            await self._until_session_end()
        chat.unanswered.add(message.client_msg_id)

    async def _leave(self, chat: _Chat) -> None:
        while chat.unanswered:  # a line sent just before qqq or the end of input still gets through
            item = await self._inbox.get()
            if isinstance(item, str):
                self._typed_ahead.append(item)
            elif item is None:
                self._input_ended = True
            else:
                self._show(item)
        await self._session.leave_group(chat.group_id)

    # --- input and events -------------------------------------------------------------------

    async def _ask(self, prompt: str | None = None) -> str:
        if prompt is not None:
            self._out.line(prompt)
        line = await self._read()
        if line is None:
            raise _InputEnded
        return line

    async def _read(self) -> str | None:
        """The next stdin line (None at its end), showing events that arrive meanwhile."""
        if self._typed_ahead:
            return self._typed_ahead.popleft()
        while not self._input_ended:
            item = await self._inbox.get()
            if item is None:
                self._input_ended = True
            elif isinstance(item, str):
                return item
            else:
                self._show(item)
        return None

    def _show(self, event: SessionEvent) -> None:
        if isinstance(event, Disconnected):
            self._out.line(f"Connection lost: {event.reason.removeprefix('connection lost: ')}.")
        elif isinstance(event, Reconnecting):
            self._out.line(f"Reconnecting in {_seconds(event.delay)} s…")
        elif isinstance(event, Reconnected):
            self._out.line("Reconnected.")
        elif isinstance(event, GaveUp):
            lost = f"; {event.unsent} unsent message(s) lost" if event.unsent else ""
            raise SessionOver(f"gave up reconnecting: {event.reason}{lost}")
        elif self._chat is not None:
            self._show_in_chat(self._chat, event)
        # Anything else is stale (a chat we left) or needs no line (pending, connected, rejoined).

    def _show_in_chat(self, chat: _Chat, event: SessionEvent) -> None:
        if isinstance(event, MessageAcknowledged | MessageRefused):
            self._show_answer(chat, event)
        elif getattr(event, "group_id", None) != chat.group_id:
            return  # another chat's: one we left
        elif isinstance(event, MessagePosted):
            self._out.line(message_line(event.sender, event.text))
        elif isinstance(event, MemberJoined):
            self._out.line(f"{sanitize_name(event.name)} has joined the chat!")
        elif isinstance(event, MemberLeft):
            self._out.line(f"{sanitize_name(event.name)} has left the chat!")
        elif isinstance(event, HistoryGap):  # a long absence: the server replayed only the newest
            missed = event.before_seq - event.after_seq - 1
            self._out.line(f"({missed} earlier message{'s' if missed != 1 else ''} not shown)")
        elif isinstance(event, RejoinRefused) and event.final:
            self._out.error(f"could not rejoin the chat with ID {event.group_id}: {event.message}")
            raise _ChatLost

    def _show_answer(self, chat: _Chat, event: MessageAcknowledged | MessageRefused) -> None:
        chat.unanswered.discard(event.message.client_msg_id)
        if event.message.group_id != chat.group_id:
            return
        if isinstance(event, MessageAcknowledged):
            self._out.line(message_line(event.message.sender, event.message.text))
        else:
            self._out.error(event.reason)

    async def _until_session_end(self) -> NoReturn:
        """Show events until the session's GaveUp, which raises; stdin lines are dropped."""
        while True:
            item = await self._inbox.get()
            if item is not None and not isinstance(item, str):
                self._show(item)


def message_line(sender: str, text: str) -> str:
    """``Name: text``: the first ``": "`` always ends the name, as a name shows no ``:``
    (:func:`~chat_tui.sanitize.sanitize_name`), so no name can make a line look like another's."""
    return f"{sanitize_name(sender)}: {text}"


def _seconds(delay: float) -> str:
    return f"{delay:.1f}".removesuffix(".0")


def _checked_name(text: str, label: str, max_length: int) -> str:
    text = text.strip()  # a stray space typed around a name is not part of it
    if not text:  # fields.display_name reports the pre-normalisation bound, which would confuse here
        raise InvalidField(f"{label} must not be empty")
    return fields.display_name(text, label, max_length)


def _checked_group_id(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidField("the chat ID must be a number")
    return fields.uint(int(text), "the chat ID", limits.MAX_GROUP_ID)
