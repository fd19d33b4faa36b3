"""Fixtures for the ChatSession tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.helpers import Servers


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """A server with default limits and a fresh SQLite file, restartable on the same port and file."""
    servers = Servers(tmp_path / "chat.db")
    yield servers
    servers.current.stop()
