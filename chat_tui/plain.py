"""The line-mode client (``chat-tui --plain``): a menu and a chat as plain lines on stdin and stdout.

It serves scripts, pipes and screen readers, so it never imports Textual and its transcript is fixed.
Every printed line goes through :func:`chat_tui.plain_io.printable`: peer text is sanitized (no
ESC, C0 but tab, DEL, C1 or bidi controls reach the terminal) and a line break inside a message
becomes a visible ``↵``, so one printed line is one event and a peer cannot forge a ``Name: text``
line.

One inbox queue carries, in arrival order, stdin lines (read on a thread) and the link's
notifications; the client handles it serially, so output is ordered without locks and a peer's
message prints while we wait for the user to type.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TextIO

from chat_tui.net import ConnectionLost, LinkError, Notification, RequestRefused, ServerLink
from chat_tui.plain_io import LineOutput, OutputClosed, StdinReader
from shared import (
    CreateGroup,
    Event,
    GroupCreated,
    GroupJoined,
    InvalidField,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Request,
    SendMessage,
    ServerClosing,
    fields,
    limits,
)

MENU = (
    "Hello client, please choose an option:",
    " 1 - Connect to group chat",
    " 2 - Create a group chat",
    " 3 - Exit the server",
)
LEAVE_COMMAND = "qqq"
INBOX_SIZE = 1024
"""Stdin lines and notifications held ahead of the client; when full the stdin thread waits, so
``cat huge.txt | chat-tui --plain`` reads at the pace the server acknowledges, not into memory."""

InboxItem = str | None | Notification
"""A stdin line, None at end of input, or a notification from the link."""


class _SessionOver(Exception):
    """The link ended; ``message`` is printed as the one ``Error:`` line and we exit with 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _InputEnded(Exception):
    """Stdin reached its end where a line was required: exit cleanly."""


@dataclass(frozen=True, slots=True)
class _Membership:
    group_id: int
    name: str


