"""ChatCore's message path without sockets: resends after a restart, per-message commit failures,
a locked database, storage errors, catch-up streaming and messages held at shutdown (issue 8)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chat_server.config import ServerConfig
from chat_server.core import Action, ChatCore, Replay, VerifyPassword
from chat_server.store import MemoryStore, SqliteStore, Store, StoreError
from shared import (
    CreateGroup,
    Error,
    Event,
    FetchHistory,
    GroupCreated,
    HistoryPage,
    JoinGroup,
    LeaveGroup,
    MessageAccepted,
    MessagePosted,
    SendMessage,
    decode,
)
from tests.server.test_core import NOW, sends

FAST = ServerConfig(message_burst=100_000, message_rate=100_000.0)


def open_core(store: Store, config: ServerConfig = FAST, clients: int = 3) -> ChatCore:
    core = ChatCore(config, store, decoy_hash="decoy")
    for cid in range(1, clients + 1):
        core.connect(cid, f"10.0.0.{cid}")
    return core


def create(core: ChatCore, cid: int, group: str, name: str) -> int:
    request = CreateGroup(1, group, "pw", name)
    core.handle(cid, request, NOW)
    [(_, created)] = sends(core.finish_create(cid, request, "hash-of-pw", NOW))
    assert isinstance(created, GroupCreated)
    return created.group_id


def join_actions(core: ChatCore, cid: int, group_id: int, name: str, since_seq: int | None = None) -> list[Action]:
    request = JoinGroup(2, group_id, "pw", name, since_seq)
    [job] = core.handle(cid, request, NOW)
    assert isinstance(job, VerifyPassword)
    return core.finish_join(cid, request, True, NOW)


def join(core: ChatCore, cid: int, group_id: int, name: str, since_seq: int | None = None) -> list[Event]:
    return [event for _, event in sends(join_actions(core, cid, group_id, name, since_seq))]


def answers(actions: list[Action], cid: int) -> dict[int, Event]:
    """The replies to ``cid``'s requests among the actions, by request id."""
    found: dict[int, Event] = {}
    for to, event in sends(actions):
        if to == (cid,) and (rid := getattr(event, "request_id", None)) is not None:
            found[rid] = event
    return found


# --- item 8: a resend of a stored client_msg_id ------------------------------------------------------


def restarted_after_a_message(path: Path) -> ChatCore:
    """A server that stored Alice's "hello" (client id c-1, seq 1 of group 1 "one", at NOW) in a group
    beside Bob's group 2 "two", then restarted: nothing of it is left in memory."""
    store = SqliteStore(path)
    core = open_core(store)
    assert create(core, 1, "one", "Alice") == 1
    assert create(core, 2, "two", "Bob") == 2
    core.handle(1, SendMessage(10, 1, "hello", "c-1"), NOW)
    assert answers(core.commit(), 1) == {10: MessageAccepted(10, 1, 1, int(NOW * 1000))}
    store.close()
    return open_core(SqliteStore(path))


def test_a_resend_after_a_restart_gets_the_original_seq_and_innocent_messages_are_stored(tmp_path: Path) -> None:
    """The issue's scenario: after a restart Alice resends an id already stored, in the same commit as
    Bob's message to another group. Once the resend failed the whole batch, Bob's message with it."""
    restarted = restarted_after_a_message(tmp_path / "chat.db")
    join(restarted, 1, 1, "Alice")  # without since_seq: the store must be asked all the same
    join(restarted, 2, 2, "Bob")
    restarted.handle(1, SendMessage(11, 1, "hello", "c-1"), NOW + 60)  # the resend
    restarted.handle(2, SendMessage(12, 2, "innocent"), NOW + 60)
    actions = restarted.commit()
    assert answers(actions, 1) == {11: MessageAccepted(11, 1, 1, int(NOW * 1000))}  # the original seq and ts
    assert answers(actions, 2) == {12: MessageAccepted(12, 2, 1, int((NOW + 60) * 1000))}


