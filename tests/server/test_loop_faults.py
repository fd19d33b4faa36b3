"""Fault isolation is a property of the loop: a failure while serving one connection ends that one.

The failures are injected into the real core of a real in-process server (a bug stands in for
whatever the next bug will be); the loop must answer ``internal``, log the traceback, and go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from chat_server.config import ServerConfig
from chat_server.core import ChatCore
from shared import Connection, Error, Event, JoinGroup, MemberJoined, MessageAccepted, MessagePosted, Role, SendMessage
from tests.helpers import InProcessServer, RawClient

BOOM = "the injected bug"


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    running = InProcessServer(ServerConfig(port=0, store_url="memory:"))
    yield running
    running.stop()


def _explode(*_: object) -> list[object]:
    raise RuntimeError(BOOM)


def _handle_exploding_on(core: ChatCore, text: str) -> Callable[..., object]:
    handle = core.handle

    def exploding(client_id: int, event: Event, now: float) -> object:
        if isinstance(event, SendMessage) and event.text == text:
            raise RuntimeError(BOOM)
        return handle(client_id, event, now)

    return exploding


def _closed_with_internal(client: RawClient) -> None:
    events = client.read_until_closed()
    errors = [e for e in events if isinstance(e, Error)]
    assert [(e.request_id, e.code) for e in errors] == [(None, "internal")], events


def _chatting(alice: RawClient, carol: RawClient, text: str) -> None:
    alice.request(lambda rid: SendMessage(rid, 1, text), MessageAccepted)
    posted = carol.wait_for(lambda e: isinstance(e, MessagePosted))
    assert isinstance(posted, MessagePosted)
    assert posted.text == text


def _group_of_two(server: InProcessServer) -> tuple[RawClient, RawClient]:
    alice, carol = RawClient(server.address), RawClient(server.address)
    alice.create("team", "pw", "Alice")
    carol.join(1, "pw", "Carol")
    assert alice.next_event(MemberJoined) == MemberJoined(1, "Carol")
    return alice, carol


def _assert_logged_with_traceback(caplog: pytest.LogCaptureFixture, during: str) -> None:
    failures = [r for r in caplog.records if r.getMessage().startswith("internal error: conn=")]
    assert failures, caplog.text
    assert failures[0].exc_info is not None
    assert BOOM in str(failures[0].exc_info[1])
    assert during in failures[0].getMessage()


def test_an_exception_handling_a_request_closes_only_that_connection(
    server: InProcessServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, "chat_server")
    alice, carol = _group_of_two(server)
    bob = RawClient(server.address)
    bob.join(1, "pw", "Bob")
    monkeypatch.setattr(server.server.core, "handle", _handle_exploding_on(server.server.core, "crash"))
    bob.send(SendMessage(50, 1, "crash"))
    _closed_with_internal(bob)
    _assert_logged_with_traceback(caplog, "reading")  # requests are handled as soon as they are read
    assert "connection error: conn=3 address=127.0.0.1:" in caplog.text  # key=value, one line
    _chatting(alice, carol, "the loop went on")
    assert server.alive


def test_an_exception_finishing_a_password_check_closes_only_that_connection(
    server: InProcessServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, carol = _group_of_two(server)
    monkeypatch.setattr(server.server.core, "finish_join", _explode)
    bob = RawClient(server.address)
    bob.send(JoinGroup(9, 1, "pw", "Bob"))
    _closed_with_internal(bob)
    _assert_logged_with_traceback(caplog, "finishing a password check")
    _chatting(alice, carol, "the loop went on")


def test_an_exception_in_a_catch_up_replay_closes_only_that_connection(
    server: InProcessServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, carol = _group_of_two(server)
    _chatting(alice, carol, "something to catch up on")
    monkeypatch.setattr(server.server.core, "replay_chunk", _explode)
    bob = RawClient(server.address)
    bob.send(JoinGroup(9, 1, "pw", "Bob", since_seq=0))
    _closed_with_internal(bob)
    _assert_logged_with_traceback(caplog, "replaying")
    _chatting(alice, carol, "the loop went on")


def test_an_exception_decoding_closes_only_that_connection(
    server: InProcessServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, carol = _group_of_two(server)
    bob = RawClient(server.address)
    victim = server.served(bob.sock)

    class Exploding(Connection):  # Connection has __slots__: a method cannot be patched on one instance
        __slots__ = ()

        def receive_data(self, data: bytes) -> list[Event]:  # noqa: ARG002 - the signature it overrides
            raise RuntimeError(BOOM)

    monkeypatch.setattr(victim, "conn", Exploding(Role.SERVER))
    bob.send(SendMessage(5, 1, "anything"))
    _closed_with_internal(bob)
    _assert_logged_with_traceback(caplog, "reading")
    _chatting(alice, carol, "the loop went on")
