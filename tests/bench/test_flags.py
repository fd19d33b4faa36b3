"""The limits each ``chat-bench`` mode lifts are real settings with values the server accepts."""

from __future__ import annotations

import pytest

from chat_server.bench.rejoin import connection_flags, setup_flags
from chat_server.bench.server import UNTHROTTLED, load_flags, server_flags
from chat_server.bench.storm import STORM_FLAGS
from chat_server.cli import _parser, config_from


@pytest.mark.parametrize(
    "flags", [UNTHROTTLED, STORM_FLAGS, connection_flags(500), setup_flags(500), load_flags(10_000, 250)]
)
def test_every_bench_flag_set_starts_a_server(flags: list[str]) -> None:
    config = config_from(_parser().parse_args(flags))
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        assert getattr(config, flag.removeprefix("--").replace("-", "_")) == float(value)


def test_a_renamed_limit_is_an_error_not_silently_kept() -> None:
    # A bench that lifts a limit under an old name would measure the limit, not the server.
    with pytest.raises(ValueError, match="no setting 'login_failures_per_group'"):
        server_flags({"login_failures_per_group": "1000"})
    with pytest.raises(ValueError, match="out of range"):
        server_flags({"max_connections_per_address": "0"})
