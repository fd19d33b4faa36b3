"""Starting the client: --help and --version stay light, and the connect screen focuses the field to fill."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.widget import Widget
from textual.widgets import Input

from tests.tui.helpers import SIZE, make_app

# What `--help` must not load: each costs tens of milliseconds and none is needed to print text.
HEAVY = ("textual", "asyncio", "ssl", "shared")
PROBE = f"""
import sys
import chat_tui.cli
try:
    chat_tui.cli.main([sys.argv[1]])
except SystemExit:
    pass
print(" ".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_load_neither_textual_nor_asyncio_nor_ssl(flag: str) -> None:
    run = subprocess.run([sys.executable, "-c", PROBE, flag], capture_output=True, text=True, check=True, timeout=30)
    assert "chat-tui" in run.stdout
    assert run.stderr.strip() == ""


def _focused_id(widget: Widget | None) -> str | None:
    return None if widget is None else widget.id


@pytest.mark.parametrize(
    ("host", "name", "focused"),
    [
        ("127.0.0.1", "", "name"),  # the usual start: typing a name must not replace the host
        ("", "", "host"),
        ("", "Alice", "host"),
        ("127.0.0.1", "Alice", "connect"),  # all filled by flags: a lone Enter connects
    ],
)
async def test_connect_screen_focuses_the_first_empty_field_or_connect(host: str, name: str, focused: str) -> None:
    app = make_app(host, 7030, name)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert _focused_id(app.focused) == focused


async def test_typing_a_name_at_start_fills_the_name_not_the_host() -> None:
    app = make_app("127.0.0.1", 21001)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Alice")
        assert app.screen.query_one("#host", Input).value == "127.0.0.1"
        assert app.screen.query_one("#name", Input).value == "Alice"
