"""The one private ``redis-server`` starter the benchmarks and the tests share."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from chat_server.bench.redis_server import RedisServer

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(64)


def test_each_persistence_is_the_redis_configuration_of_its_promise(tmp_path: Path) -> None:
    def settings(persistence: str) -> list[str]:
        command = RedisServer(tmp_path, persistence=persistence).command()  # type: ignore[arg-type]
        return command[command.index("--appendonly") :]

    assert settings("none") == ["--appendonly", "no"]
    assert settings("everysec") == ["--appendonly", "yes", "--appendfsync", "everysec"]
    assert settings("always") == ["--appendonly", "yes", "--appendfsync", "always"]
    generous = RedisServer(tmp_path).command()
    assert generous[generous.index("--client-output-buffer-limit") + 1] == "pubsub 256mb 128mb 60"
    assert "--client-output-buffer-limit" not in RedisServer(tmp_path, pubsub_limit=None).command()


def test_as_a_context_it_starts_and_stops_and_removes_its_temporary_directory() -> None:
    with RedisServer(persistence="none") as redis:
        directory, process = redis.directory, redis.process
        assert _ping(redis.port).startswith(b"+PONG")
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
    assert process is not None
    assert process.poll() is not None
    assert not directory.exists()


def test_a_killed_server_starts_again_on_the_same_port_with_its_data(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis", persistence="always")
    redis.start()
    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as conn:
        conn.sendall(b"SET kept yes\r\n")
        assert conn.recv(64) == b"+OK\r\n"
    redis.kill()
    redis.start()
    try:
        with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as conn:
            conn.sendall(b"GET kept\r\n")
            assert conn.recv(64) == b"$3\r\nyes\r\n"
    finally:
        redis.stop()
    assert redis.process is None
