"""The real app, headless, against a real ``chat-server`` it spawns: key-to-paint under load, and the
incoming rate it sustains without being cut off.

The app connects and creates a group through its own screens (keys, as a user would); a load process
(:mod:`chat_tui.bench_sender`) joins the group and posts at a fixed rate. Meanwhile keys go to the
composer the way the terminal driver sends them, and each key's latency is the time until the first
frame painted with it in the composer. Frames are turned into terminal output as a real terminal
would get them (headless Textual skips that step), so painting costs what it costs in a terminal.
The server runs with its default limits for the app; only the load member's send rate limits are
lifted (it posts thousands a second on purpose).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from statistics import quantiles
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import TextArea

from chat_tui.app import ChatApp
from chat_tui.bench_pane import GcPauses
from chat_tui.screens import ChatScreen, CreateDialog, HomeScreen
from chat_tui.widgets import MessagePane

LOAD_FLAGS = ("--message-rate", "1000000", "--message-burst", "100000", "--request-rate", "1000000",
              "--request-burst", "100000")  # fmt: skip
"""The server's send limits for the load member (per connection, so the app's limits are the defaults)."""
KEY_INTERVAL = 0.05
"""Seconds between two keys typed during a run: 20 keys a second, a fast typist."""
WARM_UP = 0.5
"""Seconds of load before keys are typed, so the measure is of the steady state."""
_LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")
_PASSWORD = "bench-password"


class Server:
    """A ``python -m chat_server`` child on 127.0.0.1, a free port and a temporary SQLite file."""

    def __init__(self, directory: Path) -> None:
        store = f"sqlite:///{(directory / 'bench.sqlite3').resolve()}"
        command = [sys.executable, "-m", "chat_server", "--host", "127.0.0.1", "--port", "0", "--store", store]
        self.process = subprocess.Popen(
            [*command, *LOAD_FLAGS], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        self.log: list[str] = []
        self.port = 0
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if match := _LISTENING.search(line):
                self.port = int(match.group(2))
                break
        else:
            raise RuntimeError("chat-server did not start:\n" + "".join(self.log))

    def stop(self) -> str:
        """Stop the server; its whole log."""
        self.process.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        if self.process.poll() is None:
            self.process.kill()
        assert self.process.stderr is not None
        self.log.extend(self.process.stderr.read().splitlines(keepends=True))
        return "".join(self.log)


class Warnings(logging.Handler):
    """The app's warnings while attached, e.g. "Connection lost: too many unread notifications" (the
    client dropping its own link when it cannot keep up is as much a cut-off as the server's)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class PaintClock:
    """Wraps the app's display call: times each frame and renders it as a terminal would get it."""

    def __init__(self, app: ChatApp, on_frame: Callable[[float], None]) -> None:
        self.frames = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                with suppress(AttributeError):
                    renderable.render_segments(app.console)
                self.frames += 1
                on_frame(time.perf_counter())

        app._display = display  # type: ignore[method-assign]


