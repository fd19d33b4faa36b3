"""The store thread: calls run in order off the caller's thread, results come back in order, and
every call is answered even when its work fails."""

from __future__ import annotations

import threading
from functools import partial

from chat_server.outgoing import Action, StoreCall
from chat_server.store import StoreError
from chat_server.store_worker import StoreWorker


def _no_actions(_outcome: object) -> list[Action]:
    return []


def test_calls_run_on_another_thread_in_order_and_come_back_in_order() -> None:
    woken = threading.Semaphore(0)
    worker = StoreWorker(woken.release)
    threads: list[str] = []

    def work(n: int) -> int:
        threads.append(threading.current_thread().name)
        return n

    try:
        calls = [StoreCall(partial(work, n), _no_actions, client_id=n % 2) for n in range(50)]
        for call in calls:
            worker.submit(call)
        assert worker.waits(0)
        assert worker.waits(1)
        got: list[tuple[StoreCall, object]] = []
        while len(got) < 50:
            assert woken.acquire(timeout=5)
            got += worker.finished()
        assert [outcome for _, outcome in got] == list(range(50))
        assert [call for call, _ in got] == calls
        assert set(threads) == {"store"}
        assert not worker.waits(0)
        assert not worker.waits(1)
        assert worker.in_flight == 0
    finally:
        worker.stop()


def test_a_failing_call_is_answered_with_a_store_error_and_the_next_still_runs() -> None:
    worker = StoreWorker(lambda: None)

    def broken() -> int:
        raise KeyError("a bug")

    def refused() -> int:
        raise StoreError("disk full")

    try:
        for work in (broken, refused, lambda: 3):
            worker.submit(StoreCall(work, _no_actions))
        outcomes: list[object] = []
        while len(outcomes) < 3:
            assert worker.wait(5.0)
            outcomes += [outcome for _, outcome in worker.finished()]
        assert isinstance(outcomes[0], StoreError)
        assert "a bug" in str(outcomes[0])
        assert isinstance(outcomes[1], StoreError)
        assert str(outcomes[1]) == "disk full"
        assert outcomes[2] == 3
    finally:
        worker.stop()
