"""The conversation of the ``--plain`` client: the menu, its prompts, and the chat loop, as fixed lines.

:class:`PlainClient` reads one inbox that carries, in arrival order, stdin lines and the session's
events, and handles it serially, so output is ordered without locks and a peer's message prints while
we wait for the user to type. Wiring it to a process (stdin thread, session, exit status) is
:mod:`chat_tui.plain`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from chat_tui.plain_io import LineOutput, OutputClosed
from chat_tui.plain_printer import TimelinePrinter
from chat_tui.session import (
    ChatSession,
    LinkError,
    News,
    Refused,
    RequestRefused,
    SessionClosed,
    describe_refusal,
)
from chat_tui.session.events import Disconnected, GaveUp, Reconnected, Reconnecting, RejoinRefused, SessionEvent
from shared import InvalidField, fields, limits

MENU = (
    "Hello client, please choose an option:",
    " 1 - Connect to group chat",
    " 2 - Create a group chat",
    " 3 - Exit the server",
)
LEAVE_COMMAND = "qqq"
InboxItem = str | None
"""A stdin line, or None at end of input."""
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


class PlainClient:
    """The menu and chat loop over one :class:`ChatSession`.

    Args:
        session: a connected session; the caller closes it.
        inbox: stdin lines, in order (None at the end).
        out: where every line is printed.
    """

    def __init__(self, session: ChatSession, inbox: asyncio.Queue[InboxItem], out: LineOutput) -> None:
        self._session = session
        self._inbox = inbox
        self._out = out
        self._chat: int | None = None  # the group we chat in
        self._input_ended = False
        self._stop: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
        """Set when reading must stop: the session gave up (SessionOver), the chat was lost, or stdout
        closed while a line was printed from inside the session (OutputClosed)."""

    async def run(self) -> int:
        """Show the menu until the user exits; return the exit status (0).

        Raises:
            SessionOver: the session gave up reconnecting (the caller prints it and exits with 1).
        """
        unwatch = self._session.watch(self._session_event)
        try:
            while await self._menu_round():
                pass
        except _InputEnded:
            pass
        finally:
            unwatch()
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
        self._chat = group_id
        timeline = self._session.timeline(group_id)
        printer = TimelinePrinter(timeline, self._out, on_closed=self._halt)  # what it already holds prints first
        unlisten = timeline.listen(self._news)
        try:
            while True:
                line = await self._read()
                if line is None or line.strip() == LEAVE_COMMAND:
                    # A line sent just before qqq or the end of input still gets through: leaving waits
                    # for its answer, which the printer shows.
                    await self._session.leave_group(group_id)
                    self._raise_if_stopped()
                    return line is not None
                if line.strip():
                    await self._send(group_id, line)
        except _ChatLost:
            self._stop = asyncio.get_running_loop().create_future()
            return True
        finally:
            self._chat = None
            unlisten()
            printer.close()

    async def _send(self, group_id: int, line: str) -> None:
        # Printed as "Name: text" once acknowledged (by the printer): then it is stored on the server.
        try:
            await self._session.send(group_id, line)
        except InvalidField as exc:
            self._out.error(exc.message)
        except SessionClosed:
            await self._until_session_end()

    def _news(self, news: News) -> None:
        if isinstance(news, Refused):
            try:
                self._out.error(news.reason)
            except OutputClosed as exc:  # called inside the session's step: stop the client, not the session
                self._halt(exc)

    def _session_event(self, event: SessionEvent) -> None:
        """Print the session's own events as they happen, in order with the printer's lines."""
        try:
            self._show_session_event(event)
        except OutputClosed as exc:  # called inside the session's step: stop the client, not the session
            self._halt(exc)

    def _show_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, Disconnected):
            self._out.line(f"Connection lost: {event.reason.removeprefix('connection lost: ')}.")
        elif isinstance(event, Reconnecting):
            self._out.line(f"Reconnecting in {_seconds(event.delay)} s…")
        elif isinstance(event, Reconnected):
            self._out.line("Reconnected.")
        elif isinstance(event, GaveUp):
            lost = f"; {event.unsent} unsent message(s) lost" if event.unsent else ""
            self._halt(SessionOver(f"gave up reconnecting: {event.reason}{lost}"))
        elif isinstance(event, RejoinRefused) and event.final and event.group_id == self._chat:
            self._out.error(f"could not rejoin the chat with ID {event.group_id}: {event.message}")
            self._halt(_ChatLost())

    def _halt(self, reason: Exception) -> None:
        if not self._stop.done():
            self._stop.set_result(reason)

    def _raise_if_stopped(self) -> None:
        if self._stop.done():
            raise self._stop.result()

    # --- input ------------------------------------------------------------------------------

    async def _ask(self, prompt: str | None = None) -> str:
        if prompt is not None:
            self._out.line(prompt)
        line = await self._read()
        if line is None:
            raise _InputEnded
        return line

    async def _read(self) -> str | None:
        """The next stdin line (None at its end); raises what stopped the client meanwhile."""
        self._raise_if_stopped()
        if self._input_ended:
            return None
        getting = asyncio.ensure_future(self._inbox.get())
        try:
            await asyncio.wait((getting, self._stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getting.done():
                getting.cancel()
        if getting.done() and not getting.cancelled():
            line = getting.result()
            if line is None:
                self._input_ended = True
            return line
        self._raise_if_stopped()
        return None  # not reached: _stop is done

    async def _until_session_end(self) -> NoReturn:
        """Wait for the session's GaveUp, which raises SessionOver."""
        await asyncio.wait((self._stop,))
        self._raise_if_stopped()
        raise SessionOver("the session is closed")


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