def test_a_resend_is_the_same_sender_by_name_key(tmp_path: Path) -> None:
    """ "ALICE" resending Alice's client_msg_id after a restart is Alice resending, not a new message."""
    restarted = restarted_after_a_message(tmp_path / "chat.db")
    join(restarted, 3, 1, "ALICE", since_seq=1)
    restarted.handle(3, SendMessage(11, 1, "hello", "c-1"), NOW + 1)
    assert answers(restarted.commit(), 3) == {11: MessageAccepted(11, 1, 1, int(NOW * 1000))}


def test_a_resend_after_its_id_left_the_cache_gets_the_original_seq() -> None:
    """The cache holds 1,024 ids per group; the 1,025th id back is answered from the store."""
    core = open_core(MemoryStore())
    create(core, 1, "one", "Alice")
    for i in range(1100):
        core.handle(1, SendMessage(i + 10, 1, f"m{i}", f"id-{i}"), NOW)
    core.commit()
    core.handle(1, SendMessage(5000, 1, "m0", "id-0"), NOW + 1)  # a fresh member: no since_seq involved
    assert answers(core.commit(), 1) == {5000: MessageAccepted(5000, 1, 1, int(NOW * 1000))}


def test_a_message_that_cannot_be_stored_is_refused_alone(tmp_path: Path) -> None:
    """One message of a batch collides with a damaged row holding its client id, which cannot be read
    back: only that message is refused; the rest of the batch is stored, and its group's later seqs
    close the gap."""
    path = tmp_path / "chat.db"
    store = SqliteStore(path)
    core = open_core(store)
    create(core, 1, "one", "Alice")
    create(core, 2, "two", "Bob")
    _insert_undecodable_message(path, 1, 99)  # client id "bad", from Alice, unreadable
    core.handle(1, SendMessage(10, 1, "doomed", "bad"), NOW)
    core.handle(2, SendMessage(11, 2, "innocent"), NOW)
    core.handle(1, SendMessage(12, 1, "after it"), NOW)
    actions = core.commit()
    alice, bob = answers(actions, 1), answers(actions, 2)
    assert isinstance(alice[10], Error)
    assert alice[10].code == "internal"
    assert alice[12] == MessageAccepted(12, 1, 1, int(NOW * 1000))  # seq 1: no gap where the refused one was
    assert bob == {11: MessageAccepted(11, 2, 1, int(NOW * 1000))}
    core.handle(1, SendMessage(13, 1, "next"), NOW)
    assert answers(core.commit(), 1)[13] == MessageAccepted(13, 1, 2, int(NOW * 1000))
    assert [m.seq for m in store.messages_before(1, 3, 10)] == [1, 2]


def test_a_resend_in_the_middle_of_a_batch_gives_its_seq_back_to_the_messages_after_it(tmp_path: Path) -> None:
    restarted = restarted_after_a_message(tmp_path / "chat.db")
    join(restarted, 1, 1, "Alice")
    join(restarted, 2, 1, "Bob")
    assert restarted.replay_chunk(2, 1, 0, 1 << 20)[1] is None  # Bob has caught up: live from here
    later = NOW + 5
    restarted.handle(1, SendMessage(11, 1, "new one", "c-2"), later)  # seq 2
    restarted.handle(1, SendMessage(12, 1, "hello", "c-1"), later)  # a resend: seq 1, not 3
    restarted.handle(1, SendMessage(13, 1, "again c-1", "c-1"), later)  # and again, from the cache now
    restarted.handle(1, SendMessage(14, 1, "new two"), later)  # seq 3, not 4
    actions = restarted.commit()
    ts, later_ts = int(NOW * 1000), int(later * 1000)
    assert answers(actions, 1) == {
        11: MessageAccepted(11, 1, 2, later_ts),
        12: MessageAccepted(12, 1, 1, ts),
        13: MessageAccepted(13, 1, 1, ts),
        14: MessageAccepted(14, 1, 3, later_ts),
    }
    assert _seqs_to(actions, 2) == [2, 3]  # Bob gets the new ones only
    restarted.handle(1, SendMessage(15, 1, "next"), later)
    assert answers(restarted.commit(), 1)[15] == MessageAccepted(15, 1, 4, later_ts)


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer: the server must not wait for it
    return other


