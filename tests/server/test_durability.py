"""Nothing acknowledged is lost: SIGKILL at random moments, restarts, resends, history and migrations."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import uuid
from functools import partial
from pathlib import Path

from chat_server.auth import hash_password
from chat_server.store import SqliteStore
from chat_server.store.sqlite import MIGRATIONS, SCHEMA_VERSION
from shared import (
    FetchHistory,
    HistoryPage,
    JoinGroup,
    MessageAccepted,
    MessagePosted,
    SendMessage,
)
from tests.conftest import LOAD_FLAGS, ServerProcess, sqlite_url
from tests.helpers import RawClient
from tests.server.test_store_startup import assert_one_line_refusal, refused_start


def start(db: Path, *extra: str) -> ServerProcess:
    server = ServerProcess(["--store", sqlite_url(db), *LOAD_FLAGS, *extra])
    server.start()
    return server


def send_until_dead(address: tuple[str, int], name: str, acked: dict[str, int], lock: threading.Lock) -> None:
    """Join group 1 and post messages one after another until the server dies; record every ack."""
    try:
        client = RawClient(address, timeout=5)
        client.join(1, "pw", name)
        while True:
            msg_id = uuid.uuid4().hex
            reply = client.request(
                partial(SendMessage, group_id=1, text=f"{name} {msg_id}", client_msg_id=msg_id), MessageAccepted
            )
            with lock:
                acked[msg_id] = reply.seq
    except (OSError, ConnectionError, TimeoutError):
        return  # the server was killed: everything acknowledged so far is in `acked`


def test_sigkill_at_random_moments_never_loses_an_acknowledged_message(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    rng = random.Random(20261126)
    server = start(db)
    RawClient(server.address).create("crash", "pw", "owner")
    server.stop()
    acked: dict[str, int] = {}
    lock = threading.Lock()
    for round_no in range(20):
        server = start(db)
        senders = [
            threading.Thread(target=send_until_dead, args=(server.address, f"s{round_no}-{i}", acked, lock))
            for i in range(3)
        ]
        for thread in senders:
            thread.start()
        threading.Event().wait(rng.uniform(0.4, 0.9))  # let messages flow, then kill mid-stream
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        for thread in senders:
            thread.join(10)
    assert len(acked) > 200  # the rounds really did post messages

    store = SqliteStore(db)
    stored = store.messages_after(1, 0, 10**9)
    store.close()
    seqs = [m.seq for m in stored]
    assert seqs == list(range(1, len(seqs) + 1))  # increasing, no gaps
    by_client_id = {m.client_msg_id: m.seq for m in stored}
    assert len(by_client_id) == len(stored)  # each client id stored once
    missing = {mid for mid in acked if mid not in by_client_id}
    assert not missing
    assert all(by_client_id[mid] == seq for mid, seq in acked.items())  # with the seq that was acknowledged


def test_resend_after_reconnect_is_acknowledged_not_duplicated(loaded_server: ServerProcess) -> None:
    server = loaded_server
    alice, bob = RawClient(server.address), RawClient(server.address)
    alice.create("team", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    first = bob.request(lambda rid: SendMessage(rid, 1, "once", "msg-1"), MessageAccepted)
    assert alice.wait_for(lambda e: isinstance(e, MessagePosted)) == MessagePosted(1, 1, first.ts, "Bob", "once")
    bob.close()
    bob = RawClient(server.address)
    joined = bob.join(1, "pw", "Bob")
    assert joined.last_seq == 1
    replayed = bob.next_event(MessagePosted)
    again = bob.request(lambda rid: SendMessage(rid, 1, "once", "msg-1"), MessageAccepted)
    assert (again.seq, again.ts) == (first.seq, first.ts) == (replayed.seq, replayed.ts)
    after = bob.request(lambda rid: SendMessage(rid, 1, "next", "msg-2"), MessageAccepted)
    assert after.seq == 2
    posted = alice.wait_for(lambda e: isinstance(e, MessagePosted))
    assert posted == MessagePosted(1, 2, after.ts, "Bob", "next")  # the resend was not fanned out


def test_join_after_restart_replays_history_then_goes_live(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    server = start(db)
    alice = RawClient(server.address)
    alice.create("team", "pw", "Alice")
    for i in range(60):
        alice.request(partial(SendMessage, group_id=1, text=f"m{i}"), MessageAccepted)
    assert server.stop() == 0
    server = start(db)
    try:
        bob = RawClient(server.address)
        joined = bob.join(1, "pw", "Bob")
        assert (joined.group_name, joined.last_seq) == ("team", 60)
        replay = [bob.next_event(MessagePosted) for _ in range(50)]  # --history-on-join default
        assert [m.seq for m in replay] == list(range(11, 61))
        assert replay[-1].text == "m59"
        assert replay[0].sender == "Alice"
        carol = RawClient(server.address)
        carol.join(1, "pw", "Carol")
        carol.request(lambda rid: SendMessage(rid, 1, "live"), MessageAccepted)
        live = bob.wait_for(lambda e: isinstance(e, MessagePosted))
        assert isinstance(live, MessagePosted)
        assert (live.seq, live.text) == (61, "live")
        dave = RawClient(server.address)  # a client that saw up to 58 gets exactly 59..61
        dave.join(1, "pw", "Dave")
        dave.inbox.clear()
        rejoin = RawClient(server.address)
        rejoin.request(lambda rid: JoinGroup(rid, 1, "pw", "Erin", since_seq=58), type(joined))
        assert [rejoin.next_event(MessagePosted).seq for _ in range(3)] == [59, 60, 61]
        rejoin.assert_silent(0.1)
    finally:
        server.stop()


def test_group_ids_keep_increasing_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    server = start(db)
    assert RawClient(server.address).create("one", "pw", "A").group_id == 1
    server.stop(signal.SIGKILL)
    server = start(db)
    try:
        client = RawClient(server.address)
        assert client.create("two", "pw", "A").group_id == 2
        assert client.join(1, "pw", "A").group_name == "one"  # the password hash survived too
    finally:
        server.stop()


def test_paging_returns_exactly_the_requested_range(loaded_server: ServerProcess) -> None:
    server = loaded_server
    alice = RawClient(server.address)
    alice.create("team", "pw", "Alice")
    for i in range(1, 131):
        alice.request(partial(SendMessage, group_id=1, text=f"m{i}"), MessageAccepted)
    page = alice.request(lambda rid: FetchHistory(rid, 1, before_seq=101, limit=30), HistoryPage)
    assert [e.seq for e in page.messages] == list(range(71, 101))
    assert [e.text for e in page.messages][:2] == ["m71", "m72"]
    assert page.has_more
    first = alice.request(lambda rid: FetchHistory(rid, 1, before_seq=6, limit=100), HistoryPage)
    assert [e.seq for e in first.messages] == [1, 2, 3, 4, 5]
    assert not first.has_more
    latest = alice.request(lambda rid: FetchHistory(rid, 1, before_seq=10**9), HistoryPage)
    assert [e.seq for e in latest.messages] == list(range(31, 131))  # bounded by the page limit of 100
    outsider = RawClient(server.address)
    assert outsider.refused(lambda rid: FetchHistory(rid, 1, before_seq=10)).code == "not_member"


def test_migration_from_schema_version_1_keeps_the_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = sqlite3.connect(db)
    old.executescript(MIGRATIONS[0])
    old.execute("PRAGMA user_version=1")
    old.execute(
        "INSERT INTO groups (name, name_key, password_hash, created_ts) VALUES ('legacy', 'legacy', ?, 0)",
        (hash_password("pw"),),
    )
    old.execute("INSERT INTO messages VALUES (1, 1, 1000, 'Alice', 'from the old days')")
    old.commit()
    old.close()

    store = SqliteStore(db)
    assert store.schema_version == SCHEMA_VERSION
    [message] = store.messages_after(1, 0, 10)
    assert (message.text, message.client_msg_id) == ("from the old days", None)
    store.close()
    server = start(db)
    try:
        client = RawClient(server.address)
        assert client.join(1, "pw", "Bob").last_seq == 1
        assert client.next_event(MessagePosted).text == "from the old days"
        assert client.request(lambda rid: SendMessage(rid, 1, "new", "id-1"), MessageAccepted).seq == 2
    finally:
        server.stop()


def test_a_resend_after_a_restart_gets_its_original_seq_without_since_seq(tmp_path: Path) -> None:
    """Issue 8 item 8, end to end: after a restart a resend was refused with internal forever, and
    failed the commit of every other message in its batch."""
    db = tmp_path / "chat.db"
    server = start(db)
    alice = RawClient(server.address)
    alice.create("one", "pw", "Alice")
    first = alice.request(lambda rid: SendMessage(rid, 1, "hello", "c-1"), MessageAccepted)
    assert server.stop() == 0
    server = start(db)
    try:
        alice, bob = RawClient(server.address), RawClient(server.address)
        bob.create("two", "pw", "Bob")
        alice.join(1, "pw", "alice")  # no since_seq, another spelling of the same name
        alice.send(SendMessage(50, 1, "hello", "c-1"))
        bob.send(SendMessage(51, 2, "innocent"))
        again = alice.wait_for(lambda e: getattr(e, "request_id", None) == 50)
        innocent = bob.wait_for(lambda e: getattr(e, "request_id", None) == 51)
        assert again == MessageAccepted(50, 1, first.seq, first.ts)
        assert isinstance(innocent, MessageAccepted)
        page = alice.request(lambda rid: FetchHistory(rid, 1, 100), HistoryPage)
        assert [e.text for e in page.messages] == ["hello"]  # stored once
    finally:
        server.stop()


def test_a_store_whose_groups_cannot_be_read_refuses_the_start_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    server = start(db)
    RawClient(server.address).create("one", "pw", "Alice")
    assert server.stop() == 0
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("UPDATE groups SET name = CAST(x'ff' AS TEXT)")  # not UTF-8: the groups cannot be loaded
    raw.close()
    status, lines = refused_start(db)
    assert status == 1
    assert_one_line_refusal(lines, "cannot load the groups from", str(db.resolve()))
