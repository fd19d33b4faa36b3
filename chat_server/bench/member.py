"""One member of a run, whatever server it talks to: it sends its quota with a window in flight and
checks every message it receives. Subclasses speak the wire (groupchat or Redis pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from chat_server.bench.tally import Receipts, Tally
from chat_server.bench.workload import message_text, parse_text


@dataclass(frozen=True, slots=True)
class MemberPlan:
    """What one member does: which group, whether and how much it sends, what it expects to receive."""

    group: int  # index into the run's groups
    member: int  # index within the group
    sender: int | None  # global sender number, None for a listener
    quota: int  # messages to send
    expected: int  # deliveries it should receive
    idle: bool = False  # held open to measure memory; never sends
    server: int = 0  # which of the run's server processes it connects to (index into the addresses)
    remote: bool = False  # on another server process than every sender of its group: its latency is cross-process

    @property
    def name(self) -> str:
        """The member's name in its group."""
        return f"{'i' if self.idle else 'g'}{self.group}m{self.member}"


@dataclass(frozen=True, slots=True)
class Sending:
    """How every sender of a run sends."""

    window: int  # messages in flight, unacknowledged
    size: int  # characters of text
    rate: float = 0.0  # messages/s from this sender; 0: as fast as the window lets it


class Member:
    """Sending and checking, common to every wire; ``_write`` and ``_read_loop`` are the wire's."""

    def __init__(self, plan: MemberPlan, tally: Tally, sending: Sending) -> None:
        self.plan, self.tally = plan, tally
        self.window, self.size, self.rate = sending.window, sending.size, sending.rate
        self.receipts = Receipts()
        self.in_flight = 0
        self.number = 0  # the next message number to send
        self._room = asyncio.Event()
        self._complete = asyncio.Event()

    # --- the wire's part ---
    async def join(self) -> None:
        """Connect and become a member (or subscriber) of its group; raise if refused."""
        raise NotImplementedError

    def _write(self, texts: list[str]) -> None:
        """Send these messages in one write."""
        raise NotImplementedError

    async def _read_loop(self) -> None:
        """Read until the connection closes, calling ``_delivered``/``_acked``/``_refused``."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection(s)."""
        raise NotImplementedError

    # --- common ---
    async def read(self) -> None:
        """Read for as long as the connection lives; a close the bench did not ask for is counted."""
        with contextlib.suppress(ConnectionError, OSError):
            await self._read_loop()
        if not self._complete.is_set():
            self.tally.closed += 1
            self._complete.set()

    async def send_all(self) -> None:
        """Send the quota, keeping at most ``window`` messages unacknowledged."""
        self.tally.expected += self.plan.expected
        self._check_complete()
        sender = self.plan.sender
        if sender is None:
            return
        self._room.set()
        start = time.monotonic_ns()
        if not self.tally.first_send_ns:
            self.tally.first_send_ns = start
        while self.number < self.plan.quota:
            await self._room.wait()
            due = self.plan.quota
            if self.rate:
                due = min(due, int((time.monotonic_ns() - start) * self.rate / 1e9) + 1)
                if self.number >= due:
                    await asyncio.sleep(max(0.0005, (self.number / self.rate) - (time.monotonic_ns() - start) / 1e9))
                    continue
            count = min(self.window - self.in_flight, due - self.number)
            if count <= 0:
                self._room.clear()
                continue
            # Paced, a message is stamped with the time it was due, not the time it went: a server that
            # stalls the generator (through the window) cannot hide the wait (no coordinated omission).
            stamps = [start + int((self.number + i) * 1e9 / self.rate) if self.rate else 0 for i in range(count)]
            self._write([message_text(sender, self.number + i, self.size, stamps[i]) for i in range(count)])
            self.number += count
            self.in_flight += count
            await asyncio.sleep(0)  # let the reader run between bursts

    async def finished(self) -> None:
        """Wait until every message was answered and every expected one received (or the link died)."""
        await self._complete.wait()

    def _delivered(self, text: str | bytes, now_ns: int) -> None:
        parsed = parse_text(text)
        if parsed is None:
            return  # not a message of this run (replayed history, say)
        sender, number, sent_ns = parsed
        self.tally.delivered += 1
        self.tally.last_event_ns = now_ns
        if self.receipts.record(sender, number):
            self.tally.unique += 1
            self.tally.delivery.add(now_ns - sent_ns)
            if self.plan.remote:
                self.tally.cross.add(now_ns - sent_ns)
        else:
            self.tally.duplicated += 1
        self._check_complete()

    def _acked(self, sent_ns: int, now_ns: int) -> None:
        self.tally.acked += 1
        self.tally.ack.add(now_ns - sent_ns)
        self.tally.last_event_ns = now_ns
        self._answered()

    def _refused(self, code: str) -> None:
        self.tally.refused += 1
        self.tally.refusals[code] += 1
        self._answered()

    def _answered(self) -> None:
        self.in_flight -= 1
        self._room.set()
        self._check_complete()

    def _check_complete(self) -> None:
        if (
            self.receipts.unique >= self.plan.expected
            and self.number >= self.plan.quota
            and self.in_flight == 0
            and not self.plan.idle
        ):
            self._complete.set()
