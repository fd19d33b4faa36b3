"""Fixtures for the plain client tests: a factory of ``--plain`` processes, all killed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from tests.plain.helpers import PlainProcess


class PlainFactory(Protocol):
    def __call__(self, address: tuple[str, int], env: dict[str, str] | None = None) -> PlainProcess: ...


@pytest.fixture
def start_plain() -> Iterator[PlainFactory]:
    """Start ``chat-tui --plain`` against an address; every process is killed at teardown."""
    started: list[PlainProcess] = []

    def start(address: tuple[str, int], env: dict[str, str] | None = None) -> PlainProcess:
        client = PlainProcess(*address, env=env)
        started.append(client)
        return client

    yield start
    for client in started:
        client.kill()
