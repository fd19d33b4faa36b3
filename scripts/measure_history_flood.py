"""Measure a healthy client's round trip while hostile connections pipeline fetch_history (issue 8 item 5).

Starts a real server from the checkout on PYTHONPATH (so the same script measures an old checkout too),
fills a group with history, lets N hostile members send history requests as fast as their sockets
take them (each also reads its replies, so none is a slow consumer), and times a healthy member's
send_message -> message_accepted round trips meanwhile. Prints one JSON line.

    PYTHONPATH=. python scripts/measure_history_flood.py --hostile 1
    PYTHONPATH=/work/base python scripts/measure_history_flood.py --hostile 4
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from shared import Error, FetchHistory, GroupJoined, JoinGroup, MessageAccepted, SendMessage
from tests.helpers import RawClient

_LISTENING = re.compile(r"listening on (?:\[([0-9A-Fa-f:.]+)\]|([\d.]+)):(\d+)")
_LIFTED = ["--max-connections-per-address", "1000", "--connect-attempts", "100000"]
_LIFTED += ["--message-burst", "1000000", "--message-rate", "1000000"]


def _start(store: Path) -> tuple[subprocess.Popen[str], tuple[str, int]]:
    cmd = [sys.executable, "-m", "chat_server", "--port", "0", "--store", f"sqlite:///{store}", *_LIFTED]
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    for line in server.stderr:
        if match := _LISTENING.search(line):
            threading.Thread(target=server.stderr.read, daemon=True).start()  # keep the pipe drained
            return server, (match.group(1) or match.group(2), int(match.group(3)))
    raise RuntimeError("the server did not start")


def _join(address: tuple[str, int], name: str) -> RawClient:
    client = RawClient(address, timeout=30)
    while True:  # a throttled join says when to try again
        client.send(JoinGroup(1, 1, "pw", name))
        reply = client.wait_for(lambda e: getattr(e, "request_id", None) == 1)
        if isinstance(reply, GroupJoined):
            return client
        if not isinstance(reply, Error) or reply.code not in ("too_many_attempts", "server_busy", "busy"):
            raise RuntimeError(f"cannot join: {reply}")
        time.sleep((getattr(reply, "retry_after_ms", None) or 1000) / 1000)


def _flood(address: tuple[str, int], name: str, limit: int, stop: threading.Event) -> None:
    """Pipeline history requests as fast as the socket takes them; when cut off, come back (an attacker would)."""
    for attempt in range(1_000_000):
        if stop.is_set():
            return
        client = _join(address, f"{name}-{attempt}")
        batch = b"".join(client.conn.send(FetchHistory(i + 2, 1, 1_000_000, limit)) for i in range(100))
        client.sock.settimeout(None)
        threading.Thread(target=_drain, args=(client,), daemon=True).start()
        try:
            while not stop.is_set():
                client.send_raw(batch)
        except OSError:
            client.close()


def _drain(client: RawClient) -> None:
    try:
        while client.sock.recv(1 << 20):
            pass
    except OSError:
        pass


def _round_trips(client: RawClient, samples: int, timeout: float, duration: float) -> tuple[list[float], int]:
    times, timeouts = [], 0
    client.timeout = timeout
    deadline = time.monotonic() + duration
    for i in range(samples):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        request_id = 1000 + i
        client.send(SendMessage(request_id, 1, f"ping {i}"))
        try:
            client.wait_for(lambda e: isinstance(e, MessageAccepted) and e.request_id == request_id)  # noqa: B023
        except TimeoutError:
            timeouts += 1
            continue
        times.append(time.perf_counter() - start)
        client.inbox.clear()
        time.sleep(0.01)
    return times, timeouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hostile", type=int, default=1, help="connections pipelining fetch_history")
    parser.add_argument("--limit", type=int, default=100, help="rows each history request asks for")
    parser.add_argument("--samples", type=int, default=300, help="healthy round trips to time")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a round trip counts as lost")
    parser.add_argument("--duration", type=float, default=60.0, help="most seconds spent timing round trips")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, address = _start(Path(tmp) / "chat.db")
        try:
            owner = RawClient(address, timeout=30)
            owner.create("flood", "pw", "Owner")
            for i in range(300):
                owner.send(SendMessage(10 + i, 1, f"history {i} " + "x" * 200))
            owner.wait_for(lambda e: isinstance(e, MessageAccepted) and e.request_id == 309)
            healthy = _join(address, "Healthy")
            stop = threading.Event()
            for i in range(args.hostile):
                threading.Thread(target=_flood, args=(address, f"Hostile{i}", args.limit, stop), daemon=True).start()
            time.sleep(1.0)  # let the flood start (each hostile joins first)
            times, timeouts = _round_trips(healthy, args.samples, args.timeout, args.duration)
            stop.set()
        finally:
            server.kill()
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else None
    result = {"hostile": args.hostile, "limit": args.limit, "samples": len(ms), "timeouts": timeouts}
    result |= {"p50_ms": statistics.median(ms) if ms else None, "p99_ms": p99, "max_ms": ms[-1] if ms else None}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
