"""The line-mode client (``chat-tui --plain``): a menu and a chat as plain lines on stdin and stdout.

It serves scripts, pipes and screen readers, so it never imports Textual and its transcript is fixed.
Every printed line goes through :func:`chat_tui.plain_io.printable`: peer text is sanitized (no
ESC, C0 but tab, DEL, C1 or bidi controls reach the terminal) and a line break inside a message
becomes a visible ``↵``, so one printed line is one event and a peer cannot forge a ``Name: text``
line.

The network side is a :class:`chat_tui.session.ChatSession`: when the server goes away the client
prints ``Connection lost: …``, ``Reconnecting in N s…`` and ``Reconnected.``, keeps reading typed
lines (queued, bounded) and sends them once back; only when reconnecting gives up (after
``reconnect_timeout`` seconds, else ``GROUPCHAT_RECONNECT_TIMEOUT``, 60 by default) does it print one
``Error:`` line and exit 1. With an ``ssl_context`` it speaks TLS.

This module wires the client to a process: stdin lines (read on a thread) go onto an inbox queue,
which :class:`chat_tui.plain_client.PlainClient` (the menu and the chat) reads; what the session takes
in is printed as it happens, never behind the typed lines (:mod:`chat_tui.plain_printer`).
"""

from __future__ import annotations

import asyncio
import os
from ssl import SSLContext
from typing import TextIO

from chat_tui.plain_client import MENU, InboxItem, PlainClient, SessionOver
from chat_tui.plain_io import LineOutput, OutputClosed, StdinReader
from chat_tui.session import ChatSession, LinkError
from shared import InvalidField

INBOX_SIZE = 1024
"""Stdin lines held ahead of the client; when full the stdin thread waits, so ``cat huge.txt | chat-tui
--plain`` reads at the pace the server acknowledges, not into memory."""
RECONNECT_TIMEOUT = 60.0
"""Seconds of failed reconnecting before the client gives up and exits 1: a restart or a short network
blip is ridden out, while a script waiting on a server that is gone for good fails within a minute."""
RECONNECT_TIMEOUT_VARIABLE = "GROUPCHAT_RECONNECT_TIMEOUT"

__all__ = ["INBOX_SIZE", "MENU", "RECONNECT_TIMEOUT", "PlainClient", "reconnect_seconds", "run"]


def reconnect_seconds(given: float | None = None) -> float:
    """Seconds to keep reconnecting: ``given``, else ``$GROUPCHAT_RECONNECT_TIMEOUT``, else
    :data:`RECONNECT_TIMEOUT`.

    Raises:
        InvalidField: ``given`` or the variable is not a positive number.
    """
    if given is not None:
        if not 0 < given < float("inf"):
            raise InvalidField(f"the reconnect timeout must be a positive number of seconds, not {given!r}")
        return given
    text = os.environ.get(RECONNECT_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return RECONNECT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise InvalidField(f"{RECONNECT_TIMEOUT_VARIABLE} must be a positive number of seconds, not {text!r}")
    return seconds


async def _run_session(
    host: str, port: int, stdin: TextIO, out: LineOutput, *, ssl_context: SSLContext | None, give_up: float | None
) -> int:
    try:
        session = ChatSession(host, port, ssl=ssl_context, give_up_after=reconnect_seconds(give_up))
        await session.connect()
    except (InvalidField, LinkError) as exc:
        out.error(str(exc))
        return 1
    inbox: asyncio.Queue[InboxItem] = asyncio.Queue(INBOX_SIZE)
    StdinReader(stdin, inbox.put).start()
    try:
        return await PlainClient(session, inbox, out).run()
    except SessionOver as exc:
        out.error(exc.message)
        return 1
    finally:
        await session.close()


def run(
    host: str,
    port: int,
    stdin: TextIO,
    stdout: TextIO,
    *,
    ssl_context: SSLContext | None = None,
    reconnect_timeout: float | None = None,
) -> int:
    """Run the line-mode client until the user exits or the session gives up reconnecting.

    Args:
        host, port: the server.
        stdin, stdout: where lines are read and printed.
        ssl_context: speak TLS with this context (None: plain TCP).
        reconnect_timeout: seconds of failed reconnecting before giving up; None reads
            ``$GROUPCHAT_RECONNECT_TIMEOUT``, else :data:`RECONNECT_TIMEOUT` (60 s).

    Returns:
        0 after option 3 or end of input; 1 when the server is unreachable at start, reconnecting gave
        up, or stdout closed.
    """
    out = LineOutput(stdout)
    try:
        session = _run_session(host, port, stdin, out, ssl_context=ssl_context, give_up=reconnect_timeout)
        return asyncio.run(session)
    except OutputClosed:
        out.silence()
        return 1
    except KeyboardInterrupt:
        return 130  # the shell convention for SIGINT; no traceback for a Ctrl-C
