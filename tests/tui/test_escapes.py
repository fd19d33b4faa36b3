"""No string from the network reaches the terminal raw, on any display path (issue 8, item 17).

The app talks to a scripted server (tests/client/scripted_server.py) that puts escape sequences in
every string the protocol lets carry them (error messages, the server's closing reason; text may
carry bidi controls), and the session's events carrying such strings are fed to the app the way its
session worker does. After each step the whole screen, toasts included, is exported and searched for
raw ESC, C1 and bidi controls; the visible placeholder (␛) proves each path was reached.
"""

from __future__ import annotations

import re

from textual.pilot import Pilot

from chat_tui import messages
from chat_tui.screens import ChatScreen, ConnectScreen, CreateDialog, HomeScreen
from chat_tui.session.events import Disconnected, GaveUp, SessionEvent
from shared import CreateGroup, Error, GroupCreated, MemberJoined, MessagePosted, SendMessage
from tests.client.scripted_server import ScriptedServer
from tests.tui.helpers import SIZE, make_app, pane_text, wait_until

ESCAPES = "A\x1b]0;PWNED\x07B\x1b]52;c;SGVsbG8=\x07C\x9b31mD\u202eE\x1b[2J"
"""OSC 0 (window title), OSC 52 (clipboard), C1 CSI, a bidi override and a clear-screen CSI."""
SHOWN = "A\u241b]0;PWNED\u2407B"
"""How the start of ESCAPES looks once sanitised."""
BIDI_TEXT = "left \u202eright\u202c and \u2066isolated\u2069"
"""Message text may hold bidi controls (they are format characters, not controls, to the protocol)."""
_RAW = re.compile("[\x1b\x07\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
GROUP = 3


def _assert_screen_clean(pilot: Pilot[int], *, expect_shown: bool = True) -> None:
    screen = pilot.app.export_screenshot()
    raw = _RAW.search(screen)
    assert raw is None, f"raw {raw.group()!r} reached the screen" if raw else ""
    if expect_shown:
        assert "\u241b]0;PWNED\u2407B" in screen.replace("&#160;", " ")


def _news(pilot: Pilot[int], event: SessionEvent) -> None:
    pilot.app.post_message(messages.SessionNews(event))


async def test_escape_laden_server_text_is_sanitized_on_every_display_path(scripted: ScriptedServer) -> None:
    app = make_app(*scripted.address, name="Alice")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("enter")  # connect
        peer = await scripted.accept()
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))

        # A dialog's error line: the server refuses with an escape-laden message.
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateDialog))
        await pilot.press(*"Lobby", "tab", *"pw", "tab", *"pw", "enter")
        create = await peer.receive_a(CreateGroup)
        await peer.send(Error(create.request_id, "odd", ESCAPES))
        await wait_until(pilot, lambda: "PWNED" in app.export_screenshot())
        _assert_screen_clean(pilot)

        await pilot.press("enter")  # again; this time the group is created
        create = await peer.receive_a(CreateGroup)
        await peer.send(GroupCreated(create.request_id, GROUP, "Lobby", "Alice"))
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)

        # Peer text in the pane, notices with server sentences, the member list, the banner.
        await peer.send(MessagePosted(GROUP, 1, 1000, "Bob", BIDI_TEXT))
        await peer.send(MemberJoined(GROUP, "Bob"))
        await pilot.press(*"hi", "enter")
        sent = await peer.receive_a(SendMessage)
        await peer.send(Error(sent.request_id, "odd", ESCAPES))
        chat.timeline.rejoin_refused("odd", ESCAPES, final=False)
        _news(pilot, Disconnected(f"the server is shutting down: {ESCAPES}"))
        await wait_until(pilot, lambda: pane_text(chat.pane).count("PWNED") >= 3)
        assert "right" in pane_text(chat.pane)
        _assert_screen_clean(pilot)

        # Giving up: the toast and the connect screen's status line.
        _news(pilot, GaveUp(f"the server refused the connection: {ESCAPES}", 1))
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        await pilot.pause()
        _assert_screen_clean(pilot)
