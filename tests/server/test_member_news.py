"""Optional features over real sockets (PROTOCOL.md §9): negotiation, typing, presence and renames."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from shared import (
    FEATURES,
    PROTOCOL_VERSION,
    Error,
    FetchHistory,
    GroupJoined,
    Hello,
    HistoryPage,
    JoinGroup,
    MemberJoined,
    MemberLeft,
    MemberPresence,
    MemberRenamed,
    MemberTyping,
    MessageAccepted,
    MessagePosted,
    PresenceSet,
    Rename,
    Renamed,
    SearchHistory,
    SearchResults,
    SendMessage,
    SetPresence,
    Typing,
    Welcome,
)
from tests.client.helpers import restart
from tests.conftest import Starter
from tests.helpers import RawClient

Address = tuple[str, int]


@pytest.fixture
def clients() -> Iterator[list[RawClient]]:
    opened: list[RawClient] = []
    yield opened
    for client in opened:
        client.close()


def connect(address: Address, opened: list[RawClient], features: tuple[str, ...] = FEATURES) -> RawClient:
    """A client whose hello asks for ``features`` (none: an old client); its welcome is checked."""
    client = RawClient(address, handshake=False)
    opened.append(client)
    welcome = client.request(lambda rid: Hello(rid, PROTOCOL_VERSION, "news-test", features), Welcome)
    assert welcome.features == (FEATURES if features else ())
    return client


def group_of_three(address: Address, clients: list[RawClient]) -> tuple[RawClient, RawClient, RawClient]:
    """Alice and Bob ask for every feature, Old asks for none; all three are in group 1."""
    alice, bob, old = connect(address, clients), connect(address, clients), connect(address, clients, ())
    alice.create("team", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    old.join(1, "pw", "Old")
    alice.wait_for(lambda e: e == MemberJoined(1, "Old"))
    bob.wait_for(lambda e: e == MemberJoined(1, "Old"))
    for client in (alice, bob, old):
        client.inbox.clear()  # the joins' news: each test starts from silence
    return alice, bob, old


def test_welcome_features_only_for_a_hello_that_names_features(server_address: Address) -> None:
    old = RawClient(server_address, handshake=False)
    try:
        old.send(Hello(1, PROTOCOL_VERSION, "v1"))
        old.sock.settimeout(5)
        data = old.sock.recv(65536)
        assert b"features" not in data  # an old client refuses unknown keys: the field is left out
        [welcome] = old.conn.receive_data(data)
        assert isinstance(welcome, Welcome)
        assert welcome.features == ()
    finally:
        old.close()


def test_typing_reaches_the_other_members_who_asked_only(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob, old = group_of_three(server_address, clients)
    alice.send(Typing(1))
    assert bob.next_event(MemberTyping) == MemberTyping(1, "Alice")
    alice.assert_silent()  # not echoed to the typist
    old.assert_silent()  # never sent to a connection that did not ask


def test_typing_over_the_rate_or_outside_the_group_is_dropped(start_server: Starter, clients: list[RawClient]) -> None:
    address = start_server("--typing-burst", "2", "--typing-rate", "0.001").address
    alice, bob = connect(address, clients), connect(address, clients)
    alice.create("team", "pw", "Alice")
    bob.join(1, "pw", "Bob")
    alice.next_event(MemberJoined)
    for _ in range(5):
        alice.send(Typing(1))
    alice.send(Typing(99))  # not a member: dropped, no error
    assert bob.next_event(MemberTyping) == MemberTyping(1, "Alice")
    assert bob.next_event(MemberTyping) == MemberTyping(1, "Alice")
    bob.assert_silent()
    alice.assert_silent()


def test_presence_goes_to_every_member_who_asked_and_to_later_joiners(
    server_address: Address, clients: list[RawClient]
) -> None:
    alice, bob, old = group_of_three(server_address, clients)
    set_ = alice.request(lambda rid: SetPresence(rid, True, "lunch"), PresenceSet)
    assert (set_.away, set_.reason) == (True, "lunch")
    assert alice.next_event(MemberPresence) == MemberPresence(1, "Alice", True, "lunch")
    assert bob.next_event(MemberPresence) == MemberPresence(1, "Alice", True, "lunch")
    old.assert_silent()

    carol = connect(server_address, clients)
    joined = carol.join(1, "pw", "Carol")
    assert "Alice" in joined.members
    assert carol.wait_for(lambda e: isinstance(e, MemberPresence)) == MemberPresence(1, "Alice", True, "lunch")

    alice.request(lambda rid: SetPresence(rid, False, "ignored when back"), PresenceSet)
    assert bob.wait_for(lambda e: isinstance(e, MemberPresence)) == MemberPresence(1, "Alice", False, "")


def test_an_away_joiner_is_announced_after_its_member_joined(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob = connect(server_address, clients), connect(server_address, clients)
    alice.create("team", "pw", "Alice")
    bob.request(lambda rid: SetPresence(rid, True, ""), PresenceSet)
    bob.join(1, "pw", "Bob")
    assert alice.next_event(MemberJoined) == MemberJoined(1, "Bob")
    assert alice.next_event(MemberPresence) == MemberPresence(1, "Bob", True, "")


def test_rename_is_announced_as_such_or_as_left_and_joined(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob, old = group_of_three(server_address, clients)
    renamed = alice.request(lambda rid: Rename(rid, 1, "Al"), Renamed)
    assert (renamed.group_id, renamed.name) == (1, "Al")
    assert bob.next_event(MemberRenamed) == MemberRenamed(1, "Alice", "Al")
    assert old.next_event(MemberLeft) == MemberLeft(1, "Alice")
    assert old.next_event(MemberJoined) == MemberJoined(1, "Al")

    # The new token is for the new name: a reconnect rejoins as "Al".
    alice.close()
    bob.wait_for(lambda e: e == MemberLeft(1, "Al"))
    back = connect(server_address, clients)
    rejoin = back.request(lambda rid: JoinGroup(rid, 1, None, "Al", resume_token=renamed.resume_token), GroupJoined)
    assert rejoin.name == "Al"


def test_rename_refusals(server_address: Address, clients: list[RawClient]) -> None:
    alice, bob, _old = group_of_three(server_address, clients)
    assert bob.refused(lambda rid: Rename(rid, 1, "ALICE")).code == "name_taken"
    assert bob.refused(lambda rid: Rename(rid, 7, "Robert")).code == "not_member"
    assert alice.request(lambda rid: Rename(rid, 1, "alice"), Renamed).name == "alice"  # your own name's case


def test_renames_and_presence_changes_have_their_own_budget(start_server: Starter, clients: list[RawClient]) -> None:
    address = start_server("--member-news-burst", "2", "--member-news-rate", "0.001").address
    alice = connect(address, clients)
    alice.create("team", "pw", "Alice")
    alice.request(lambda rid: Rename(rid, 1, "A1"), Renamed)
    alice.request(lambda rid: SetPresence(rid, True, ""), PresenceSet)
    refused = alice.refused(lambda rid: Rename(rid, 1, "A2"))
    assert isinstance(refused, Error)
    assert refused.code == "rate_limited"
    assert refused.retry_after_ms is not None


def test_an_action_is_one_for_those_who_asked_and_text_for_the_rest(
    server_address: Address, clients: list[RawClient]
) -> None:
    alice, bob, old = group_of_three(server_address, clients)
    accepted = alice.request(lambda rid: SendMessage(rid, 1, "waves", action=True), MessageAccepted)
    alice.request(lambda rid: SendMessage(rid, 1, "plain"), MessageAccepted)
    assert bob.next_event(MessagePosted) == MessagePosted(1, accepted.seq, accepted.ts, "Alice", "waves", True)
    assert old.next_event(MessagePosted) == MessagePosted(1, accepted.seq, accepted.ts, "Alice", "* Alice waves")
    assert (bob.next_event(MessagePosted).text, old.next_event(MessagePosted).text) == ("plain", "plain")
    alice.assert_silent()  # one reply each, nothing more

    page = bob.request(lambda rid: FetchHistory(rid, 1, 100), HistoryPage)
    assert [(m.text, m.seq in page.actions) for m in page.messages] == [("waves", True), ("plain", False)]
    page = old.request(lambda rid: FetchHistory(rid, 1, 100), HistoryPage)
    assert ([m.text for m in page.messages], page.actions) == (["* Alice waves", "plain"], ())

    carol, dave = connect(server_address, clients), connect(server_address, clients, ())
    carol.join(1, "pw", "Carol")
    dave.join(1, "pw", "Dave")
    assert carol.wait_for(lambda e: isinstance(e, MessagePosted)) == MessagePosted(
        1, accepted.seq, accepted.ts, "Alice", "waves", True
    )
    replayed = dave.wait_for(lambda e: isinstance(e, MessagePosted))
    assert isinstance(replayed, MessagePosted)
    assert (replayed.text, replayed.action) == ("* Alice waves", False)


def test_an_action_survives_a_restart(start_server: Starter, clients: list[RawClient]) -> None:
    server = start_server()
    alice = connect(server.address, clients)
    alice.create("team", "pw", "Alice")
    alice.request(lambda rid: SendMessage(rid, 1, "waves", action=True), MessageAccepted)
    server.stop()
    again = restart(server)
    try:
        bob = connect(again.address, clients)
        bob.join(1, "pw", "Bob")
        replayed = bob.wait_for(lambda e: isinstance(e, MessagePosted))
        assert isinstance(replayed, MessagePosted)
        assert (replayed.text, replayed.action) == ("waves", True)
    finally:
        again.stop()


def test_search_pages_newest_first_and_goes_on_past_its_scan(start_server: Starter, clients: list[RawClient]) -> None:
    address = start_server("--search-scan-rows", "4", "--message-burst", "100", "--message-rate", "1000").address
    alice, old = connect(address, clients), connect(address, clients, ())
    alice.create("team", "pw", "Alice")
    texts = ["Deploy one", "x", "y", "z", "w", "deploy TWO", "v", "waves DEPLOY"]
    for n, text in enumerate(texts):
        alice.request(partial(SendMessage, group_id=1, text=text, action=n == 7), MessageAccepted)
    first = alice.request(lambda rid: SearchHistory(rid, 1, "deploy", limit=10), SearchResults)
    assert ([h.seq for h in first.hits], first.actions, first.next_before_seq) == ([8, 6], (8,), 5)
    second = alice.request(lambda rid: SearchHistory(rid, 1, "deploy", first.next_before_seq), SearchResults)
    assert ([h.seq for h in second.hits], second.next_before_seq) == ([1], 0)
    limited = alice.request(lambda rid: SearchHistory(rid, 1, "deploy", limit=1), SearchResults)
    assert ([h.seq for h in limited.hits], limited.next_before_seq) == ([8], 8)

    old.join(1, "pw", "Old")
    seen = old.request(lambda rid: SearchHistory(rid, 1, "deploy", limit=10), SearchResults)
    assert ([h.text for h in seen.hits], seen.actions) == (["* Alice waves DEPLOY", "deploy TWO"], ())
    assert alice.refused(lambda rid: SearchHistory(rid, 2, "deploy")).code == "not_member"


def test_searches_have_their_own_budget(start_server: Starter, clients: list[RawClient]) -> None:
    address = start_server("--search-burst", "2", "--search-rate", "0.001").address
    alice = connect(address, clients)
    alice.create("team", "pw", "Alice")
    for _ in range(2):
        alice.request(lambda rid: SearchHistory(rid, 1, "x"), SearchResults)
    refused = alice.refused(lambda rid: SearchHistory(rid, 1, "x"))
    assert (refused.code, refused.retry_after_ms is not None) == ("rate_limited", True)
