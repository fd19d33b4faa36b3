"""What each slash command does on a chat screen; the table itself is :mod:`chat_tui.commands`.

The composer's Enter, the command palette and Tab all read that one table; this module runs a parsed
:class:`~chat_tui.commands.Invocation` against one :class:`~chat_tui.screens.chat.ChatScreen`. Commands
that need a server feature (``/me``, ``/nick``, ``/search``, ``/away``) say so plainly when the server
does not offer it, and are never sent as text instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from chat_tui import messages
from chat_tui.commands import Invocation, help_lines
from chat_tui.screens import form
from chat_tui.screens.create import CreateDialog
from chat_tui.screens.form import for_people, refusal_text
from chat_tui.screens.join import JoinDialog
from chat_tui.session import ChatSession, LinkError, RequestRefused
from chat_tui.session.window import HEADER_MORE
from shared import GroupCreated, GroupJoined, InvalidField, fields

if TYPE_CHECKING:
    from chat_tui.screens.chat import ChatScreen

__all__ = ["run"]

FEATURE_OF = {"nick": "rename", "search": "search", "away": "presence"}
"""The server feature (``welcome.features``) a command needs; the others need none (``/me`` reaches a
server without "action" as the text "* name waves": the session sends it so)."""


def run(chat: ChatScreen, invocation: Invocation) -> None:
    """Do what ``invocation`` asks on ``chat``; a problem is said next to the composer, never sent."""
    name, argument = invocation.command.name, invocation.argument
    feature = FEATURE_OF.get(name)
    if feature is not None and feature not in features(chat.session):
        chat.refuse(f"/{name}: this server does not offer it (it has no “{feature}” feature)")
        return
    _RUNNERS[name](chat, argument)


def features(session: ChatSession | None) -> frozenset[str]:
    """What the server offers (its ``welcome``); nothing without a session or before the session knows."""
    offered = getattr(session, "features", None)
    return frozenset(offered) if isinstance(offered, frozenset | set | list | tuple) else frozenset()


# --- commands that need no server -------------------------------------------------------------------


def _help(chat: ChatScreen, _argument: str) -> None:
    chat.notice("Commands (also in the command palette, Ctrl+P):")
    for line in help_lines():
        chat.notice(line)


def _who(chat: ChatScreen, _argument: str) -> None:
    names = chat.timeline.members
    chat.notice(f"Members ({len(names)}): {', '.join(names)}")


def _clear(chat: ChatScreen, _argument: str) -> None:
    clear_timeline(chat)


def _leave(chat: ChatScreen, _argument: str) -> None:
    chat.action_leave()


def _quit(chat: ChatScreen, _argument: str) -> None:
    chat.app.exit(0)


def _join(chat: ChatScreen, argument: str) -> None:
    try:
        form.group_id(argument)
    except InvalidField:
        chat.refuse(f"/join ID: “{argument}” is not a group ID (a whole number the creator shared)")
        return
    chat.app.push_screen(JoinDialog(chat.session, chat.you, prefill=argument), _entered(chat))


def _create(chat: ChatScreen, argument: str) -> None:
    chat.app.push_screen(CreateDialog(chat.session, chat.you, prefill=argument), _entered(chat))


def _entered(chat: ChatScreen) -> Callable[[GroupJoined | GroupCreated | None], None]:
    def entered(reply: GroupJoined | GroupCreated | None) -> None:
        if reply is not None:
            chat.post_message(messages.GroupEntered(reply))

    return entered


def clear_timeline(chat: ChatScreen) -> None:
    """Empty the pane: the messages leave memory (scrolling up pages them back in from the server).

    Uses ``GroupTimeline.clear`` when the session layer has one; otherwise empties the window the way
    its own trimming does, so paging resumes just above the newest message.
    """
    timeline = chat.timeline
    clear = getattr(timeline, "clear", None)
    if callable(clear):
        clear()
        return
    entries = timeline.entries
    with entries.batch():
        entries.splice(0, timeline.settled_end, ())
        timeline.seqs.clear()
        if timeline.newest_seq:
            timeline.oldest_seq = timeline.newest_seq + 1
            timeline.older = True
            entries.set_header(HEADER_MORE)


# --- commands that need a server feature ------------------------------------------------------------


def _me(chat: ChatScreen, argument: str) -> None:
    session = chat.session
    if session is None:
        chat.not_sent(f"/me {argument}", "not connected to a server.")
        return
    chat.start(_sent(chat, argument, session.send(chat.group_id, argument, action=True)))


def _nick(chat: ChatScreen, argument: str) -> None:
    session = chat.session
    assert session is not None
    try:
        fields.display_name(argument)
    except InvalidField as exc:
        chat.refuse(f"/nick: {for_people(exc.message)}")
        return
    chat.start(_rename(chat, session, argument))


def _away(chat: ChatScreen, argument: str) -> None:
    session = chat.session
    assert session is not None
    away = chat.is_away()
    reason = None if away and not argument else argument
    chat.start(_ask(chat, cast(Any, session).set_away(reason)))
    chat.notice("You are back." if reason is None else f"You are away{': ' + reason if reason else ''}.")


def _search(chat: ChatScreen, argument: str) -> None:
    chat.open_search(argument)


async def _sent(chat: ChatScreen, text: str, sending: Awaitable[object]) -> None:
    try:
        await sending
    except InvalidField as exc:
        chat.not_sent(f"/me {text}", for_people(exc.message))
    except (KeyError, LinkError) as exc:
        chat.not_sent(f"/me {text}", str(exc))


async def _rename(chat: ChatScreen, session: ChatSession, name: str) -> None:
    try:
        await cast(Any, session).rename(chat.group_id, name)
    except RequestRefused as exc:
        if exc.error.code == "name_taken":
            chat.refuse(f"/nick: someone in this group is already called {name}; pick another name")
        else:
            chat.refuse(f"/nick: {refusal_text(exc.error)}")
    except InvalidField as exc:
        chat.refuse(f"/nick: {for_people(exc.message)}")
    except (LinkError, KeyError) as exc:
        chat.refuse(f"/nick: not now: {exc}")


async def _ask(chat: ChatScreen, request: Awaitable[object]) -> None:
    try:
        await request
    except RequestRefused as exc:
        chat.refuse(refusal_text(exc.error))
    except InvalidField as exc:
        chat.refuse(for_people(exc.message))
    except (LinkError, KeyError) as exc:
        chat.refuse(f"Not now: {exc}")


_RUNNERS: dict[str, Callable[[ChatScreen, str], None]] = {
    "help": _help,
    "who": _who,
    "clear": _clear,
    "leave": _leave,
    "quit": _quit,
    "join": _join,
    "create": _create,
    "me": _me,
    "nick": _nick,
    "away": _away,
    "search": _search,
}
