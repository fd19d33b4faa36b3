"""A connection closed by the server gets its last frame: the server lingers instead of resetting it."""

from __future__ import annotations

import msgpack

from shared import Error, Event, ProtocolError
from tests.conftest import Starter
from tests.helpers import RawClient


def _frame(value: object) -> bytes:
    body = msgpack.packb(value)
    return len(body).to_bytes(4, "big") + body


def test_the_error_frame_arrives_though_the_client_sent_more_after_the_bad_frame(start_server: Starter) -> None:
    server = start_server("--linger-timeout", "0.5")
    client = RawClient(server.address)
    # The bad frame, then half a megabyte the server will never read: closing with those bytes unread
    # would reset the connection, and a reset can destroy the error frame before the client reads it.
    client.send_raw(_frame({"type": "ping", "nonce": "not a number"}) + _frame({"type": "ping", "nonce": 1}) * 50_000)
    try:
        events = client.read_until_closed()
    except ProtocolError as exc:
        events = [e for e in exc.pending_events if isinstance(e, Event)]
    errors = [e for e in events if isinstance(e, Error)]
    assert [(e.request_id, e.code) for e in errors] == [(None, "bad_request")], events
    server.wait_for_log("closed: bad_request")  # once the linger time is over, or the peer closed
