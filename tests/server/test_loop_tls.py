"""A refusal over TLS is told, as on plain TCP: the loop completes the handshake, then sends the error."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from shared import Error
from tests.client.helpers import make_certificate
from tests.conftest import ServerProcess, Starter
from tests.helpers import RawClient


def _tls_server(start_server: Starter, tmp_path: Path, *flags: str) -> tuple[ServerProcess, ssl.SSLContext]:
    cert, key = make_certificate(tmp_path)
    server = start_server("--tls-cert", str(cert), "--tls-key", str(key), "--max-connections-per-address", "1", *flags)
    return server, ssl.create_default_context(cafile=str(cert))


def _tls_client(server: ServerProcess, context: ssl.SSLContext, *, handshake: bool = True) -> RawClient:
    sock = context.wrap_socket(socket.create_connection(server.address, timeout=10), server_hostname="127.0.0.1")
    return RawClient(server.address, sock=sock, handshake=handshake)


def test_a_connection_cap_refusal_over_tls_arrives_as_an_error_frame(start_server: Starter, tmp_path: Path) -> None:
    server, context = _tls_server(start_server, tmp_path)
    first = _tls_client(server, context)
    refused = _tls_client(server, context, handshake=False)  # the TLS handshake completes
    events = refused.read_until_closed()
    assert len(events) == 1
    error = events[0]
    assert isinstance(error, Error)
    assert (error.request_id, error.code) == (None, "too_many_connections")
    assert error.retry_after_ms is not None
    assert error.retry_after_ms > 0
    first.close()


def test_a_refused_tls_client_that_never_handshakes_is_closed_after_the_refusal_timeout(
    start_server: Starter, tmp_path: Path
) -> None:
    server, context = _tls_server(start_server, tmp_path, "--tls-refusal-timeout", "0.5", "--hello-timeout", "60")
    first = _tls_client(server, context)
    silent = socket.create_connection(server.address, timeout=10)  # refused; never starts TLS
    assert silent.recv(100) == b""  # closed by the short refusal deadline, not the 60 s hello timeout
    server.wait_for_log("to hear a refusal")
    first.close()


def test_past_max_refusals_a_tls_refusal_is_a_plain_close(start_server: Starter, tmp_path: Path) -> None:
    server, context = _tls_server(start_server, tmp_path, "--max-refusals", "1", "--tls-refusal-timeout", "30")
    first = _tls_client(server, context)
    silent = socket.create_connection(server.address, timeout=10)  # takes the one refusal place
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _tls_client(server, context, handshake=False)
    silent.close()
    first.close()
