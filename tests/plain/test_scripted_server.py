"""The plain client against a scripted server: lines nobody can forge, server text that cannot escape.

The client runs in-process (``chat_tui.plain.run`` on a thread, stdin a pipe) against a real socket
whose every answer the test writes (tests/client/scripted_server.py), so the server can say things
a real one would not: escape sequences in its error messages and its closing reason.
"""

from __future__ import annotations

import asyncio
import io
import os
import re

from chat_tui import plain
from chat_tui.plain_printer import message_line
from shared import Error, GroupJoined, Hello, JoinGroup, ServerClosing
from tests.client.scripted_server import ScriptedServer

ESCAPES = "A\x1b]0;PWNED\x07B\x1b]52;c;SGVsbG8=\x07C\x9b31mD\u202eE"
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
GROUP = 3


def test_a_name_cannot_forge_a_plain_line() -> None:
    # The server refuses ':' in names; a name with one (an old or lying server) is shown marked.
    forged = message_line("Alice: I resign", "no")
    assert not forged.startswith("Alice: ")
    assert forged.split(": ", 1)[0] == "Alice\ufffd I resign"
    assert message_line("Bob", "a: b") == "Bob: a: b"  # the text may hold ': ' freely


async def test_escape_laden_server_text_never_reaches_stdout_raw(scripted: ScriptedServer) -> None:
    read_end, write_end = os.pipe()
    stdout = io.StringIO()
    with os.fdopen(read_end, encoding="utf-8") as stdin:
        client = asyncio.create_task(
            asyncio.to_thread(plain.run, *scripted.address, stdin, stdout, reconnect_timeout=0.5)
        )
        peer = await scripted.accept()
        os.write(write_end, b"1\nCarol\n3\npw\n")
        join = await peer.receive_a(JoinGroup)
        await peer.send(Error(join.request_id, "odd", ESCAPES))  # printed as an Error: line
        os.write(write_end, b"1\nCarol\n3\npw\n")
        join = await peer.receive_a(JoinGroup)
        await peer.send(GroupJoined(join.request_id, GROUP, "Lobby", "Carol", ("Carol",), 0))
        await peer.send(ServerClosing(ESCAPES))  # printed as "Connection lost: …"
        peer.abort()
        for _ in range(50):  # every reconnect is refused with the escapes until the client gives up
            try:
                again = await asyncio.wait_for(scripted.accept(), 5)
            except TimeoutError:
                break
            hello = again.pending.pop(0) if again.pending else None
            assert hello is None or isinstance(hello, Hello)
            await again.send(Error(None, "too_many_connections", ESCAPES))
            again.abort()
        status = await asyncio.wait_for(client, 30)
        os.close(write_end)
    output = stdout.getvalue()
    assert status == 1, output
    assert _RAW.search(output) is None, output
    assert output.count("A\u241b]0;PWNED\u2407B") >= 2, output  # the Error: line and Connection lost:
    assert "Error: gave up reconnecting" in output