class PlainClient:
    """The menu and chat loop over one :class:`ServerLink`.

    Args:
        link: an open link; the caller closes it.
        inbox: stdin lines and the link's notifications, in arrival order.
        out: where every line is printed.
    """

    def __init__(self, link: ServerLink, inbox: asyncio.Queue[InboxItem], out: LineOutput) -> None:
        self._link = link
        self._inbox = inbox
        self._out = out
        self._group_id: int | None = None  # notifications for other (left) groups are stale
        self._input_ended = False

    async def run(self) -> int:
        """Show the menu until the user exits; return the exit status (0).

        Raises:
            _SessionOver: the server went away (the caller prints it and exits with 1).
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
        membership = await (self._join() if choice == "1" else self._create())
        return membership is None or await self._chat(membership)

    # --- menu actions -----------------------------------------------------------------------

    async def _join(self) -> _Membership | None:
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
        reply = await self._refusable(lambda rid: JoinGroup(rid, group_id, password, name))
        if reply is None:
            return None
        if not isinstance(reply, GroupJoined):
            raise _SessionOver(f"the server answered a join with {reply.TYPE!r}")
        self._out.line(f"You have joined the chat with ID {reply.group_id}.")
        return self._enter(reply.group_id, reply.name)

    async def _create(self) -> _Membership | None:
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
        reply = await self._refusable(lambda rid: CreateGroup(rid, group_name, password, name))
        if reply is None:
            return None
        if not isinstance(reply, GroupCreated):
            raise _SessionOver(f"the server answered a create with {reply.TYPE!r}")
        self._out.line(f"Created the chat with ID {reply.group_id}.")
        self._out.line(f"You have joined the chat with ID {reply.group_id}.")
        return self._enter(reply.group_id, reply.name)

    def _enter(self, group_id: int, name: str) -> _Membership:
        self._group_id = group_id
        return _Membership(group_id, name)

    # --- in a chat --------------------------------------------------------------------------

    async def _chat(self, membership: _Membership) -> bool:
        """Send each line until ``qqq`` (True: back to the menu) or end of input (False)."""
        while True:
            line = await self._read()
            if line is None or line.strip() == LEAVE_COMMAND:
                await self._leave(membership)
                return line is not None
            if line.strip():
                await self._send(membership, line)

    async def _send(self, membership: _Membership, line: str) -> None:
        # A refused or invalid message leaves us in the chat: we are still a member on the server.
        try:
            text = fields.message_text(line)
        except InvalidField as exc:
            self._out.error(exc.message)
            return
        reply = await self._refusable(lambda rid: SendMessage(rid, membership.group_id, text))
        if reply is not None:  # acknowledged: the message is committed, so show it as sent
            self._out.line(f"{membership.name}: {text}")

    async def _leave(self, membership: _Membership) -> None:
        self._group_id = None
        # Refused means the server no longer counts us as a member: that is what we wanted.
        with contextlib.suppress(RequestRefused):
            await self._request(lambda rid: LeaveGroup(rid, membership.group_id))

    # --- input, notifications and requests --------------------------------------------------

    async def _ask(self, prompt: str | None = None) -> str:
        if prompt is not None:
            self._out.line(prompt)
        line = await self._read()
        if line is None:
            raise _InputEnded
        return line

    async def _read(self) -> str | None:
        """The next stdin line (None at its end), showing notifications that arrive meanwhile."""
        while not self._input_ended:
            item = await self._inbox.get()
            if item is None:
                self._input_ended = True
            elif isinstance(item, str):
                return item
            else:
                self._show(item)
        return None

    def _show(self, item: Event | ConnectionLost) -> None:
        if isinstance(item, ConnectionLost):
            lost = item.reason.startswith("connection lost")
            raise _SessionOver(item.reason if lost else f"connection lost: {item.reason}")
        if isinstance(item, ServerClosing):
            raise _SessionOver(_closing_message(item.reason))
        current = self._group_id is not None and getattr(item, "group_id", None) == self._group_id
        if isinstance(item, MessagePosted) and current:
            self._out.line(f"{item.sender}: {item.text}")
        elif isinstance(item, MemberJoined) and current:
            self._out.line(f"{item.name} has joined the chat!")
        elif isinstance(item, MemberLeft) and current:
            self._out.line(f"{item.name} has left the chat!")
        # Anything else is stale (a group we left, a reply that came after its timeout): ignore it.

    async def _refusable(self, make: Callable[[int], Request]) -> Event | None:
        """The reply to a request, or None after printing the server's refusal."""
        try:
            return await self._request(make)
        except RequestRefused as exc:
            self._out.error(exc.error.message)
            return None

    async def _request(self, make: Callable[[int], Request]) -> Event:
        try:
            return await self._link.request(make)
        except LinkError as exc:
            if self._link.is_open:  # no reply in time, but the link is up: nothing more will explain it
                raise _SessionOver(str(exc)) from None
            await self._until_link_end()

    async def _until_link_end(self) -> NoReturn:
        """Show what arrived before the link ended, then raise for its end (ServerClosing or loss)."""
        # The link always queues ConnectionLost last, so this ends; stdin lines are dropped.
        while True:
            item = await self._inbox.get()
            if item is not None and not isinstance(item, str):
                self._show(item)


def _closing_message(reason: str) -> str:
    usual = "the server is shutting down"
    return usual if reason in ("", usual) else f"{usual}: {reason}"


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


async def _forward(link: ServerLink, inbox: asyncio.Queue[InboxItem]) -> None:
    """Move the link's notifications onto the inbox, up to and including ConnectionLost."""
    while True:
        item = await link.notifications.get()
        await inbox.put(item)
        if isinstance(item, ConnectionLost):
            return


async def _session(host: str, port: int, stdin: TextIO, out: LineOutput) -> int:
    try:
        link = await ServerLink.open(host, port)
    except LinkError as exc:
        out.error(str(exc))
        return 1
    inbox: asyncio.Queue[InboxItem] = asyncio.Queue(INBOX_SIZE)
    StdinReader(stdin, inbox.put).start()
    forwarder = asyncio.create_task(_forward(link, inbox), name="plain-forward")
    try:
        return await PlainClient(link, inbox, out).run()
    except _SessionOver as exc:
        out.error(exc.message)
        return 1
    finally:
        forwarder.cancel()
        await link.close()


def run(host: str, port: int, stdin: TextIO, stdout: TextIO) -> int:
    """Run the line-mode client until the user exits or the server goes away.

    Returns:
        0 after option 3 or end of input; 1 when the server is unreachable or lost, or stdout closed.
    """
    out = LineOutput(stdout)
    try:
        return asyncio.run(_session(host, port, stdin, out))
    except OutputClosed:
        out.silence()
        return 1
    except KeyboardInterrupt:
        return 130  # the shell convention for SIGINT; no traceback for a Ctrl-C
