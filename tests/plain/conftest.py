"""Fixtures for the plain client tests: a factory of ``--plain`` processes, all killed afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.plain.helpers import PlainProcess

PlainFactory = Callable[[tuple[str, int]], PlainProcess]


@pytest.fixture
def start_plain() -> Iterator[PlainFactory]:
    """Start ``chat-tui --plain`` against an address; every process is killed at teardown."""
    started: list[PlainProcess] = []

    def start(address: tuple[str, int]) -> PlainProcess:
        client = PlainProcess(*address)
        started.append(client)
        return client

    yield start
    for client in started:
        client.kill()
