"""``--host ::`` serves IPv6 and IPv4 clients; limits count an IPv6 client by its /64."""

from __future__ import annotations

import socket

import pytest

from chat_server.admission import address_key
from shared import Error
from tests.conftest import Starter
from tests.helpers import RawClient


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one host's /64: one key
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client of a dual-stack listener
        ("fe80::1%lo", "fe80::/64"),
    ],
)
def test_address_key(host: str, key: str) -> None:
    assert address_key(host) == key


def _refused(address: tuple[str, int]) -> Error:
    client = RawClient(address, handshake=False)
    events = client.read_until_closed()
    client.close()
    assert len(events) == 1
    assert isinstance(events[0], Error)
    return events[0]


@pytest.mark.skipif(not socket.has_dualstack_ipv6(), reason="no dual-stack IPv6 on this system")
def test_host_double_colon_accepts_ipv6_and_ipv4_and_keys_them_apart(start_server: Starter) -> None:
    server = start_server("--host", "::", "--max-connections-per-address", "1")
    assert server.host == "::"
    port = server.port
    over_ipv6 = RawClient(("::1", port))
    over_ipv4 = RawClient(("127.0.0.1", port))  # a separate key: not refused by the IPv6 client's cap
    assert _refused(("::1", port)).code == "too_many_connections"  # two ::1 connections share a key
    assert _refused(("127.0.0.1", port)).code == "too_many_connections"
    server.wait_for_log("key=::/64 code=too_many_connections")
    server.wait_for_log("key=127.0.0.1 code=too_many_connections")
    over_ipv6.close()
    over_ipv4.close()
