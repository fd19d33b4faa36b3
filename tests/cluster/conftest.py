"""A private ``redis-server`` and several ``python -m chat_server --store redis://...`` processes per test.

Each process is a ``tests.conftest.ServerProcess`` (composed, not copied) with a label ("A", "B", ...) and
folders of its own. The teardown checks that no process died unless the test killed it, and when a test
fails it prints the tail of every process's log (pytest shows it under "Captured stdout teardown"), so a
failure says which process logged what; members name their process in their own failure messages.
"""

from __future__ import annotations

import os
import re
import signal
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from tests.cluster.member import Member
from tests.conftest import LOAD_FLAGS, ServerProcess
from tests.redis.redis_server import REDIS_SERVER, RedisServer

if TYPE_CHECKING:
    from redis import Redis

# Small, so a SIGKILLed process's members are swept within seconds; the tests wait for that with a
# deadline of a few times this (slow CI machines), never assert how quickly it happened.
NODE_TIMEOUT = 3.0
GAP_WAIT = 0.25
BUS_CHANNEL = "groupchat:bus"

FLAGS = [
    "--node-timeout", str(NODE_TIMEOUT),
    "--gap-wait", str(GAP_WAIT),
    *LOAD_FLAGS,
    "--hashes-per-address-burst", "1000",  # every member here joins from 127.0.0.1 with a password
    "--groups-per-address", "1000",
]  # fmt: skip

_NODE_ID = re.compile(r"node(?: id)?[ =:]+([0-9a-f]{8})\b")
_LOG_TAIL = 40
_CALL_FAILED = pytest.StashKey[bool]()


@dataclass
class Node:
    """One server process of the cluster."""

    label: str
    process: ServerProcess
    killed: bool = False

    @property
    def address(self) -> tuple[str, int]:
        return self.process.address

    @property
    def node_id(self) -> str:
        """The process's random node id as it logged it at start ("?" if it did not)."""
        match = _NODE_ID.search(self.process.log_text())
        return match.group(1) if match else "?"

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to tell Redis its members are gone."""
        self.killed = True
        self.process.stop(signal.SIGKILL)

    def log_tail(self) -> str:
        lines = self.process.log[-_LOG_TAIL:]
        return f"--- node {self.label} (id {self.node_id}, port {self.address[1]}), last {len(lines)} log lines:\n" + (
            "".join(lines) or "(nothing logged)\n"
        )


@dataclass
class Cluster:
    """A redis-server, the server processes started on it, and the members connected to them."""

    tmp_path: Path
    redis: RedisServer
    nodes: list[Node] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)

    def start(self, count: int) -> list[Node]:
        """Start ``count`` more server processes, labelled A, B, C... in order."""
        return [self.add_node() for _ in range(count)]

    def add_node(self) -> Node:
        label = string.ascii_uppercase[len(self.nodes)]
        process = ServerProcess(["--store", self.redis.url, *FLAGS])
        with _own_folders(self.tmp_path / f"node-{label}"):
            process.start(timeout=30)
        node = Node(label, process)
        self.nodes.append(node)
        return node

    def one_group_on_three(self) -> tuple[int, Member, Member, Member]:
        """Three processes, and alice on A, bob on B and carol on C in one group ("team", password "pw"),
        once every one of them sees all three in the member list."""
        a, b, c = self.start(3)
        alice, bob, carol = self.member(a, "alice"), self.member(b, "bob"), self.member(c, "carol")
        group_id = alice.create("team", "pw").group_id
        bob.join(group_id, "pw")
        carol.join(group_id, "pw")
        for member in (alice, bob, carol):
            member.wait_roster(group_id, {"alice", "bob", "carol"})
        return group_id, alice, bob, carol

    def member(self, node: Node, name: str) -> Member:
        """A new connection to ``node`` (after hello), called ``name`` in what it will join."""
        member = Member(node, name)
        self.members.append(member)
        return member

    def publish(self, data: bytes) -> int:
        """PUBLISH raw bytes on the servers' bus, as a foreign program could; returns the receiver count."""
        client = self._client()
        try:
            return cast(int, client.publish(BUS_CHANNEL, data))
        finally:
            client.close()

    def cut_bus(self) -> int:
        """Close every bus subscriber's connection from Redis's side (CLIENT KILL TYPE pubsub), as a network
        blip would: what is published until a process has subscribed again never reaches it. Returns how
        many connections were cut."""
        client = self._client()
        try:
            return cast(int, client.client_kill_filter(_type="pubsub"))
        finally:
            client.close()

    def bus_subscribers(self) -> int:
        """How many connections are subscribed to the bus channel now (PUBSUB NUMSUB)."""
        client = self._client()
        try:
            counts = cast(list[tuple[bytes, int]], client.pubsub_numsub(BUS_CHANNEL))
            return sum(count for _, count in counts)
        finally:
            client.close()

    def _client(self) -> Redis:
        """A connection of the test's own to the cluster's Redis (redis-py is an optional extra)."""
        from redis import Redis

        return Redis.from_url(self.redis.url)

    def dead_nodes(self) -> list[Node]:
        """Processes that exited although the test did not kill them."""
        return [n for n in self.nodes if not n.killed and n.process.process and n.process.process.poll() is not None]

    def close(self) -> None:
        for member in self.members:
            member.close()
        for node in self.nodes:
            node.process.stop()
        self.redis.stop()


@contextmanager
def _own_folders(root: Path) -> Iterator[None]:
    """The environment a child process starts with names its own XDG folders (Popen copies it)."""
    names = ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(root / name.lower())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Remember whether the test itself failed, for the cluster fixture's teardown."""
    report = yield
    if getattr(report, "when", None) == "call":
        item.stash[_CALL_FAILED] = bool(getattr(report, "failed", False))
    return report


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A started private redis-server and no server process yet: the test starts them (``start(n)``)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    pytest.importorskip("redis", reason="redis-py is not installed (pip install 'groupchat[redis]')")
    server = RedisServer(tmp_path / "redis")
    server.start()
    started = Cluster(tmp_path, server)
    try:
        yield started
    finally:
        dead = started.dead_nodes()
        started.close()
        if dead or request.node.stash.get(_CALL_FAILED, False):
            print("\n".join(node.log_tail() for node in started.nodes))
    if dead:
        pytest.fail(f"server process(es) {', '.join(n.label for n in dead)} died during the test (logs above)")
