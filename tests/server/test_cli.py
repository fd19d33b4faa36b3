"""``chat-server`` flags: every setting has one, and README documents every one."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from chat_server.cli import _flag, _parser, config_from
from chat_server.config import ServerConfig

README = Path(__file__).parents[2] / "README.md"


def test_version_and_help() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "chat_server", "--version"], capture_output=True, text=True, check=False
    )
    assert version.stdout.strip() == "chat-server 0.1.0"
    help_text = subprocess.run(
        [sys.executable, "-m", "chat_server", "--help"], capture_output=True, text=True, check=False
    )
    assert help_text.returncode == 0
    assert "--message-rate" in help_text.stdout


def test_every_setting_has_a_flag_that_readme_documents() -> None:
    readme = README.read_text()
    flags = [_flag(f) for f in dataclasses.fields(ServerConfig) if "help" in f.metadata]
    assert len(flags) > 30
    missing = [flag for flag in flags if f"`{flag}`" not in readme and flag not in readme]
    assert not missing


def test_flags_reach_the_config() -> None:
    args = _parser().parse_args(["--message-rate", "0.5", "--max-connections", "7", "--store", "memory:"])
    config = config_from(args)
    assert (config.message_rate, config.max_connections, config.store_url) == (0.5, 7, "memory:")
    assert config.hello_timeout == ServerConfig().hello_timeout


def test_tls_needs_both_halves() -> None:
    with pytest.raises(ValueError, match="go together"):
        config_from(_parser().parse_args(["--tls-cert", "cert.pem"]))


def test_a_bad_store_url_is_a_clear_error() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chat_server", "--port", "0", "--store", "postgres://x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "unknown store" in run.stderr
    assert "Traceback" not in run.stderr
