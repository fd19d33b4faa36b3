"""What a run sends: groups, members, senders, messages, and the text each message carries.

Every message's text starts with who sent it, its number from that sender, and when it was written
(CLOCK_MONOTONIC, which every process on the machine shares), then padding up to ``--size``: a
recipient tells its latency, a loss and a duplicate from the text alone, whatever server carried it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# "ssssss nnnnnnnnn tttttttttttttttttttt " : sender, number, monotonic ns, each fixed width.
_HEAD = "{:06d} {:09d} {:020d} "
HEAD_SIZE = len(_HEAD.format(0, 0, 0))
MAX_SENDERS = 10**6
PASSWORD = "chat-bench-password"


@dataclass(frozen=True, slots=True)
class Workload:
    """The traffic of one run.

    Args:
        groups: groups with traffic.
        members: members per group (every one a recipient).
        senders: members per group that also send (the first ``senders`` of each group).
        messages: messages in total, split evenly over every sender.
        size: characters of each message's text (at least HEAD_SIZE).
        window: messages a sender keeps in flight (sent, not yet acknowledged).
        rate: messages/s in all, spread evenly over the senders; 0 sends as fast as the windows allow.
    """

    groups: int = 1
    members: int = 50
    senders: int = 5
    messages: int = 20_000
    size: int = 64
    window: int = 50
    rate: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.senders <= self.members:
            raise ValueError(f"--senders must be between 1 and --members ({self.members})")
        if self.groups * self.senders > MAX_SENDERS:
            raise ValueError(f"at most {MAX_SENDERS} senders in all")
        if self.size < HEAD_SIZE:
            raise ValueError(f"--size must be at least {HEAD_SIZE} (the bench's own header)")
        if min(self.groups, self.members, self.window) < 1 or min(self.messages, self.rate) < 0:
            raise ValueError("--groups, --members and --window must be positive, --messages and --rate not negative")

    @property
    def sender_rate(self) -> float:
        """Messages/s each sender sends (0: unpaced)."""
        return self.rate / (self.groups * self.senders)

    @property
    def label(self) -> str:
        """``groups x members x senders``, as the comparison table names a workload."""
        return f"{self.groups} x {self.members} x {self.senders}"

    def sender_id(self, group: int, member: int) -> int | None:
        """The global number of a member who sends, or None for one who only listens."""
        return group * self.senders + member if member < self.senders else None

    def quota(self, sender: int) -> int:
        """How many messages ``sender`` sends: an even share, the first ones take the remainder."""
        share, rest = divmod(self.messages, self.groups * self.senders)
        return share + (1 if sender < rest else 0)

    def group_total(self, group: int) -> int:
        """Messages sent to ``group`` in all."""
        return sum(self.quota(group * self.senders + s) for s in range(self.senders))


def message_text(sender: int, number: int, size: int, stamp_ns: int = 0) -> str:
    """The text of ``sender``'s message ``number``, ``size`` characters long, stamped ``stamp_ns`` (or now)."""
    head = _HEAD.format(sender, number, stamp_ns or time.monotonic_ns())
    return head + "x" * (size - HEAD_SIZE)


def parse_text(text: str | bytes) -> tuple[int, int, int] | None:
    """(sender, number, sent_ns) from a bench message's text, or None for any other text."""
    try:
        return int(text[0:6]), int(text[7:16]), int(text[17:37])
    except ValueError:
        return None
