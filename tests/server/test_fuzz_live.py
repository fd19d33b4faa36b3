"""Hostile msgpack against one live server: it survives every value, and a healthy client is still served.

The values come from the decoder fuzz generators (tests/protocol/test_fuzz.py): msgpack of every type
built as bytes, so keys of any type, bin, ext, huge ints, NaN, duplicate keys and broken encodings
all reach the server, as do real frames with one hostile field. One server is started for the module;
each example goes to an open connection (a new one only once the server has closed the last), then a
ping: its pong (or the server closing the connection) says the example was dealt with.

Measured on the shared 2-core machine: 10,000 examples in 30 s at load average 0.5, 54 s at 6; 26-29 s CPU
in this process (``pytest tests/server/test_fuzz_live.py --durations=5``).
"""

from __future__ import annotations

import itertools
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import (
    PROTOCOL_VERSION,
    Connection,
    Error,
    Event,
    Hello,
    MessageAccepted,
    MessagePosted,
    Ping,
    Pong,
    ProtocolError,
    Role,
    SendMessage,
    encode,
)
from shared.codec import to_wire
from shared.events import FEATURES
from tests.conftest import LOAD_FLAGS, ServerProcess, sqlite_url
from tests.helpers import RawClient
from tests.protocol.test_fuzz import MSGPACK_VALUES, PLAUSIBLE_MAPS, VALID_EVENTS, broken_values, tampered_frames

# Issue 8 asks for at least 10,000 examples against a live server; these add up to 10,000.
ANY_VALUE_EXAMPLES = 5500
PLAUSIBLE_EXAMPLES = 3000
BEFORE_HELLO_EXAMPLES = 1000
RAW_BYTES_EXAMPLES = 500
# How often, in examples, the healthy pair proves it is still served (and once after each test).
HEALTH_EVERY = 500
# The healthy group's password: no fuzz frame can guess it, so the fuzzers never join that group.
SECRET = "a password no fuzz frame will ever guess"
_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}


# Map keys of every type msgpack-python packs from a dict: a frame's real fields plus a few of these
# (a str and a bin key side by side crashed the server once: sorting them raised TypeError).
_ANY_KEY: st.SearchStrategy[object] = st.one_of(
    st.text(max_size=6),
    st.binary(max_size=4),
    st.integers(-(2**63), 2**64 - 1),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
)
_SMALL_VALUE = st.one_of(st.integers(-(2**63), 2**64 - 1), st.text(max_size=4), st.binary(max_size=4), st.none())


@st.composite
def frames_with_extra_keys(draw: st.DrawFn) -> bytes:
    """A real frame's map with one to three extra keys of any type (often a str and a bin together)."""
    wire: dict[object, object] = dict(to_wire(draw(st.sampled_from(VALID_EVENTS))).items())
    wire.update(draw(st.dictionaries(_ANY_KEY, _SMALL_VALUE, min_size=1, max_size=3)))
    packed: bytes = msgpack.packb(wire, use_bin_type=True)
    return packed


