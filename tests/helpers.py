"""Test helpers: an in-memory client/server Connection pair and a blocking socket client."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from chat_server.client import Client
from chat_server.config import ServerConfig
from chat_server.loop import ChatServer
from shared import (
    PROTOCOL_VERSION,
    Connection,
    CreateGroup,
    Error,
    Event,
    GroupCreated,
    GroupJoined,
    Hello,
    JoinGroup,
    Request,
    Role,
    Welcome,
)

E = TypeVar("E", bound=Event)


class ConnectionPair:
    """A client and a server ``Connection`` wired back to back, with no socket."""

    def __init__(self) -> None:
        self.client = Connection(Role.CLIENT)
        self.server = Connection(Role.SERVER)

    def client_sends(self, event: Event) -> list[Event]:
        return self.server.receive_data(self.client.send(event))

    def server_sends(self, event: Event) -> list[Event]:
        return self.client.receive_data(self.server.send(event))

    def handshake(self) -> None:
        self.client_sends(Hello(1, PROTOCOL_VERSION, "test"))
        self.server_sends(Welcome(1, PROTOCOL_VERSION, "test-server", 65536))


class RawClient:
    """A blocking test client over a real socket, speaking through ``shared.Connection``."""

    def __init__(
        self,
        address: tuple[str, int],
        *,
        handshake: bool = True,
        timeout: float = 10.0,
        sock: socket.socket | None = None,
    ) -> None:
        self.sock = sock or socket.create_connection(address, timeout=timeout)
        self.conn = Connection(Role.CLIENT)
        self.inbox: deque[Event] = deque()
        self._ids = itertools.count(1)
        self.timeout = timeout
        if handshake:
            self.request(lambda rid: Hello(rid, PROTOCOL_VERSION, "raw-test"), Welcome)

    def close(self) -> None:
        self.sock.close()

    def send(self, event: Event) -> None:
        self.sock.sendall(self.conn.send(event))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, make: Callable[[int], Request], expect: type[E]) -> E:
        """Send a request and wait for its reply, which must be of type ``expect``."""
        request_id = next(self._ids)
        self.send(make(request_id))
        reply = self.wait_for(lambda e: getattr(e, "request_id", None) == request_id)
        assert isinstance(reply, expect), reply
        return reply

    def refused(self, make: Callable[[int], Request]) -> Error:
        """Send a request that must be refused; return the Error."""
        return self.request(make, Error)

    def create(self, group_name: str, password: str, name: str) -> GroupCreated:
        return self.request(lambda rid: CreateGroup(rid, group_name, password, name), GroupCreated)

    def join(self, group_id: int, password: str, name: str) -> GroupJoined:
        return self.request(lambda rid: JoinGroup(rid, group_id, password, name), GroupJoined)

    def next_event(self, kind: type[E]) -> E:
        """The next event of type ``kind``, skipping nothing: any other event first is a failure."""
        event = self.wait_for(lambda _: True)
        assert isinstance(event, kind), event
        return event

    def wait_for(self, match: Callable[[Event], bool]) -> Event:
        """Receive until an event matches; earlier non-matching events stay in ``inbox`` in order."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.inbox:
                if match(event):
                    self.inbox.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event; inbox={list(self.inbox)}")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"server closed the connection; inbox={list(self.inbox)}")
            self.inbox.extend(self.conn.receive_data(data))

    def read_until_closed(self) -> list[Event]:
        """Every event until the server closes the connection (protocol errors included as raised)."""
        self.sock.settimeout(self.timeout)
        received = list(self.inbox)
        self.inbox.clear()
        while data := self.sock.recv(65536):
            received.extend(self.conn.receive_data(data))
        return received

    def assert_silent(self, seconds: float = 0.2) -> None:
        """Nothing arrives within ``seconds`` (used only to check something is *not* delivered)."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        self.inbox.extend(self.conn.receive_data(data))
        raise AssertionError(f"unexpected frames: {list(self.inbox)}")


class InProcessServer:
    """A real ``ChatServer`` on 127.0.0.1:0, its loop on a thread of this process.

    For tests that need what a child process cannot give: an injected clock, or the server's log
    records (``caplog``). ``failure`` holds what ended the loop, if anything did.
    """

    def __init__(self, config: ServerConfig, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.server = ChatServer(config, monotonic=monotonic)
        self.address = self.server.bind()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chat-server", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.server.serve_forever()
        except BaseException as exc:  # the test asserts on it: a loop that dies is the bug looked for
            self.failure = exc

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def served(self, sock: socket.socket) -> Client:
        """The server's record of the connection whose client end is ``sock``."""
        host, port = sock.getsockname()[:2]
        client = self.server.client_at((host, port))
        assert client is not None, f"no open connection from {host}:{port}"
        return client

    def stop(self, timeout: float = 15.0) -> None:
        self.server.request_stop()
        self._thread.join(timeout)


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
