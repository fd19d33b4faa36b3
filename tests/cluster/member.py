"""A person connected to one server process of a cluster: a blocking client that remembers what it saw.

Not ``tests.helpers.RawClient``: that one hands each event out once and forgets it, and never answers a
ping. Here a test asks questions of everything a member has received so far ("whom does bob@B think is
in group 1?", "which messages has he been posted?") and waits, with a deadline, until the answer is
the one expected; and a member idle through a Redis outage must stay connected, so pings get pongs.
Every failure names the member and its process ("bob@B") and ends with what it received last.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import NoReturn, Protocol, TypeVar

from shared import (
    FEATURES,
    PROTOCOL_VERSION,
    Connection,
    CreateGroup,
    Error,
    Event,
    FetchHistory,
    GroupCreated,
    GroupJoined,
    GroupLeft,
    Hello,
    HistoryEntry,
    HistoryPage,
    JoinGroup,
    LeaveGroup,
    MemberJoined,
    MemberLeft,
    MemberList,
    MemberRenamed,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    Renamed,
    Request,
    Role,
    SendMessage,
    Welcome,
)

E = TypeVar("E", bound=Event)
T = TypeVar("T")

# Generous: three server processes, a redis-server and the test share a small CI machine. A deadline is
# only ever how long we wait for something that must happen, never a claim about speed.
DEFAULT_TIMEOUT = 20.0
_REPR_MAX = 240
_TAIL = 12  # events shown in a failure message: enough to see what came instead, short enough to read


class Addressed(Protocol):
    """What a member needs of a server process: where it listens and what to call it in messages."""

    @property
    def label(self) -> str: ...

    @property
    def address(self) -> tuple[str, int]: ...


class Member:
    """One connection to one server process, speaking through ``shared.Connection``.

    ``received`` holds every event from the server, in order (pings excepted). Use one member from one
    thread at a time.
    """

    def __init__(self, node: Addressed, name: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.name = name
        self.label = f"{name}@{node.label}"
        self.timeout = timeout
        self.received: list[Event] = []
        self._replies: dict[int, Event] = {}
        self._sent: dict[int, Request] = {}  # unanswered requests, for failure messages
        self._ids = itertools.count(1)
        self._conn = Connection(Role.CLIENT)
        self._sock = socket.create_connection(node.address, timeout=timeout)
        self._closed = False
        # Every optional feature, as a current client asks: renames, presence and typing news included.
        self.expect(lambda rid: Hello(rid, PROTOCOL_VERSION, f"cluster-test {self.label}", FEATURES), Welcome)

    def close(self) -> None:
        self._sock.close()

    # -- waiting -------------------------------------------------------------------------------------

    def until(self, found: Callable[[], T | None], what: str | Callable[[], str], timeout: float | None = None) -> T:
        """Receive until ``found()`` gives something other than None or False, and return it.

        Raises:
            AssertionError: not within ``timeout`` seconds (default: the member's), or the server
                closed the connection; the message says who waited for what and what came instead.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            result = found()
            if result is not None and result is not False:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.fail(f"waited {timeout or self.timeout:g} s for {what if isinstance(what, str) else what()}")
            self._receive(remaining)

    def fail(self, what: str) -> NoReturn:
        tail = "\n    ".join(_short(e) for e in self.received[-_TAIL:]) or "(nothing)"
        raise AssertionError(f"{self.label}: {what}; last of {len(self.received)} events received:\n    {tail}")

    def _receive(self, timeout: float) -> None:
        if self._closed:
            self.fail("the server had closed the connection")
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return
        except OSError as exc:
            self._closed = True
            self.fail(f"connection lost ({exc})")
        if not data:
            self._closed = True
            self.fail("the server closed the connection")
        self._handle(data)

    def is_connected(self) -> bool:
        """Whether the server still holds the connection open (reads what is waiting, without blocking)."""
        if not self._closed:
            self._sock.setblocking(False)
            try:
                while data := self._sock.recv(65536):
                    self._handle(data)
                self._closed = True  # recv gave b"": the server closed it
            except BlockingIOError:
                pass
            except OSError:
                self._closed = True
            finally:
                self._sock.setblocking(True)
        return not self._closed

    def _handle(self, data: bytes) -> None:
        for event in self._conn.receive_data(data):
            if isinstance(event, Ping):
                self._send(Pong(event.nonce))
            else:
                self.received.append(event)
                if (request_id := getattr(event, "request_id", None)) is not None:
                    self._replies[request_id] = event

    # -- requests ------------------------------------------------------------------------------------

    def _send(self, event: Event) -> None:
        self._sock.sendall(self._conn.send(event))

    def notify(self, event: Event) -> None:
        """Send a frame that is not a request (``typing``): nothing comes back for it."""
        self._send(event)

    def request(self, make: Callable[[int], Request]) -> Event:
        """Send a request and return its reply, whatever it is."""
        return self.reply(self.submit(make))

    def submit(self, make: Callable[[int], Request]) -> int:
        """Send a request without waiting for its reply (see :meth:`reply`); returns its id."""
        request_id = next(self._ids)
        self._sent[request_id] = make(request_id)
        self._send(self._sent[request_id])
        return request_id

    def reply(self, request_id: int) -> Event:
        """Wait for the reply to an earlier :meth:`submit`."""
        sent = self._sent.pop(request_id)
        return self.until(lambda: self._replies.pop(request_id, None), f"the reply to {sent!r}")

    def expect(self, make: Callable[[int], Request], kind: type[E]) -> E:
        """Send a request whose reply must be a ``kind``."""
        reply = self.request(make)
        if not isinstance(reply, kind):
            self.fail(f"{make(0)!r} was answered {reply!r}, not {kind.__name__}")
        return reply

    def refused(self, make: Callable[[int], Request], code: str) -> Error:
        """Send a request that must be refused with error ``code``."""
        reply = self.expect(make, Error)
        if reply.code != code:
            self.fail(f"{make(0)!r} was refused with {reply!r}, not {code!r}")
        return reply

    def create(self, group_name: str, password: str) -> GroupCreated:
        return self.expect(lambda rid: CreateGroup(rid, group_name, password, self.name), GroupCreated)

    def join(
        self,
        group_id: int,
        password: str | None = None,
        *,
        resume_token: str | None = None,
        since_seq: int | None = None,
    ) -> GroupJoined:
        """Join under this member's name; returns once the whole member list has come."""
        reply = self.expect(self.joining(group_id, password, resume_token, since_seq), GroupJoined)
        self.until(lambda: self._complete_roster(group_id), f"the last member_list page of group {group_id}")
        return reply

    def joining(
        self, group_id: int, password: str | None = None, resume_token: str | None = None, since_seq: int | None = None
    ) -> Callable[[int], JoinGroup]:
        """The join request, for tests that expect it refused."""
        return lambda rid: JoinGroup(rid, group_id, password, self.name, since_seq, resume_token)

    def leave(self, group_id: int) -> None:
        self.expect(lambda rid: LeaveGroup(rid, group_id), GroupLeft)

    def send(self, group_id: int, text: str, client_msg_id: str | None = None) -> MessageAccepted | Error:
        """Send a message; the reply is its acceptance or a refusal (anything else fails the test)."""
        reply = self.request(lambda rid: SendMessage(rid, group_id, text, client_msg_id))
        if not isinstance(reply, MessageAccepted | Error):
            self.fail(f"send_message {text!r} was answered {reply!r}")
        return reply

    def post(self, group_id: int, text: str, client_msg_id: str | None = None) -> MessageAccepted:
        """Send a message that must be accepted."""
        reply = self.send(group_id, text, client_msg_id)
        if not isinstance(reply, MessageAccepted):
            self.fail(f"send_message {text!r} to group {group_id} was refused: {reply!r}")
        return reply

    def history(self, group_id: int) -> list[HistoryEntry]:
        """The group's whole stored log as this member's server process reads it, oldest first."""
        entries: list[HistoryEntry] = []
        before = 2**53 - 1
        while True:
            page = self.expect(partial(FetchHistory, group_id=group_id, before_seq=before, limit=100), HistoryPage)
            entries[:0] = page.messages
            if not page.has_more or not page.messages:
                return entries
            before = page.messages[0].seq

    # -- what this member has seen ---------------------------------------------------------------------

    def roster(self, group_id: int) -> set[str]:
        """The group's members as this member knows them: its join's list, then the news since."""
        members: set[str] = set()
        mine = ""  # this member's own name in the group: its own rename comes as a reply, not as news
        for event in self.received:
            if getattr(event, "group_id", None) != group_id:
                continue
            if isinstance(event, GroupCreated | GroupJoined):
                mine = event.name
                members = set(event.members) if isinstance(event, GroupJoined) else {mine}
            elif isinstance(event, Renamed):
                members = (members - {mine}) | {event.name}
                mine = event.name
            elif isinstance(event, MemberList | MemberJoined):
                members |= set(event.members) if isinstance(event, MemberList) else {event.name}
            elif isinstance(event, MemberLeft):
                members.discard(event.name)
            elif isinstance(event, MemberRenamed):
                members = (members - {event.old}) | {event.new}
            elif isinstance(event, GroupLeft):
                members = set()
        return members

    def _complete_roster(self, group_id: int) -> bool:
        """Whether the member list pages after this member's latest join of the group have all come."""
        for event in reversed(self.received):
            if isinstance(event, MemberList) and event.group_id == group_id:
                return not event.more
            if isinstance(event, GroupJoined) and event.group_id == group_id:
                return not event.more_members
        return False

    def wait_roster(self, group_id: int, expected: set[str], timeout: float | None = None) -> None:
        """Receive until this member's view of the group's members is exactly ``expected``."""
        self.until(
            lambda: self.roster(group_id) == expected,
            lambda: f"members {sorted(expected)} in group {group_id} (has {sorted(self.roster(group_id))})",
            timeout,
        )

    def posted(self, group_id: int) -> list[MessagePosted]:
        return [e for e in self.received if isinstance(e, MessagePosted) and e.group_id == group_id]

    def wait_posted(self, group_id: int, count: int, timeout: float | None = None) -> list[MessagePosted]:
        """Receive until at least ``count`` messages of the group were posted to this member."""

        def enough() -> bool:
            return len(self.posted(group_id)) >= count

        self.until(enough, lambda: f"{count} message_posted in group {group_id} (has {len(self.posted(group_id))})",
                   timeout)  # fmt: skip
        return self.posted(group_id)

    def wait_seq(self, group_id: int, seq: int) -> None:
        """Receive until the group's message ``seq`` was posted to this member."""
        self.until(lambda: any(p.seq == seq for p in self.posted(group_id)), f"message {seq} of group {group_id}")

    def wait_event(self, event: Event) -> None:
        """Receive until this very event (equal in every field) has come."""
        self.until(lambda: event in self.received, repr(event))

    def assert_posted(self, group_id: int, log: list[tuple[int, str, str]]) -> None:
        """This member was posted exactly the group's lines (seq, sender, text) in ``log`` that are not its
        own: each once, in seq order, nothing else. Call it after waiting for the last of them."""
        expected = [line for line in log if line[1] != self.name]
        posted = [(p.seq, p.sender, p.text) for p in self.posted(group_id)]
        if posted != expected:
            seqs = [seq for seq, _, _ in posted]
            twice = sorted({seq for seq in seqs if seqs.count(seq) > 1})
            missing = sorted({seq for seq, _, _ in expected} - set(seqs))
            disorder = [(x, y) for x, y in itertools.pairwise(seqs) if y <= x][:5]
            wrong = [line for line in posted if line not in expected][:5]
            self.fail(f"posted {len(posted)} messages where {len(expected)} were due: twice {twice}, "
                      f"missing {missing}, out of order {disorder}, unexpected {wrong}"
                      + self._around(group_id, (twice or [s for s, _, _ in wrong] or [0])[0]))  # fmt: skip

    def _around(self, group_id: int, seq: int) -> str:
        """The events received just before and after the first one about message ``seq`` of the group."""
        at = next((i for i, e in enumerate(self.received) if getattr(e, "seq", None) == seq
                   and getattr(e, "group_id", None) == group_id), None)  # fmt: skip
        if at is None:
            return ""
        near = "\n    ".join(_short(e) for e in self.received[max(0, at - 4) : at + 5])
        return f"; events around the first about seq {seq}:\n    {near}"


def _short(event: Event) -> str:
    """An event as a failure message shows it: a history page of 100 entries is cut short."""
    text = repr(event)
    return text if len(text) <= _REPR_MAX else text[: _REPR_MAX - 5] + " ...)"
