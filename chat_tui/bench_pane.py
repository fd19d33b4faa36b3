"""The message pane alone, headless: appending N messages, its memory, a resize, at that size.

The pane renders an :class:`~chat_tui.session.entries.EntryList` fed here directly, in batches with a
yield between them (what the session's receive loop does), so Textual paints as it would in the app.
CPU seconds come from ``time.process_time`` (this process only; the machine may be shared), memory
from the resident set in ``/proc/self/statm``, "blocked" from a ticker task that measures the longest
stretch the event loop did not come back to it.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from textual.app import App, ComposeResult

from chat_tui.session.entries import Entry, EntryList
from chat_tui.widgets.message_pane import MessagePane

_WORDS = [
    "the",
    "a",
    "chat",
    "group",
    "message",
    "hello",
    "is",
    "are",
    "we",
    "you",
    "it",
    "on",
    "at",
    "for",
    "with",
    "this",
    "that",
    "to",
    "of",
    "and",
]


def sample_entries(count: int, *, seed: int = 9) -> list[Entry]:
    """``count`` chat messages like a busy group's: 50 senders, 1 to 30 words, now and then two lines."""
    rng = random.Random(seed)
    entries = []
    for seq in range(1, count + 1):
        text = " ".join(rng.choices(_WORDS, k=rng.randint(1, 30)))
        if seq % 25 == 0:
            text += "\nsecond line"
        entries.append(Entry("message", text, sender=f"user{seq % 50}", time="12:34", seq=seq))
    return entries


def rss_mib() -> float:
    """The resident set of this process, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Stalls:
    """The longest time the event loop took to come back to a ticker sleeping 1 ms at a time."""

    longest: float = 0.0
    running: bool = True

    async def tick(self) -> None:
        last = time.perf_counter()
        while self.running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.001)
            last = now


class GcPauses:
    """The cyclic garbage collector's passes while watching: how long in all, and the longest.

    The longest stalls of the app are full (generation 2) passes, whose length grows with every object
    the process keeps: this says how much of a measured stall or latency was the collector's.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.total += pause
            self.longest = max(self.longest, pause)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def figures(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}gc_total_ms": round(self.total * 1000, 1),
            f"{prefix}gc_longest_ms": round(self.longest * 1000, 1),
        }


@asynccontextmanager
async def watching_stalls() -> AsyncIterator[Stalls]:
    """Measure the event loop's longest stall while the body runs."""
    stalls = Stalls()
    task = asyncio.create_task(stalls.tick())
    await asyncio.sleep(0.01)
    stalls.longest = 0.0
    try:
        yield stalls
    finally:
        stalls.running = False
        await task


class PaneApp(App[int]):
    """A pane filling the screen, showing ``entries``."""

    def __init__(self, entries: EntryList) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        yield MessagePane(self.entries)


async def measure_pane(count: int, *, batch: int = 1000, size: tuple[int, int] = (100, 40)) -> dict[str, float]:
    """Append ``count`` messages in batches of ``batch``, then resize; the figures as a dict."""
    entries = EntryList()
    app = PaneApp(entries)
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(MessagePane)
        await pilot.pause()
        before = rss_mib()
        messages = sample_entries(count)
        built = rss_mib()
        cpu, wall = time.process_time(), time.perf_counter()
        with GcPauses() as append_gc:
            async with watching_stalls() as stalls:
                for start in range(0, count, batch):
                    entries.append(messages[start : start + batch], live=min(batch, count - start))
                    await asyncio.sleep(0)  # the receive loop yields between batches: keys and paints run
                await pilot.pause()
        append_cpu, append_wall = time.process_time() - cpu, time.perf_counter() - wall
        after = rss_mib()
        assert pane.following
        assert len(entries) == count
        cpu = time.process_time()
        with GcPauses() as resize_gc:
            async with watching_stalls() as resize:
                await pilot.resize_terminal(size[0] - 23, size[1] - 7)
                await pilot.pause()
                await pilot.resize_terminal(size[0], size[1] - 7)
                await pilot.pause()
        resize_cpu = time.process_time() - cpu
        assert pane.following
        assert pane.scroll_y == pane.max_scroll_y
    return {
        "messages": count,
        "append_cpu_s": round(append_cpu, 3),
        "append_wall_s": round(append_wall, 3),
        "append_longest_stall_ms": round(stalls.longest * 1000, 1),
        "pane_memory_mib": round(after - built, 1),
        "entries_memory_mib": round(built - before, 1),
        "resize_blocked_ms": round(resize.longest * 1000, 1),
        "resize_cpu_ms": round(resize_cpu * 1000, 1),
        **append_gc.figures("append_"),
        **resize_gc.figures("resize_"),
    }
