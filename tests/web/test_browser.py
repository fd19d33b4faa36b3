"""`chat-tui --web` end to end: a real chat server, the real web server, headless Chromium typing into the
page, and a second client (a raw socket) that must receive what was typed in the browser.

xterm.js draws on a canvas, so the page has no text to read (notes/tui.md §3.4): every check is made at
the chat server, through the raw client. Real time throughout: the app is a subprocess behind a websocket.
Skipped without textual-serve, playwright or a Chromium binary (.ci/run installs all three).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import Event, MemberJoined, MessagePosted
from tests.conftest import ServerProcess
from tests.helpers import RawClient
from tests.web.serving import TIMEOUT, web_server

pytest.importorskip("textual_serve")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = next(
    (path for name in ("chromium", "chromium-headless-shell", "chromium-browser") if (path := shutil.which(name))),
    None,
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary (apt-get install chromium)")

KEY_PAUSE = 0.5
"""Between groups of keys: a key sent before a just-opened dialog takes focus goes to the screen beneath."""


@pytest.fixture
def web_port(server: ServerProcess, tmp_path: Path) -> Iterator[int]:
    """`chat-tui --web` serving a client locked to ``server``, with GROUPCHAT_* variables that must lose."""
    env = {**os.environ, "GROUPCHAT_HOST": "203.0.113.9", "GROUPCHAT_NAME": "Mallory"}  # flags and --web win
    with web_server(server.address, tmp_path, env=env) as port:
        yield port


def _wait_for(bob: RawClient, match: Callable[[Event], bool]) -> Event:
    bob.timeout = TIMEOUT
    return bob.wait_for(match)


def _type(page: Any, *keys: str) -> None:
    """Type text, or press a key named like ``"Enter"``/``"Tab"``, pausing after each group."""
    for key in keys:
        if key in {"Enter", "Tab", "Escape"}:
            page.keyboard.press(key)
        else:
            page.keyboard.type(key, delay=20)
        time.sleep(KEY_PAUSE)


def test_a_message_typed_in_the_browser_reaches_another_client(
    server: ServerProcess, web_port: int, tmp_path: Path
) -> None:
    bob = RawClient(server.address)
    group = bob.create("web-room", "secret-pw", "Bob")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.goto(f"http://127.0.0.1:{web_port}/")
            page.wait_for_selector("canvas", timeout=TIMEOUT * 1000)
            time.sleep(3)  # the tab's app process starts and paints its connect screen
            page.screenshot(path=str(tmp_path / "connect.png"))  # kept for a look: pytest --basetemp
            page.mouse.click(550, 350)  # xterm.js takes keys only once clicked (notes/tui.md §3.4)
            time.sleep(KEY_PAUSE)
            # The locked connect screen has one field, focused: the name (not GROUPCHAT_NAME's Mallory).
            _type(page, "Alice", "Enter")
            time.sleep(2)  # connected: the home screen
            _type(page, "j")
            _type(page, str(group.group_id), "Tab", "secret-pw", "Enter")
            joined = _wait_for(bob, lambda e: isinstance(e, MemberJoined))
            assert isinstance(joined, MemberJoined)
            assert joined.name == "Alice"
            time.sleep(1)  # the chat screen takes focus
            _type(page, "hello from the browser [b]x[/b]", "Enter")
            posted = _wait_for(bob, lambda e: isinstance(e, MessagePosted))
            assert isinstance(posted, MessagePosted)
            assert (posted.sender, posted.text) == ("Alice", "hello from the browser [b]x[/b]")
            page.screenshot(path=str(tmp_path / "browser.png"))  # kept for a look: pytest --basetemp
        finally:
            browser.close()
            bob.close()
