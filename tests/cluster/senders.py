"""Members sending on threads while a test breaks something (Redis, the bus), as real clients would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared import Error, MessageAccepted
from tests.cluster.member import Member

UNAVAILABLE_RETRY_MS = 1000  # what the server promises to say while its store cannot be reached
WAIT = 30.0  # for things that must happen: a slow machine gets that long, a fast one is not held back


@dataclass
class Sender:
    """A member sending numbered messages one after another on a thread, as a well-behaved client does:
    a refused message is sent again, with the same client_msg_id, after ``retry_after_ms``."""

    member: Member
    group_id: int
    acked: dict[str, tuple[int, str]] = field(default_factory=dict)  # client_msg_id -> (seq, text)
    refusals: list[Error] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        try:
            number = 0
            while not self.stop.is_set():
                number += 1
                self._deliver(f"{self.member.name}-{number}", f"{self.member.name} says {number}")
        except BaseException as exc:  # handed to the test thread, which fails with it
            self.failure = exc

    def _deliver(self, client_msg_id: str, text: str) -> None:
        while True:  # even after stop: a message is sent until acknowledged, so "stored" == "acknowledged"
            reply = self.member.send(self.group_id, text, client_msg_id)
            with self.lock:
                if isinstance(reply, MessageAccepted):
                    self.acked[client_msg_id] = (reply.seq, text)
                    return
                self.refusals.append(reply)
            if reply.code != "unavailable" or reply.retry_after_ms != UNAVAILABLE_RETRY_MS:
                self.member.fail(f"a send was refused with {reply!r}, not unavailable after {UNAVAILABLE_RETRY_MS}")
            time.sleep(reply.retry_after_ms / 1000)

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return len(self.acked), len(self.refusals)


def wait_until(condition: Callable[[], bool], what: str, senders: list[Sender]) -> None:
    """Poll ``condition`` until true or ``WAIT`` passes; fail at once if a sender failed."""
    deadline = time.monotonic() + WAIT
    while not condition():
        for sender in senders:
            if sender.failure is not None:
                raise sender.failure
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT:g} s for {what}; senders (acked, refused): "
                                 f"{ {s.member.label: s.counts() for s in senders} }")  # fmt: skip
        time.sleep(0.05)


@contextmanager
def sending(senders: list[Sender]) -> Iterator[None]:
    """Run the senders on threads for the ``with`` block; on leaving, let each finish the message it is
    on (acknowledged) and stop. A sender's failure is raised here."""
    threads = [threading.Thread(target=s.run, name=s.member.label, daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for sender in senders:
            sender.stop.set()
        for thread in threads:
            thread.join(WAIT)
    for thread in threads:
        assert not thread.is_alive(), f"sender {thread.name} is still sending after {WAIT:g} s"
    for sender in senders:
        if sender.failure is not None:
            raise sender.failure


def stored_log(senders: list[Sender]) -> list[tuple[int, str, str]]:
    """(seq, sender, text) of every message the senders had acknowledged, checked to be one gapless log."""
    stored = {seq: (s.member.name, text) for s in senders for seq, text in s.acked.values()}
    assert len(stored) == sum(len(s.acked) for s in senders), "two acknowledgements with one seq"
    assert sorted(stored) == list(range(1, len(stored) + 1)), "acknowledged seqs are 1..n, no gap"
    return [(seq, *line) for seq, line in sorted(stored.items())]
