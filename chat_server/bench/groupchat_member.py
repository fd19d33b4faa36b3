"""A member of a groupchat group: sends with a window, checks every message it receives."""

from __future__ import annotations

import time
from collections import deque

from chat_server.bench.link import Link
from chat_server.bench.member import Member, MemberPlan, Sending
from chat_server.bench.tally import Tally
from chat_server.bench.workload import PASSWORD
from shared import (
    Error,
    GroupJoined,
    JoinGroup,
    MessageAccepted,
    MessagePosted,
    SendMessage,
)

FIRST_MESSAGE_ID = 100  # request ids of messages start here; 1..99 are the set-up requests


class GroupchatMember(Member):
    """A member of one groupchat group."""

    def __init__(
        self, plan: MemberPlan, tally: Tally, sending: Sending, *, address: tuple[str, int], group_id: int
    ) -> None:
        super().__init__(plan, tally, sending)
        self.address, self.group_id = address, group_id
        self.link: Link | None = None
        self.next_id = FIRST_MESSAGE_ID
        self.sent_ns: deque[int] = deque()  # acks come in order: the send time of each one in flight

    async def join(self) -> None:
        group_id = self.group_id
        self.link = await Link.open(*self.address)
        answer = await self.link.request(JoinGroup(2, group_id, PASSWORD, self.plan.name))
        if not isinstance(answer, GroupJoined):
            raise RuntimeError(f"{self.plan.name} cannot join group {group_id}: {answer}")

    def _write(self, texts: list[str]) -> None:
        assert self.link is not None
        send, now = self.link.conn.send, time.monotonic_ns()
        frames = []
        for text in texts:
            frames.append(send(SendMessage(self.next_id, self.group_id, text)))
            self.next_id += 1
            self.sent_ns.append(now)
        self.link.writer.write(b"".join(frames))

    async def _read_loop(self) -> None:
        assert self.link is not None
        while True:
            received = await self.link.events()
            now = time.monotonic_ns()
            for event in received:
                if isinstance(event, MessagePosted):
                    self._delivered(event.text, now)
                elif isinstance(event, MessageAccepted):
                    self._acked(self.sent_ns.popleft(), now)
                elif isinstance(event, Error) and (event.request_id or 0) >= FIRST_MESSAGE_ID:
                    self.sent_ns.popleft()
                    self._refused(event.code)

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
