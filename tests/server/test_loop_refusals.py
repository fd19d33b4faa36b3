"""A refusal at admission over plain TCP reaches a client that pipelined its hello (no reset)."""

from __future__ import annotations

import contextlib
import socket

from shared import PROTOCOL_VERSION, Connection, Error, Hello, Ping, Role
from tests.conftest import Starter
from tests.helpers import RawClient

_ROUNDS = 10  # a reset destroys the frame only when it wins the race with the read: try several times


def _pipelined_burst() -> bytes:
    """A hello and 200 KiB of pings behind it: still unread when the server decides to refuse."""
    conn = Connection(Role.CLIENT)
    data = conn.send(Hello(1, PROTOCOL_VERSION, "pipeliner"))
    ping = conn.send(Ping(1))
    return data + ping * (200 * 1024 // len(ping))


def _read_refusal(address: tuple[str, int]) -> list[object]:
    sock = socket.create_connection(address, timeout=10)
    # The server may refuse and close while we are still writing: then read what it said.
    with contextlib.suppress(ConnectionError):
        sock.sendall(_pipelined_burst())
    conn, received = Connection(Role.CLIENT), bytearray()
    try:
        while data := sock.recv(65536):
            received += data
    finally:
        sock.close()
    return list(conn.receive_data(bytes(received)))


def test_a_plain_refusal_reaches_a_client_that_pipelined_its_hello(start_server: Starter) -> None:
    server = start_server("--max-connections-per-address", "1", "--connect-attempts", "1000")
    first = RawClient(server.address)
    for _ in range(_ROUNDS):
        [error] = _read_refusal(server.address)  # a reset would raise ConnectionResetError here
        assert isinstance(error, Error)
        assert (error.request_id, error.code) == (None, "too_many_connections")
    first.close()
