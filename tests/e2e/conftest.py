"""Fixtures of the end-to-end tests: a private tmux server per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.terminal import Tmux


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server, killed after the test whatever happened; skips when tmux is missing."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    server = Tmux()
    try:
        yield server
    finally:
        server.kill()
