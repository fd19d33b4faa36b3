"""The `chat-tui --web` server without a browser: the tab cap, and a clear error without textual-serve."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.web.serving import web_server

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")


@pytest.fixture
def one_tab_port(server: ServerProcess, tmp_path: Path) -> Iterator[int]:
    """`chat-tui --web --web-sessions 1` for ``server``; its HTTP port."""
    with web_server(server.address, tmp_path, "--web-sessions", "1") as port:
        yield port


async def test_tabs_beyond_the_cap_are_turned_away(one_tab_port: int) -> None:
    url = f"http://127.0.0.1:{one_tab_port}/ws?width=80&height=24"
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as first:
            first_output = await first.receive(timeout=30)  # the tab's app process is up and painting
            assert first_output.type == aiohttp.WSMsgType.BINARY
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url)
            assert refused.value.status == 503
        # The first tab closed: its place is free again once its app process has stopped.
        again = await _connect_within(http, url, seconds=30)
        assert (await again.receive(timeout=30)).type == aiohttp.WSMsgType.BINARY
        await again.close()


async def _connect_within(http: Any, url: str, seconds: float) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await http.ws_connect(url)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 503 or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def test_without_textual_serve_web_is_a_clear_error() -> None:
    probe = (
        "import sys; sys.modules['textual_serve'] = None; import chat_tui.cli; sys.exit(chat_tui.cli.main(['--web']))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "--web needs textual-serve" in result.stderr
    assert "pip install 'groupchat[web]'" in result.stderr
    assert "Traceback" not in result.stderr