def test_a_locked_database_keeps_the_batch_pending_then_stores_it(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    core = open_core(SqliteStore(path))
    create(core, 1, "one", "Alice")
    other = _hold_write_lock(path)
    core.handle(1, SendMessage(10, 1, "wait for me"), NOW)
    assert core.commit() == []  # not refused, not acknowledged: kept for a later turn
    assert core.next_deadline(NOW) is not None  # and the loop is asked to come back soon
    other.execute("ROLLBACK")
    assert answers(core.commit(), 1) == {10: MessageAccepted(10, 1, 1, int(NOW * 1000))}
    assert core.next_deadline(NOW) is None


def test_a_database_locked_for_too_long_refuses_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    config = ServerConfig(message_burst=100, store_busy_retries=2)
    core = open_core(SqliteStore(path), config)
    create(core, 1, "one", "Alice")
    other = _hold_write_lock(path)
    core.handle(1, SendMessage(10, 1, "wait for me"), NOW)
    assert core.commit() == []
    assert core.commit() == []
    [(_, refused)] = sends(core.commit())
    assert isinstance(refused, Error)
    assert refused.code == "internal"
    other.execute("ROLLBACK")
    core.handle(1, SendMessage(11, 1, "again"), NOW)
    assert answers(core.commit(), 1) == {11: MessageAccepted(11, 1, 1, int(NOW * 1000))}  # its seq is reused


# --- item 3: storage errors fail one request ---------------------------------------------------------


def _insert_undecodable_message(path: Path, group_id: int, seq: int) -> None:
    """A row whose text is not UTF-8 (as a damaged or foreign-written file can hold)."""
    db = sqlite3.connect(path, isolation_level=None)
    columns = [row[1] for row in db.execute("PRAGMA table_info(messages)")]
    values = {
        "group_id": group_id,
        "seq": seq,
        "ts": 0,
        "sender": "Alice",
        "sender_key": "alice",
        "client_msg_id": "bad",
        "action": 0,
    }
    placeholders = ", ".join("CAST(x'ff' AS TEXT)" if c == "text" else "?" for c in columns)
    params = [values.get(c) for c in columns if c != "text"]
    db.execute(f"INSERT INTO messages ({', '.join(columns)}) VALUES ({placeholders})", params)
    db.close()


def test_an_unreadable_row_fails_only_the_requests_that_read_it(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = SqliteStore(path)
    core = open_core(store)
    create(core, 1, "one", "Alice")
    store.close()
    _insert_undecodable_message(path, 1, 1)
    core = open_core(SqliteStore(path))
    join(core, 1, 1, "Alice", since_seq=1)
    core.handle(1, SendMessage(10, 1, "pending in this turn"), NOW)
    actions = core.handle(1, FetchHistory(11, 1, 10), NOW)  # commits first, then reads the bad row
    replies = answers(actions, 1)
    assert replies[10] == MessageAccepted(10, 1, 2, int(NOW * 1000))  # the commit's ack is not lost
    assert isinstance(replies[11], Error)
    assert replies[11].code == "internal"
    core.handle(1, SendMessage(12, 1, "same id", "bad"), NOW)  # collides with the bad row, unreadable
    core.handle(1, SendMessage(13, 1, "still fine"), NOW)
    replies = answers(core.commit(), 1)
    assert isinstance(replies[12], Error)
    assert replies[12].code == "internal"
    assert replies[13] == MessageAccepted(13, 1, 3, int(NOW * 1000))
    page = sends(core.handle(1, FetchHistory(14, 1, 10, 1), NOW))[-1][1]
    assert isinstance(page, HistoryPage)
    assert [e.text for e in page.messages] == ["still fine"]


def test_unreadable_groups_refuse_the_start_with_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = SqliteStore(path)
    create(open_core(store), 1, "one", "Alice")
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE groups SET name = CAST(x'ff' AS TEXT)")
    db.close()
    with pytest.raises(StoreError, match="cannot load the groups"):
        open_core(SqliteStore(path))


# --- item 9: catch-up streamed, switched to live without a gap or a repeat ---------------------------


def group_with_messages(count: int) -> ChatCore:
    """Alice's group 1 holding ``count`` stored messages, "m0" onwards."""
    core = open_core(MemoryStore())
    create(core, 1, "one", "Alice")
    for i in range(count):
        core.handle(1, SendMessage(i + 10, 1, f"m{i}"), NOW)
    core.commit()
    return core


def _seqs_to(actions: list[Action], cid: int) -> list[int]:
    return [e.seq for to, e in sends(actions) if cid in to and isinstance(e, MessagePosted)]


def test_a_catch_up_streams_then_goes_live_with_nothing_missed_or_repeated() -> None:
    core = group_with_messages(30)
    [joined, *_] = join(core, 2, 1, "Bob", since_seq=0)
    assert getattr(joined, "last_seq", None) == 30
    replays = [(a.group_id, a.after_seq) for a in join_actions(core, 3, 1, "Carol", 25) if isinstance(a, Replay)]
    assert replays == [(1, 25)]  # Carol has seen up to 25: her catch-up starts after it
    received: list[int] = []
    after: int | None = 0
    turn = 0
    while after is not None:
        frames, after = core.replay_chunk(2, 1, after, 300)
        assert frames  # each call makes progress
        received += [decode(f[4:]).seq for f in frames]  # type: ignore[attr-defined]
        turn += 1
        core.handle(1, SendMessage(100 + turn, 1, f"live {turn}"), NOW)  # committed between chunks
        received += _seqs_to(core.commit(), 2)
    core.handle(1, SendMessage(200, 1, "after the switch"), NOW)
    received += _seqs_to(core.commit(), 2)
    assert received == list(range(1, 30 + turn + 2))  # every seq once, in order
    assert turn > 3  # it really was streamed in several chunks


def test_a_catch_up_ends_with_messages_still_pending_in_the_turn() -> None:
    core = group_with_messages(5)
    join(core, 2, 1, "Bob", since_seq=0)
    core.handle(1, SendMessage(20, 1, "posted, not yet stored"), NOW)  # seq 6, pending
    frames, after = core.replay_chunk(2, 1, 0, 1 << 20)
    assert (len(frames), after) == (5, None)  # caught up with what is stored: live from here
    assert _seqs_to(core.commit(), 2) == [6]


def test_a_replay_for_a_member_who_left_is_empty() -> None:
    core = group_with_messages(1)
    join(core, 2, 1, "Bob", since_seq=0)
    core.disconnect(2)
    assert core.replay_chunk(2, 1, 0, 1000) == ([], None)


# --- item 2: held messages at shutdown -----------------------------------------------------------------


def test_every_held_message_is_released_at_shutdown_and_acknowledged() -> None:
    config = ServerConfig(message_burst=1, message_rate=0.001, message_queue=10)
    core = open_core(MemoryStore(), config)
    create(core, 1, "one", "Alice")
    for i in range(5):
        core.handle(1, SendMessage(i + 10, 1, f"m{i}"), NOW)
    first = answers(core.commit(), 1)
    assert list(first) == [10]  # the burst; four are held
    assert core.release_all_held(NOW + 0.001) == []  # posted, acknowledged by the next commit
    acked = answers(core.commit(), 1)
    assert [(rid, getattr(e, "seq", None)) for rid, e in acked.items()] == [(11, 2), (12, 3), (13, 4), (14, 5)]
    assert core.next_deadline(NOW) is None


def test_a_stale_replay_from_before_a_rejoin_sends_nothing() -> None:
    """Bob leaves and rejoins while his first catch-up is still being streamed: only the second runs."""
    core = group_with_messages(10)
    join(core, 2, 1, "Bob", since_seq=0)
    frames, first_after = core.replay_chunk(2, 1, 0, 1)
    assert len(frames) == 1
    assert first_after == 1
    core.handle(2, LeaveGroup(3, 1), NOW)
    join(core, 2, 1, "Bob", since_seq=5)
    assert first_after is not None
    assert core.replay_chunk(2, 1, first_after, 1 << 20) == ([], None)  # the old stream ends
    frames, after = core.replay_chunk(2, 1, 5, 1 << 20)
    assert ([decode(f[4:]).seq for f in frames], after) == ([6, 7, 8, 9, 10], None)  # type: ignore[attr-defined]