def _framed(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


class Prober:
    """Sends examples to the live server, reusing a connection until the server closes it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.nonces = itertools.count(1)
        self.sent = 0
        self.internal: list[Error] = []  # an internal error means an exception escaped somewhere: a bug
        self._link: tuple[socket.socket, Connection] | None = None
        self._hellos = 0  # every other connection asks for every optional feature, so both paths are probed
        self.alice, self.bob = RawClient(server.address), RawClient(server.address)
        self.alice.create("healthy", SECRET, "Alice")
        self.bob.join(1, SECRET, "Bob")

    def after_hello(self, body: bytes) -> None:
        """One frame on a connection past its hello; reconnects when the server has closed it."""
        if self._link is None:  # a new connection: its hello goes in the same write (pipelining)
            sock = socket.create_connection(self.server.address, timeout=10)
            conn = Connection(Role.CLIENT)
            features = FEATURES if self._hellos % 2 else ()
            self._hellos += 1
            self._link, hello = (sock, conn), conn.send(Hello(1, PROTOCOL_VERSION, "fuzz", features))
        else:
            hello = b""
        if not self._settled(*self._link, hello + _framed(body)):
            self._link[0].close()
            self._link = None
        self._count()

    def before_hello(self, body: bytes) -> None:
        """One frame as the very first thing a new connection sends, then a hello."""
        sock = socket.create_connection(self.server.address, timeout=10)
        conn = Connection(Role.CLIENT)
        first = _framed(body) + conn.send(Hello(1, PROTOCOL_VERSION, "fuzz"))
        self._settled(sock, conn, first)
        sock.close()
        self._count()

    def raw(self, data: bytes) -> None:
        """Any bytes at all after a hello, then the connection is closed (they may leave a frame open)."""
        client = RawClient(self.server.address)
        client.send_raw(data)
        client.close()
        self._count()

    def _settled(self, sock: socket.socket, conn: Connection, data: bytes) -> bool:
        """Send ``data`` and a ping; True once its pong is back, False when the server closed instead."""
        nonce = next(self.nonces) & 0xFFFFFFFF
        try:
            sock.sendall(data + encode(Ping(nonce)))
            return self._pong_or_close(sock, conn, nonce)
        except (ConnectionResetError, BrokenPipeError):
            return False

    def _pong_or_close(self, sock: socket.socket, conn: Connection, nonce: int) -> bool:
        sock.settimeout(10)  # the server answers every example at once: waiting longer is a hang
        while data := sock.recv(65536):
            try:
                events = conn.receive_data(data)
            except ProtocolError as exc:  # frames after a connection-level error: the server is closing
                events = [e for e in exc.pending_events if isinstance(e, Event)]
            self.internal += [e for e in events if isinstance(e, Error) and e.code == "internal"]
            if Pong(nonce) in events:
                return True
        return False

    def _count(self) -> None:
        self.sent += 1
        if self.sent % HEALTH_EVERY == 0:
            self.assert_healthy()

    def assert_healthy(self) -> None:
        """The server process lives, and another client is still served: a message round trip."""
        assert self.server.process is not None
        assert self.server.process.poll() is None, self.server.log_text()[-5000:]
        text = f"still here after {self.sent} examples"
        self.bob.request(lambda rid: SendMessage(rid, 1, text), MessageAccepted)
        self.alice.wait_for(lambda e: isinstance(e, MessagePosted) and e.text == text)
        assert not self.internal, self.internal[:5]

    def close(self) -> None:
        if self._link is not None:
            self._link[0].close()
        self.alice.close()
        self.bob.close()


@pytest.fixture(scope="module")
def prober(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prober]:
    store = sqlite_url(Path(tmp_path_factory.mktemp("fuzz_live")) / "chat.db")
    # Flood limits are lifted: the fuzzers are many connections from one address, sending fast.
    lifted = ["--request-burst", "1000000", "--request-rate", "1000000000", "--groups-per-address", "1000000"]
    server = ServerProcess(["--store", store, *LOAD_FLAGS, *lifted])
    server.start()
    running = Prober(server)
    yield running
    running.close()
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-5000:]


@settings(max_examples=ANY_VALUE_EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
@given(body=MSGPACK_VALUES | broken_values())
def test_any_msgpack_value_after_hello(prober: Prober, body: bytes) -> None:
    prober.after_hello(body)


@settings(max_examples=PLAUSIBLE_EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
@given(body=PLAUSIBLE_MAPS | tampered_frames() | frames_with_extra_keys())
def test_plausible_frames_with_hostile_fields(prober: Prober, body: bytes) -> None:
    prober.after_hello(body)


@settings(max_examples=BEFORE_HELLO_EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
@given(body=MSGPACK_VALUES | PLAUSIBLE_MAPS | tampered_frames())
def test_any_value_as_the_first_frame(prober: Prober, body: bytes) -> None:
    prober.before_hello(body)


@settings(max_examples=RAW_BYTES_EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.binary(max_size=300))
def test_any_bytes(prober: Prober, data: bytes) -> None:
    prober.raw(data)


def test_the_server_survived_it_all(prober: Prober) -> None:
    prober.assert_healthy()
    assert prober.sent >= 10_000 or prober.sent == 0  # 0: run alone, e.g. with -k
