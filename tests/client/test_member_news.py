"""ChatSession's optional features against a real server: typing, away and renames (PROTOCOL.md §9)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import partial

import pytest

from chat_tui.session import ChatSession, GroupTimeline, MembersChanged, RequestRefused
from shared import FEATURES, MemberJoined, MemberLeft
from tests.client.helpers import Servers, Watch, peer_in


@pytest.fixture
async def pair(servers: Servers) -> AsyncIterator[tuple[ChatSession, ChatSession, int]]:
    """Alice's and Bob's sessions, both in one group."""
    alice, bob = ChatSession(*servers.current.address), ChatSession(*servers.current.address)
    await alice.connect()
    await bob.connect()
    group_id = (await alice.create_group("Lobby", "pw", "Alice")).group_id
    await bob.join_group(group_id, "pw", "Bob")
    await Watch(alice.timeline(group_id)).until(lambda: "Bob" in alice.timeline(group_id).members)
    yield alice, bob, group_id
    await alice.close()
    await bob.close()


async def test_features_come_from_welcome(pair: tuple[ChatSession, ChatSession, int]) -> None:
    alice, _bob, _group_id = pair
    assert alice.features == frozenset(FEATURES)


async def test_typing_shows_for_five_seconds_and_is_sent_once_per_interval(
    pair: tuple[ChatSession, ChatSession, int],
) -> None:
    alice, bob, group_id = pair
    timeline = bob.timeline(group_id)
    news: list[object] = []
    timeline.listen(news.append)
    alice.typing(group_id)
    alice.typing(group_id)  # within 3 s: not sent
    await Watch(timeline).until(lambda: timeline.typing_names(time.time()) == ["Alice"])
    assert MembersChanged() in news
    assert timeline.typing_names(time.time() + 5.1) == []  # expired
    # A message behind the typing frames (TCP keeps the order): had a second been sent, it came first.
    await alice.send(group_id, "after")
    watch = Watch(timeline)
    await watch.until(lambda: watch.has("after"))
    assert news.count(MembersChanged()) == 1  # one typing frame (already expired when the message came)


async def test_a_message_ends_typing(pair: tuple[ChatSession, ChatSession, int]) -> None:
    alice, bob, group_id = pair
    timeline = bob.timeline(group_id)
    alice.typing(group_id)
    watch = Watch(timeline)
    await watch.until(lambda: timeline.typing_names(time.time()) == ["Alice"])
    await alice.send(group_id, "done typing")
    await watch.until(lambda: watch.has("done typing"))
    assert timeline.typing_names(time.time()) == []


async def test_away_and_back_reach_the_other_session(pair: tuple[ChatSession, ChatSession, int]) -> None:
    alice, bob, group_id = pair
    timeline = bob.timeline(group_id)
    watch = Watch(timeline)
    await alice.set_away("lunch")
    await watch.until(lambda: timeline.presence("Alice") == (True, "lunch"))
    assert alice.timeline(group_id).presence("Alice") == (True, "lunch")  # our own too
    await alice.set_away(None)
    await watch.until(lambda: timeline.presence("Alice") == (False, ""))


async def test_rename_updates_both_rosters_with_a_notice(pair: tuple[ChatSession, ChatSession, int]) -> None:
    alice, bob, group_id = pair
    await alice.rename(group_id, "Al")
    own = alice.timeline(group_id)
    assert own.you == "Al"
    assert own.members == ["Al", "Bob"]
    timeline = bob.timeline(group_id)
    watch = Watch(timeline)
    await watch.until(lambda: timeline.members == ["Al", "Bob"])
    notices = [entry.text for entry in timeline.entries if entry.kind == "notice"]
    assert "Alice is now known as Al" in notices
    with pytest.raises(RequestRefused) as refused:
        await bob.rename(group_id, "AL")
    assert refused.value.code == "name_taken"


async def test_an_old_client_sees_a_rename_as_left_and_joined(
    servers: Servers, pair: tuple[ChatSession, ChatSession, int]
) -> None:
    alice, _bob, group_id = pair
    old = await peer_in(servers.current.address, group_id, "Old")  # a RawClient: its hello names no feature
    try:
        await alice.rename(group_id, "Al")
        left = await asyncio.to_thread(old.wait_for, lambda e: isinstance(e, MemberLeft))
        joined = await asyncio.to_thread(old.wait_for, lambda e: e == MemberJoined(group_id, "Al"))
        assert left == MemberLeft(group_id, "Alice")
        assert joined == MemberJoined(group_id, "Al")
    finally:
        old.close()


async def test_an_action_is_an_action_entry_live_acknowledged_and_paged(
    pair: tuple[ChatSession, ChatSession, int],
) -> None:
    alice, bob, group_id = pair
    await alice.send(group_id, "waves", action=True)
    own, theirs = alice.timeline(group_id), bob.timeline(group_id)
    for timeline in (own, theirs):
        await Watch(timeline).until(partial(_shows_action, timeline))
    page = await bob.fetch_history(group_id, 10**6)
    assert [(m.text, m.seq in page.actions) for m in page.messages] == [("waves", True)]


def _shows_action(timeline: GroupTimeline) -> bool:
    return [(e.sender, e.text, e.state) for e in timeline.entries if e.kind == "action"] == [("Alice", "waves", "sent")]


async def test_search_pages_through_a_groups_history(pair: tuple[ChatSession, ChatSession, int]) -> None:
    alice, bob, group_id = pair
    for text in ("deploy at noon", "lunch", "DEPLOY done"):
        await alice.send(group_id, text)
    await alice.send(group_id, "deploys again", action=True)
    watch = Watch(bob.timeline(group_id))
    await watch.until(lambda: any(e.kind == "action" for e in bob.timeline(group_id).entries))
    found = await bob.search(group_id, "Deploy")
    assert [hit.text for hit in found.hits] == ["deploys again", "DEPLOY done", "deploy at noon"]
    assert (found.next_before_seq, found.actions) == (0, frozenset({found.hits[0].seq}))
    page = await bob.search(group_id, "deploy", limit=1)
    assert ([hit.text for hit in page.hits], page.next_before_seq) == (["deploys again"], page.hits[0].seq)
    older = await bob.search(group_id, "deploy", before_seq=page.next_before_seq, limit=1)
    assert [hit.text for hit in older.hits] == ["DEPLOY done"]
