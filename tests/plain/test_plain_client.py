"""The ``--plain`` client as a user meets it: real server, real subprocesses, pipes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from functools import partial
from pathlib import Path

from chat_server.store import SqliteStore, StoredMessage
from shared import CreateGroup, GroupCreated, SendMessage
from tests.conftest import ServerProcess, sqlite_url
from tests.plain.conftest import PlainFactory
from tests.plain.helpers import (
    CREATE_PROMPTS,
    JOIN_PROMPTS,
    MENU,
    TIMEOUT,
    PlainProcess,
    RawPeer,
    create_group,
    join_group,
)


def test_create_prints_the_whole_transcript(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    alice.send("2", "Alice", "Lobby", "s3cret")
    lines = alice.read_until(r"You have joined the chat with ID \d+\.")
    group_id = lines[-1].removeprefix("You have joined the chat with ID ").removesuffix(".")
    assert lines == [
        *MENU,
        *CREATE_PROMPTS,
        f"Created the chat with ID {group_id}.",
        f"You have joined the chat with ID {group_id}.",
    ]
    alice.send("hello")
    alice.expect("Alice: hello")
    alice.send("qqq")
    alice.expect(*MENU)
    alice.send("3")
    assert alice.expect_end() == 0


def test_join_with_wrong_password_prints_error_then_menu(
    server_address: tuple[str, int], start_plain: PlainFactory
) -> None:
    alice = start_plain(server_address)
    group_id = create_group(alice, "Alice", "Lobby", "right")
    bob = start_plain(server_address)
    bob.send("1", "Bob", str(group_id), "wrong")
    bob.expect(*MENU, *JOIN_PROMPTS)
    assert bob.read_line().startswith("Error: ")
    bob.expect(*MENU)
    join_group(bob, "Bob", group_id, "right")  # the refusal left the client usable
    alice.expect("Bob has joined the chat!")


def test_two_clients_talk_and_see_each_other_come_and_go(
    server_address: tuple[str, int], start_plain: PlainFactory
) -> None:
    alice = start_plain(server_address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")
    bob = start_plain(server_address)
    join_group(bob, "Bob", group_id, "pw")
    alice.expect("Bob has joined the chat!")

    bob.send("Hello everyone!")
    bob.expect("Bob: Hello everyone!")  # printed once the server acknowledged it
    alice.expect("Bob: Hello everyone!")
    alice.send("hi Bob")
    alice.expect("Alice: hi Bob")
    bob.expect("Alice: hi Bob")

    bob.send("qqq")
    bob.expect(*MENU)
    alice.expect("Bob has left the chat!")
    bob.send("3")
    assert bob.expect_end() == 0

    alice.close_stdin()  # end of input inside a chat: leave, then exit 0
    assert alice.expect_end() == 0


def test_a_joiner_sees_the_recent_history_as_messages(
    server_address: tuple[str, int], start_plain: PlainFactory
) -> None:
    alice = start_plain(server_address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")
    alice.send("said before Bob came")
    alice.expect("Alice: said before Bob came")
    bob = start_plain(server_address)
    join_group(bob, "Bob", group_id, "pw")
    bob.expect("Alice: said before Bob came")  # replayed by the server right after the join


def test_end_of_input_in_a_chat_leaves_it(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")
    bob = start_plain(server_address)
    join_group(bob, "Bob", group_id, "pw")
    bob.close_stdin()
    assert bob.expect_end() == 0
    alice.expect("Bob has joined the chat!", "Bob has left the chat!")


def test_end_of_input_at_the_menu_exits_0(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    alice.close_stdin()
    alice.expect(*MENU)
    assert alice.expect_end() == 0


def test_end_of_input_between_prompts_exits_0(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    alice.send("2", "Alice")
    alice.close_stdin()
    alice.expect(*MENU, *CREATE_PROMPTS[:2])
    assert alice.expect_end() == 0


def test_invalid_input_prints_one_error_and_the_menu(
    server_address: tuple[str, int], start_plain: PlainFactory
) -> None:
    alice = start_plain(server_address)
    alice.expect(*MENU)
    for answers in (["1", "Bob", "twelve", "pw"], ["1", "", "1", "pw"], ["2", "x" * 33, "Room", "pw"]):
        alice.send(*answers)
        alice.read_line(), alice.read_line(), alice.read_line()  # the three prompts
        assert alice.read_line().startswith("Error: "), alice.describe()
        alice.expect(*MENU)
    alice.send("7")
    assert alice.read_line() == "Please choose 1, 2 or 3."
    alice.expect(*MENU)


def test_blank_lines_in_a_chat_are_not_sent(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address)
    create_group(alice, "Alice", "Lobby", "pw")
    alice.send("", "   ", "\t", "real")
    alice.expect("Alice: real")


def test_a_regular_file_as_stdin(server_address: tuple[str, int], tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("2\nAlice\nLobby\npw\nfrom a file\nqqq\n3\n")
    with script.open("rb") as stdin:
        alice = PlainProcess(*server_address, stdin=stdin)
        try:
            lines = alice.read_until(r"Alice: from a file")
            assert lines[-2].startswith("You have joined the chat with ID ")
            alice.expect(*MENU)
            assert alice.expect_end() == 0
        finally:
            alice.kill()


SHORT_RECONNECT = {"GROUPCHAT_RECONNECT_TIMEOUT": "1"}
"""Give up reconnecting after a second, so a test of giving up is quick."""


def test_killed_server_is_reconnected_to_until_the_timeout_then_exit_1(
    server: ServerProcess, start_plain: PlainFactory
) -> None:
    alice = start_plain(server.address, SHORT_RECONNECT)
    create_group(alice, "Alice", "Lobby", "pw")
    server.stop(signal.SIGKILL)
    lines = alice.read_until(r"Error: .*")
    assert lines[0].startswith("Connection lost: "), alice.describe()
    assert lines[1] == "Reconnecting in 0.5 s…" or lines[1].startswith("Reconnecting in 0."), alice.describe()
    assert all(line.startswith("Reconnecting in ") for line in lines[1:-1]), alice.describe()
    assert lines[-1].startswith("Error: gave up reconnecting: cannot connect to "), alice.describe()
    assert alice.expect_end() == 1


def test_server_shutdown_while_idle_at_the_menu(server: ServerProcess, start_plain: PlainFactory) -> None:
    alice = start_plain(server.address, SHORT_RECONNECT)
    alice.expect(*MENU)
    server.stop(signal.SIGTERM)
    assert alice.read_line() == "Connection lost: the server is shutting down."
    assert alice.read_until(r"Error: .*")[-1].startswith("Error: gave up reconnecting: ")
    assert alice.expect_end() == 1


def test_reconnect_rejoins_sends_what_was_typed_and_shows_each_message_once(
    server: ServerProcess, start_plain: PlainFactory
) -> None:
    alice = start_plain(server.address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")
    alice.send("before")
    alice.expect("Alice: before")
    server.stop(signal.SIGKILL)
    assert alice.read_line().startswith("Connection lost: "), alice.describe()
    assert alice.read_line().startswith("Reconnecting in "), alice.describe()
    alice.send("typed while away")  # queued until the server is back

    again = ServerProcess(list(server.args))
    again.port = server.port
    again.start()
    try:
        bob = start_plain(again.address)
        join_group(bob, "Bob", group_id, "pw")
        bob.read_until(r"Alice: before")  # history, after the join line (Alice's resend may follow)
        bob.send("while Alice was away")  # Alice may be back already or not: both orders are right
        bob.read_until(r"Bob: while Alice was away")

        lines = alice.read_until(r"Reconnected\.")
        while not {"Alice: typed while away", "Bob: while Alice was away"} <= set(lines):
            lines.append(alice.read_line())
        said = [line for line in lines[lines.index("Reconnected.") :] if ": " in line]
        assert sorted(said) == ["Alice: typed while away", "Bob: while Alice was away"], alice.describe()
        if "Alice: typed while away" not in bob.lines:
            bob.read_until(r"Alice: typed while away")

        bob.send("after")
        alice.expect("Bob: after")  # nothing repeated in between
        alice.send("qqq")
        alice.expect(*MENU)
        alice.send("3")
        assert alice.expect_end() == 0
    finally:
        again.stop()


def test_a_bad_reconnect_timeout_is_an_error(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    alice = start_plain(server_address, {"GROUPCHAT_RECONNECT_TIMEOUT": "soon"})
    assert alice.read_line() == "Error: GROUPCHAT_RECONNECT_TIMEOUT must be a positive number of seconds, not 'soon'"
    assert alice.expect_end() == 1


def test_unreachable_server_prints_error_and_exits_1(start_plain: PlainFactory) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    alice = start_plain(("127.0.0.1", port))
    assert alice.read_line().startswith("Error: ")
    assert alice.expect_end() == 1


def test_plain_client_does_not_import_textual() -> None:
    code = "import sys, chat_tui.plain; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True)
    assert result.stdout.strip() == "[]"


def test_a_long_absence_prints_how_many_messages_were_not_replayed(tmp_path: Path, start_plain: PlainFactory) -> None:
    db = tmp_path / "chat.db"
    server = ServerProcess(["--store", sqlite_url(db), "--catch-up-limit", "3"])
    server.start()
    alice = start_plain(server.address)
    group_id = create_group(alice, "Alice", "Lobby", "pw")
    alice.send("before")
    alice.expect("Alice: before")
    server.stop(signal.SIGKILL)
    alice.read_until(r"Reconnecting in .*")
    store = SqliteStore(db)  # ten messages arrive while Alice is away (written straight into the log)
    store.append([StoredMessage(group_id, seq, 1795665680000 + seq, "Bob", f"m{seq}") for seq in range(2, 12)])
    store.close()
    again = ServerProcess(list(server.args))
    again.port = server.port
    again.start()
    try:
        lines = alice.read_until(r"Bob: m11")
        shown = lines[lines.index("Reconnected.") :]
        assert shown == ["Reconnected.", "(7 earlier messages not shown)", "Bob: m9", "Bob: m10", "Bob: m11"]
        alice.send("qqq")
        alice.expect(*MENU)
    finally:
        again.stop()


def test_output_never_waits_behind_piped_input(server_address: tuple[str, int], start_plain: PlainFactory) -> None:
    """Issue 9: fed 200 piped lines, the client printed nothing for 20 s, not even the history. The
    lines go out at the server's pace (2 a second by default); what the group says prints at once."""
    peer = RawPeer(*server_address)
    try:
        created = peer.request(lambda rid: CreateGroup(rid, "busy", "pw", "Bob"))
        assert isinstance(created, GroupCreated)
        group_id = created.group_id
        peer.request(partial(SendMessage, group_id=group_id, text="from before"))
        alice = start_plain(server_address)
        alice.send("1", "Alice", str(group_id), "pw", *(f"line {number}" for number in range(200)))
        alice.read_until(r"Bob: from before", timeout=10)
        peer.request(partial(SendMessage, group_id=group_id, text="live now"))
        lines = alice.read_until(r"Bob: live now", timeout=10)
        sent = [line for line in lines if line.startswith("Alice: line ")]
        assert len(sent) < 200  # still sending when the live message printed: it did not wait behind them
    finally:
        peer.close()


def test_a_closed_stdout_while_a_peer_talks_ends_the_client_with_1(server_address: tuple[str, int]) -> None:
    """The printer writes from inside the session's receive loop: a reader that went away (``| head``)
    must end the client, not leave it running with a dead session."""
    peer = RawPeer(*server_address)
    try:
        created = peer.request(lambda rid: CreateGroup(rid, "readers", "pw", "Bob"))
        assert isinstance(created, GroupCreated)
        command = [sys.executable, "-m", "chat_tui", "--plain", "--host", server_address[0]]
        command += ["--port", str(server_address[1])]
        client = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert client.stdin is not None
        assert client.stdout is not None
        client.stdin.write(f"1\nAlice\n{created.group_id}\npw\n".encode())
        client.stdin.flush()
        while b"You have joined" not in client.stdout.readline():
            pass
        client.stdout.close()  # the reader goes away
        for number in range(3):
            peer.request(partial(SendMessage, group_id=created.group_id, text=f"into the void {number}"))
        assert client.wait(timeout=TIMEOUT) == 1
    finally:
        peer.close()
