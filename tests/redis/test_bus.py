"""The bus: events decode from anything without raising, and the listener survives garbage and Redis restarts."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from chat_server.cluster.bus import BusListener
from chat_server.cluster.events import (
    Event,
    GroupAdded,
    Joined,
    Left,
    MemberRenamed,
    Posted,
    Presence,
    Resync,
    TypingNews,
    WireEvent,
    decode_event,
)
from chat_server.store import StoredMessage
from chat_server.store.redis import BUS_CHANNEL, RedisStore
from tests.redis.redis_server import RedisServer

DEADLINE = 10.0

_ids = st.integers(min_value=0, max_value=2**53)
_text = st.text(max_size=30)
_events = st.one_of(
    st.builds(Posted, _text, _ids, _ids, _ids, _text, _text, st.booleans()),
    st.builds(Joined, _text, _ids, _ids, _text, st.booleans(), _text),
    st.builds(Left, _text, _ids, _ids, _text),
    st.builds(MemberRenamed, _text, _ids, _ids, _text, _text),
    st.builds(Presence, _text, _ids, _ids, _text, st.booleans(), _text),
    st.builds(TypingNews, _text, _ids, _text),
    st.builds(GroupAdded, _ids),
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.floats() | st.text()
    | st.binary() | st.sampled_from(["p", "j", "l", "r", "a", "t", "g"]),
    lambda inner: st.lists(inner, max_size=9) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=20,
)  # fmt: skip


@given(_events)
def test_every_event_survives_its_wire_form(event: WireEvent) -> None:
    assert decode_event(event.encode()) == event


@given(st.binary(max_size=200))
def test_any_bytes_decode_to_an_event_or_none(data: bytes) -> None:
    assert decode_event(data) is None or isinstance(decode_event(data), WireEvent)


@given(_values)
def test_any_msgpack_value_decodes_to_an_event_or_none(value: Any) -> None:
    decoded = decode_event(msgpack.packb(value))
    assert decoded is None or decoded.encode() == msgpack.packb(value)


@given(_events, st.data())
def test_a_damaged_event_is_none_or_another_valid_event(event: WireEvent, data: st.DataObject) -> None:
    wire = bytearray(event.encode())
    index = data.draw(st.integers(0, len(wire) - 1))
    wire[index] = data.draw(st.integers(0, 255))
    decoded = decode_event(bytes(wire[: data.draw(st.integers(0, len(wire)))]))
    assert decoded is None or decode_event(decoded.encode()) == decoded


def test_decode_refuses_wrong_kinds_of_fields() -> None:
    assert decode_event(msgpack.packb(["g", True])) is None  # a bool is no id
    assert decode_event(msgpack.packb(["g", -1])) is None
    assert decode_event(msgpack.packb(["g", 1.0])) is None
    assert decode_event(msgpack.packb(["g", 1, 2])) is None
    assert decode_event(msgpack.packb(["l", "n", 1, 2, b"name"])) is None
    assert decode_event(msgpack.packb(["x", 1])) is None
    assert decode_event(msgpack.packb(["g", 1]) + b"\x00") is None
    assert decode_event(msgpack.packb(["g", 1])) == GroupAdded(1)


class Inbox:
    """The loop's side of a listener: woken through ``wake``, it drains events() into ``got``."""

    def __init__(self) -> None:
        self.woken = threading.Event()
        self.got: list[Event] = []

    def wake(self) -> None:
        self.woken.set()

    def until(self, listener: BusListener, check: Callable[[list[Event]], bool]) -> list[Event]:
        deadline = time.monotonic() + DEADLINE
        while not check(self.got):
            assert time.monotonic() < deadline, f"still waiting; got {self.got}"
            self.woken.wait(0.1)
            self.woken.clear()
            self.got += listener.events()
        return self.got


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def listener(redis_server: RedisServer, inbox: Inbox) -> Iterator[BusListener]:
    started = BusListener(redis_server.url, inbox.wake)
    started.start()
    yield started
    started.stop()
    assert not started.running


