"""The TUI over TLS to a real server with a self-signed certificate, trusted with --ca."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.cli import build_parser, main, ssl_context
from chat_tui.screens import ConnectScreen
from tests.conftest import ServerProcess
from tests.tui.helpers import SIZE, connect, create_group, label_text, make_app, wait_until

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[ServerProcess]:
    cert, key = certificate
    server = ServerProcess(["--store", "memory:", "--tls-cert", str(cert), "--tls-key", str(key)])
    server.start()
    yield server
    server.stop()


async def test_connects_over_tls_trusting_the_certificate_with_ca(
    tls_server: ServerProcess, certificate: tuple[Path, Path]
) -> None:
    context = ssl_context(build_parser().parse_args(["--ca", str(certificate[0])]))
    assert context is not None
    app = make_app(*tls_server.address, "Alice", ssl_context=context)
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot)
        chat = await create_group(pilot, "secure", "pw")
        assert chat.group_id > 0


async def test_an_untrusted_certificate_is_refused_with_a_sentence(tls_server: ServerProcess) -> None:
    context = ssl_context(build_parser().parse_args(["--tls"]))  # system CAs only: ours is not among them
    app = make_app(*tls_server.address, "Alice", ssl_context=context)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "cannot connect" in label_text(app, "#status") or "certif" in label_text(app, "#status")
        )
        assert isinstance(app.screen, ConnectScreen)
        assert "Traceback" not in label_text(app, "#status")


def test_ca_implies_tls_and_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    assert ssl_context(build_parser().parse_args([])) is None
    with pytest.raises(SystemExit) as exit_info:
        main(["--ca", str(tmp_path / "missing.pem")])
    assert exit_info.value.code == 2