async def _wait(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app never reached {condition.__doc__ or condition}")
        await pilot.pause(0.02)


async def _open_group(pilot: Pilot[int]) -> tuple[int, TextArea]:
    """Connect and create a group through the app's own screens; the group id and the composer."""
    app = pilot.app
    await pilot.press("enter")  # connect (host, port and name are prefilled)
    await _wait(pilot, lambda: isinstance(app.screen, HomeScreen))
    await pilot.press("c")
    await _wait(pilot, lambda: isinstance(app.screen, CreateDialog))
    await pilot.press(*"bench", "tab", *_PASSWORD, "tab", *_PASSWORD, "enter")
    await _wait(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.is_mounted)
    chat = app.screen
    assert isinstance(chat, ChatScreen)
    return chat.group_id, chat.query_one("#composer", TextArea)


def _newest_seq(app: ChatApp) -> int:
    """The highest seq the chat's pane shows (looked for among its last entries)."""
    shown = app.screen.query_one(MessagePane).entries or ()
    for index in range(len(shown) - 1, max(-1, len(shown) - 50), -1):
        if (seq := shown[index].seq) is not None:
            return seq
    return 0


async def _typing_under_load(app: ChatApp, composer: TextArea, load: subprocess.Popen[str], keys: list[float]) -> int:
    """Type a key every KEY_INTERVAL while ``load`` runs (``keys`` gets each key's send time); returns the
    newest seq shown when the load ended."""
    await asyncio.sleep(WARM_UP)
    composer.focus()
    while load.poll() is None:
        event = events.Key("x", "x")
        event.set_sender(app)
        keys.append(time.perf_counter())
        assert app._driver is not None
        app._driver.send_message(event)  # as the terminal driver does: onto the app's queue
        await asyncio.sleep(KEY_INTERVAL)
    return _newest_seq(app)


async def measure_rate(
    pilot: Pilot[int], group_id: int, composer: TextArea, port: int, *, rate: float, seconds: float
) -> dict[str, Any]:
    """Load the group at ``rate`` for ``seconds`` while typing; latencies and what reached the pane."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    composer.clear()
    await pilot.pause()
    keys: list[float] = []
    painted: list[float] = []
    typed = len(composer.text)

    def on_frame(now: float) -> None:
        while len(painted) < len(keys) and len(composer.text) - typed > len(painted):
            painted.append(now)

    clock = PaintClock(app, on_frame)
    first_seq = _newest_seq(app)
    cpu = time.process_time()
    load = subprocess.Popen(
        [sys.executable, "-m", "chat_tui.bench_sender", "127.0.0.1", str(port), str(group_id), _PASSWORD,
         str(rate), str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.perf_counter()
    warnings = Warnings()
    logging.getLogger("chat_tui").addHandler(warnings)
    with GcPauses() as collector:
        shown_by_end = await _typing_under_load(app, composer, load, keys) - first_seq
        sent = int((load.stdout.read() if load.stdout else "0").strip() or 0)
        complete = True
        try:
            await _wait(pilot, lambda: _newest_seq(app) - first_seq >= sent, timeout=seconds * 4 + 10)
        except TimeoutError:
            complete = False  # cut off, or far behind: the figures say how far it got
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    logging.getLogger("chat_tui").removeHandler(warnings)
    app._display = type(app)._display.__get__(app)  # type: ignore[method-assign]
    latencies = sorted(paint - key for key, paint in zip(keys, painted, strict=False))
    return {
        "rate": rate,
        "sent": sent,
        "shown_when_load_ended": shown_by_end,
        "all_shown": complete,
        "app_warnings": warnings.lines[:5],
        "shown_per_s": round((_newest_seq(app) - first_seq) / elapsed, 1),
        "keys": len(keys),
        "keys_painted": len(latencies),
        "key_to_paint_p50_ms": _ms(latencies, 50),
        "key_to_paint_p99_ms": _ms(latencies, 99),
        "key_to_paint_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "frames": clock.frames,
        **collector.figures(""),
        "app_cpu_s": round(cpu, 2),
        "wall_s": round(elapsed, 2),
    }


def _ms(values: list[float], percent: int) -> float | None:
    if len(values) < 2:
        return round(values[0] * 1000, 1) if values else None
    return round(quantiles(values, n=100, method="inclusive")[percent - 1] * 1000, 1)


async def measure_app(
    rates: list[float], seconds: float, sustain_rate: float, *, gc_freeze: bool = False
) -> dict[str, Any]:
    """Key-to-paint at each of ``rates``, then a run at ``sustain_rate``; whether the server cut us off.

    ``gc_freeze``: once the chat is open, move every object the app has so far out of the cyclic
    collector's reach (``gc.freeze()``), which an app could do after starting up.
    """
    with tempfile.TemporaryDirectory(prefix="chat-tui-bench-") as directory:
        server = Server(Path(directory))
        try:
            app = ChatApp(host="127.0.0.1", port=server.port, name="benchuser")
            async with app.run_test(size=(100, 30)) as pilot:
                group_id, composer = await _open_group(pilot)
                if gc_freeze:
                    gc.freeze()
                runs = [
                    await measure_rate(pilot, group_id, composer, server.port, rate=rate, seconds=seconds)
                    for rate in rates
                ]
                sustained = await measure_rate(
                    pilot, group_id, composer, server.port, rate=sustain_rate, seconds=seconds
                )
        finally:
            log = server.stop()
    return {
        "key_to_paint": runs,
        "sustained": sustained,
        "cut_off_by_server": "slow consumer cut" in log,
        "link_lost": any(run["app_warnings"] for run in [*runs, sustained]),
        "gc_frozen_after_start": gc_freeze,
    }
