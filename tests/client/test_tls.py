"""ChatSession and ServerLink over TLS, against a real server with a self-signed certificate."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.session import ChatSession
from chat_tui.session.link import LinkError, ServerLink
from tests.client.helpers import Watch, start_tls_server
from tests.conftest import ServerProcess


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    """A TLS server and the certificate a client must trust."""
    server, cert = start_tls_server(tmp_path)
    yield server, cert
    server.stop()


async def test_sessions_create_join_and_chat_over_tls(tls_server: tuple[ServerProcess, Path]) -> None:
    server, cert = tls_server
    trusted = ssl.create_default_context(cafile=cert)
    alice = ChatSession(*server.address, ssl=trusted)
    bob = ChatSession(*server.address, ssl=trusted)
    await alice.connect()
    await bob.connect()
    group_id = (await alice.create_group("Lobby", "pw", "Alice")).group_id
    assert (await bob.join_group(group_id, "pw", "Bob")).members == ("Alice", "Bob")
    at_alice, at_bob = Watch(alice.timeline(group_id)), Watch(bob.timeline(group_id))
    await alice.send(group_id, "hello over TLS")
    await at_alice.until(lambda: at_alice.has("hello over TLS"))
    await at_bob.until(lambda: at_bob.has("hello over TLS"))
    assert at_bob.messages()[-1].sender == "Alice"
    await alice.close()
    await bob.close()
    assert "(TLS)" in server.log_text()


async def test_an_untrusted_certificate_is_a_clear_link_error(tls_server: tuple[ServerProcess, Path]) -> None:
    server, _cert = tls_server
    host, port = server.address
    session = ChatSession(host, port, ssl=ssl.create_default_context())  # the system CAs: not ours
    with pytest.raises(LinkError) as caught:
        await session.connect()
    assert str(caught.value).startswith(f"TLS handshake with {host}:{port} failed: certificate verify failed")
    assert "_ssl.c" not in str(caught.value)
    await session.close()


async def test_tls_to_a_plain_server_is_a_tls_error_not_a_hang(server: ServerProcess) -> None:
    host, port = server.address
    with pytest.raises(LinkError) as caught:
        await ServerLink.open(host, port, ssl=ssl.create_default_context(), timeout=5)
    assert str(caught.value).startswith(f"TLS handshake with {host}:{port} failed: ")


async def test_plain_tcp_to_a_tls_server_fails_without_a_hang(tls_server: tuple[ServerProcess, Path]) -> None:
    server, _cert = tls_server
    with pytest.raises(LinkError, match="no handshake from"):
        await ServerLink.open(*server.address, timeout=5)


async def test_a_refusal_over_tls_shows_the_servers_reason(tmp_path: Path) -> None:
    server, cert = start_tls_server(tmp_path, "--max-connections-per-address", "1")
    try:
        trusted = ssl.create_default_context(cafile=cert)
        first = await ServerLink.open(*server.address, ssl=trusted)
        with pytest.raises(LinkError) as caught:
            await ServerLink.open(*server.address, ssl=trusted, timeout=5)
        await first.close()
    finally:
        server.stop()
    reason = str(caught.value)
    assert reason.startswith("the server refused the connection: your address already has 1 connections open")
    assert "try again in" in reason  # from retry_after_ms
    assert "reset" not in reason.lower()
