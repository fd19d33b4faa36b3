"""The bench's pure parts: workload split, message stamps, loss and duplicate checks, quantiles, RESP."""

from __future__ import annotations

import io

import pytest

from chat_server.bench.progress import ProgressBar
from chat_server.bench.redis_member import RespReader, command
from chat_server.bench.runner import idle_plans, member_plans
from chat_server.bench.tally import Histogram, Receipts, quantile_ms
from chat_server.bench.workload import HEAD_SIZE, Workload, message_text, parse_text


def test_messages_are_split_over_every_sender_and_none_is_lost_in_rounding() -> None:
    workload = Workload(groups=3, members=4, senders=2, messages=1_003)
    quotas = [workload.quota(s) for s in range(6)]
    assert sum(quotas) == 1_003
    assert max(quotas) - min(quotas) == 1
    assert sum(workload.group_total(g) for g in range(3)) == 1_003


@pytest.mark.parametrize("echo", [False, True])
def test_each_member_expects_its_group_s_messages_and_its_own_only_if_the_server_echoes(echo: bool) -> None:
    workload = Workload(groups=2, members=3, senders=2, messages=40)
    plans = member_plans(workload, echo_to_sender=echo)
    assert [p.sender for p in plans] == [0, 1, None, 2, 3, None]
    assert [p.quota for p in plans] == [10, 10, 0, 10, 10, 0]
    assert [p.expected for p in plans] == ([20] * 6 if echo else [10, 10, 20, 10, 10, 20])
    assert len({p.name for p in plans}) == 6


def test_idle_members_fill_groups_of_fifty() -> None:
    plans = idle_plans(120)
    assert {p.group for p in plans} == {0, 1, 2}
    assert all(p.idle and p.quota == 0 and p.expected == 0 for p in plans)


@pytest.mark.parametrize(("groups", "members", "senders", "size"), [(1, 2, 3, 64), (1, 5, 1, HEAD_SIZE - 1)])
def test_a_workload_that_cannot_run_is_refused(groups: int, members: int, senders: int, size: int) -> None:
    with pytest.raises(ValueError, match="--s"):
        Workload(groups, members, senders, size=size)


def test_a_message_carries_its_sender_number_and_stamp_in_its_text_at_the_asked_size() -> None:
    text = message_text(123, 45_678, 100, stamp_ns=987_654_321)
    assert len(text) == 100
    assert parse_text(text) == (123, 45_678, 987_654_321)
    assert parse_text(text.encode()) == (123, 45_678, 987_654_321)  # Redis hands over bytes
    assert parse_text("hello, a person typed this") is None


def test_receipts_count_duplicates_and_skipped_messages_per_sender() -> None:
    receipts = Receipts()
    assert [receipts.record(7, n) for n in (0, 1, 1, 3)] == [True, True, False, True]
    assert receipts.record(9, 0)  # another sender's numbers are its own
    assert (receipts.unique, receipts.duplicated, receipts.skipped) == (4, 1, 1)


def test_quantiles_come_within_two_percent_and_the_max_is_exact() -> None:
    histogram = Histogram()
    for ms in range(1, 1001):
        histogram.add(ms * 1_000_000)
    assert histogram.count == 1000
    assert 500 <= histogram.quantile_ms(0.5) <= 500 * 1.02
    assert 990 <= histogram.quantile_ms(0.99) <= 990 * 1.02
    assert histogram.max_ns == 1000 * 1_000_000
    other = Histogram()
    other.add(5_000 * 1_000_000)
    histogram.merge(other)
    assert histogram.count == 1001
    assert histogram.quantile_ms(1.0) == 5000.0


def test_the_resp_reader_gets_the_same_values_however_the_bytes_are_cut() -> None:
    stream = (
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        b":42\r\n+OK\r\n-ERR wrong\r\n"
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhe\r\nl\r\n"
    )
    whole = RespReader().feed(stream)
    reader, pieces = RespReader(), []
    for i in range(len(stream)):
        pieces += reader.feed(stream[i : i + 1])
    assert [repr(v) for v in pieces] == [repr(v) for v in whole]
    assert whole[0] == [b"subscribe", b"ch", 1]
    assert whole[1:3] == [42, b"OK"]
    assert isinstance(whole[3], RuntimeError)
    assert whole[4] == [b"message", b"ch", b"he\r\nl"]  # a payload may hold CRLF: lengths, not lines


def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert command(b"PUBLISH", b"ch", b"a b") == b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$3\r\na b\r\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_once_a_run_is_long_and_is_erased_at_the_end() -> None:
    terminal = _Terminal()
    bar = ProgressBar(1_000, terminal, show_after=0)
    bar.update(250)
    assert "[" + "#" * 8 + " " * 22 + "]  25% 250 deliveries" in terminal.getvalue()
    bar.done()
    assert terminal.getvalue().endswith("\r\033[K")
    short_run, piped = _Terminal(), io.StringIO()
    ProgressBar(1_000, short_run).update(500)  # within the first 2 s
    ProgressBar(1_000, piped, show_after=0).update(500)  # not a terminal
    assert short_run.getvalue() == piped.getvalue() == ""


def test_a_percentile_of_a_few_latencies_never_exceeds_the_largest() -> None:
    few = [0.001, 0.002, 0.003, 0.004, 0.00616]
    assert quantile_ms(few, 99) <= 6.16
    assert quantile_ms(few, 50) == 3.0
    assert quantile_ms([0.005], 99) == 5.0
    assert quantile_ms([], 50) == 0.0
