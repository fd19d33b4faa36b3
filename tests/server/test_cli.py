"""``chat-server`` flags: every setting has one, checked by its kind, and README documents every one."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chat_server.cli import _flag, _parser, config_from
from chat_server.config import ServerConfig, setting
from tests.conftest import ServerProcess

README = Path(__file__).parents[2] / "README.md"
SETTINGS = [f for f in dataclasses.fields(ServerConfig) if "help" in f.metadata]
# Flags README explains in prose rather than in the limits table (addresses, files, machine-dependent defaults).
DOCUMENTED_IN_PROSE = {"--host", "--port", "--store", "--sync", "--tls-cert", "--tls-key", "--auth-workers"}


def _run_server(*flags: str) -> subprocess.CompletedProcess[str]:
    # A bad flag must stop the server before it listens; the timeout only guards the old behaviour (it started).
    try:
        return subprocess.run(
            [sys.executable, "-m", "chat_server", "--port", "0", "--store", "memory:", *flags],
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"chat-server {' '.join(flags)} started instead of refusing the flag")


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


@pytest.mark.parametrize(
    "flags",
    [
        ["--port", "99999"],  # was an OverflowError traceback from bind()
        ["--port", "-1"],
        ["--port", "http"],
        ["--message-rate", "-1"],  # was accepted
        ["--message-rate", "0"],
        ["--message-rate", "inf"],
        ["--message-rate", "nan"],
        ["--history-on-join", "-5"],  # was accepted
        ["--max-connections", "0"],  # was a server that refused everyone
        ["--max-connections-per-address", "1.5"],
        ["--login-window", "0"],
        ["--hello-timeout", "1e100"],
        ["--output-hard-limit", "-1"],
        ["--output-hard-limit", "12 parsecs"],
        ["--max-frame-size", "100"],  # smaller than the largest legal message
        ["--max-frame-size", "1MiB"],  # a server may tighten the protocol's limit, not loosen it
        ["--auth-workers", "100000"],
        ["--sync", "sometimes"],
        ["--host", ""],
    ],
)
def test_a_bad_value_is_a_usage_error(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        config_from(_parser().parse_args(flags))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert flags[0] in err
    assert "usage: chat-server" in err


@pytest.mark.parametrize("flags", [["--port", "99999"], ["--max-connections", "0"], ["--message-rate", "-1"]])
def test_a_bad_value_stops_the_server_with_status_2_and_no_traceback(flags: list[str]) -> None:
    run = _run_server(*flags)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"argument {flags[0]}:" in run.stderr
    assert "out of range" in run.stderr


def test_help_says_what_each_flag_takes() -> None:
    text = " ".join(_parser().format_help().split())  # argparse wraps lines; compare words
    for expected in [
        "--max-connections-per-address N ",
        "--login-window SECONDS ",
        "--output-hard-limit BYTES ",
        "--store URL ",
        "--port PORT ",
        "--message-rate PER_SECOND ",
        "--tls-cert PEM_FILE ",
        "(default: 1 MiB)",
    ]:
        assert expected in text
    assert "(default: None)" not in text
    assert "ADDRESS" not in text  # the old metavar, the last word of the field name


def test_every_setting_has_a_kind_that_accepts_its_default() -> None:
    from chat_server.setting_kinds import Kind

    for field in SETTINGS:
        kind = field.metadata["kind"]
        assert isinstance(kind, Kind), field.name
        if field.default is not None:
            assert kind.parse(kind.show(field.default)) == field.default, field.name


def test_a_new_setting_without_a_kind_is_checked_by_its_default_type() -> None:
    from chat_server.setting_kinds import COUNT, SECONDS

    @dataclasses.dataclass
    class Extra:
        retries: int = setting(3, "tries")
        delay: float = setting(0.5, "seconds between tries")

    retries, delay = (f.metadata["kind"] for f in dataclasses.fields(Extra))
    assert (retries, delay) == (COUNT, SECONDS)
    for kind, bad in [(retries, "0"), (retries, "x"), (delay, "-0.5"), (delay, "inf")]:
        with pytest.raises(ValueError, match=r"\S"):
            kind.parse(bad)


def test_sizes_take_units() -> None:
    args = _parser().parse_args(["--output-hard-limit", "2MiB", "--output-soft-limit", "512k", "--read-chunk", "4096"])
    config = config_from(args)
    assert (config.output_hard_limit, config.output_soft_limit, config.read_chunk) == (2 * 1024**2, 512 * 1024, 4096)


def test_every_setting_has_a_flag_that_readme_documents() -> None:
    readme = README.read_text()
    flags = [_flag(f) for f in SETTINGS]
    assert len(flags) > 30
    missing = [flag for flag in flags if not re.search(f"`{flag}[ `]", readme)]
    assert not missing


def test_readme_limits_table_gives_each_flag_its_real_default() -> None:
    rows = dict(re.findall(r"^\| `(--[a-z-]+)` \| ([^|]+?) \|", README.read_text(), re.MULTILINE))
    wrong = {
        _flag(f): (rows.get(_flag(f)), f.metadata["kind"].show(f.default))
        for f in SETTINGS
        if _flag(f) not in DOCUMENTED_IN_PROSE and rows.get(_flag(f)) != f.metadata["kind"].show(f.default)
    }
    assert not wrong


def test_flags_reach_the_config() -> None:
    args = _parser().parse_args(["--message-rate", "0.5", "--max-connections", "7", "--store", "memory:"])
    config = config_from(args)
    assert (config.message_rate, config.max_connections, config.store_url) == (0.5, 7, "memory:")
    assert config.hello_timeout == ServerConfig().hello_timeout


def test_tls_needs_both_halves() -> None:
    with pytest.raises(ValueError, match="go together"):
        config_from(_parser().parse_args(["--tls-cert", "cert.pem"]))
    # Flags that parse one by one but not together are a usage error too.
    run = _run_server("--tls-cert", "cert.pem")
    assert (run.returncode, "Traceback" in run.stderr) == (2, False)
    assert "--tls-cert and --tls-key go together" in run.stderr


def test_a_bad_store_url_is_a_clear_error() -> None:
    run = _run_server("--store", "postgres://x")
    assert run.returncode == 1
    assert "unknown store" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_log_names_the_absolute_database_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sqlite:///data/chat.db is relative to the working directory: the log must say which file that is.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    server = ServerProcess(["--store", "sqlite:///data/chat.db"])
    server.start()
    try:
        assert str((tmp_path / "data" / "chat.db").resolve()) in server.log_text()
    finally:
        server.stop()


def _key_label(key: str) -> str:
    """A Textual key name as README writes it: ``ctrl+j`` -> ``Ctrl+J``, ``pageup`` -> ``Page Up``."""
    *modifiers, last = key.split("+")
    names = {
        "escape": "Escape",
        "enter": "Enter",
        "pageup": "Page Up",
        "pagedown": "Page Down",
        "tab": "Tab",
        "end": "End",
    }
    if last == "question_mark":
        return "`?`"
    if last[:1] == "f" and last[1:].isdigit():  # function keys: f1 -> F1
        label = last.upper()
    else:
        label = names.get(last, last.upper() if modifiers else f"`{last}`")
    return "+".join([*(m.capitalize() for m in modifiers), label])


def _tui_keys() -> set[str]:
    # Every key the full-screen client binds: its app, screens and widgets, and Textual's App (Ctrl+Q).
    import importlib
    import pkgutil

    from textual.app import App

    import chat_tui.app
    import chat_tui.screens
    import chat_tui.widgets

    modules = [chat_tui.app]
    for package in (chat_tui.screens, chat_tui.widgets):
        modules += [
            importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)
        ]
    classes: list[type] = [App]
    for module in modules:
        classes += [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    keys = set()
    for cls in classes:
        for binding in vars(cls).get("BINDINGS", []):
            if getattr(binding, "system", False):
                continue
            key = binding.key if hasattr(binding, "key") else binding[0]
            keys.update(key.split(","))
    return keys


def test_readme_key_table_has_every_key_the_client_binds() -> None:
    readme = README.read_text()
    table = readme[readme.index("In the full-screen client:") : readme.index("Joining a group shows")]
    missing = sorted(key for key in _tui_keys() if _key_label(key) not in table)
    assert not missing


def test_readme_quick_start_works_where_pip_install_is_refused() -> None:
    readme = README.read_text()
    install = readme[readme.index("**Install and start**") :]
    start = install.index("```sh\n") + len("```sh\n")
    command = install[start : install.index("\n```", start)]
    # Debian's python3 refuses `pip install` outside a virtual environment (PEP 668).
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install .")
    assert "python3 -m pip install" not in readme
    for needed in ["about 4 minutes", "tmux", "--host ::", "resume token", "16 open connections per address"]:
        assert needed in readme, needed