@pytest.fixture
def publisher(redis_server: RedisServer) -> Iterator[Any]:
    client: Any = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def _resyncs(events: list[Event]) -> int:
    return sum(isinstance(e, Resync) for e in events)


def _resynced(events: list[Event]) -> bool:
    return _resyncs(events) > 0


def test_the_listener_says_resync_first_then_passes_events_on(
    listener: BusListener, inbox: Inbox, redis_server: RedisServer
) -> None:
    assert inbox.until(listener, _resynced) == [Resync()]
    store = RedisStore(redis_server.url)
    group = store.create_group("team", "team", "h", 0)
    store.commit([StoredMessage(group, 0, 5, "Ann", "hi")], "a")
    store.close()
    assert inbox.until(listener, lambda got: len(got) == 3)[1:] == [
        GroupAdded(group),
        Posted("a", group, 1, 5, "Ann", "hi", False),
    ]


def test_garbage_on_the_channel_is_dropped_and_the_listener_goes_on(
    listener: BusListener, inbox: Inbox, publisher: Any
) -> None:
    inbox.until(listener, _resynced)
    for junk in (b"", b"\xc1", b"not msgpack", msgpack.packb({"p": 1}), msgpack.packb(["p", 1]), b"\x91" * 5000):
        publisher.publish(BUS_CHANNEL, junk)
    publisher.publish(BUS_CHANNEL, GroupAdded(7).encode())
    assert inbox.until(listener, lambda got: len(got) == 2) == [Resync(), GroupAdded(7)]
    assert listener.running


def test_after_redis_is_killed_and_restarted_the_listener_resubscribes_and_says_resync(
    listener: BusListener, inbox: Inbox, redis_server: RedisServer
) -> None:
    inbox.until(listener, _resynced)
    redis_server.kill()
    redis_server.start()
    inbox.until(listener, lambda got: _resyncs(got) == 2)
    client: Any = redis.Redis.from_url(redis_server.url)
    client.publish(BUS_CHANNEL, GroupAdded(3).encode())
    client.close()
    assert inbox.until(listener, lambda got: GroupAdded(3) in got)[-2:] == [Resync(), GroupAdded(3)]


def test_a_full_queue_drops_events_and_owes_a_resync(redis_server: RedisServer, inbox: Inbox, publisher: Any) -> None:
    listener = BusListener(redis_server.url, inbox.wake, limit=3)
    listener.start()
    inbox.until(listener, _resynced)
    for group in range(1, 11):
        publisher.publish(BUS_CHANNEL, GroupAdded(group).encode())
    deadline = time.monotonic() + DEADLINE
    while listener.dropped < 7:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert listener.events() == [GroupAdded(1), GroupAdded(2), GroupAdded(3), Resync()]
    assert listener.events() == []
    publisher.publish(BUS_CHANNEL, GroupAdded(11).encode())
    assert inbox.until(listener, lambda got: GroupAdded(11) in got)[-1] == GroupAdded(11)
    listener.stop()
    assert not listener.running


def test_a_listener_started_while_redis_is_down_waits_for_it_and_stops_when_told(
    redis_server: RedisServer, inbox: Inbox
) -> None:
    redis_server.stop()
    listener = BusListener(redis_server.url, inbox.wake)
    listener.start()
    assert listener.events() == []
    redis_server.start()
    inbox.until(listener, _resynced)
    redis_server.stop()
    listener.stop()  # while it retries
    assert not listener.running


def test_a_redis_that_stops_answering_without_closing_the_link_is_left_and_found_again(
    redis_server: RedisServer, inbox: Inbox
) -> None:
    listener = BusListener(redis_server.url, inbox.wake, silence=0.2)
    listener.start()
    inbox.until(listener, _resynced)
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)  # a cut cable: the socket stays open, nothing answers
    try:
        deadline = time.monotonic() + DEADLINE
        while listener.connected:
            assert time.monotonic() < deadline, "the listener still trusts a Redis that does not answer"
            time.sleep(0.05)
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    inbox.until(listener, lambda got: _resyncs(got) == 2)
    listener.stop()
