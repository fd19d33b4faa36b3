"""BusListener: one thread subscribed to the bus, handing decoded events to the loop.

Redis pub/sub is at-most-once: whatever is published while the connection is down is lost. So the
listener never hides a reconnect: after every successful subscribe (the first included) it queues
:class:`Resync`, and the loop answers it by reloading groups and members and refilling every group's
log from the store. The loop never waits on Redis: it is woken through ``wake`` (its self-pipe) when
events arrive, and takes them with :meth:`BusListener.events`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from chat_server.cluster.events import Event, Resync, decode_event
from chat_server.store.redis import BUS_CHANNEL

__all__ = ["BusListener"]

log = logging.getLogger("chat_server")

QUEUE_LIMIT = 100_000
"""Events held for the loop at most: a loop this far behind is stuck; past it, events are dropped and a
Resync queued once there is room, and the refill it causes reads the lost messages back from the log."""
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0
"""Seconds between attempts to reach Redis: doubling from the first, so a restart is noticed within
0.1 s and a long outage costs Redis one attempt per 2 s per process."""
POLL = 0.2
"""Seconds each wait for a message lasts: how long :meth:`BusListener.stop` may wait for the thread."""
SILENCE_PING = 5.0
DEAD_AFTER = 3.0
"""After SILENCE_PING seconds without a word from Redis the listener PINGs; without an answer within
DEAD_AFTER more it takes the link as dead (a cut cable gives no error for minutes) and reconnects."""
CONNECT_TIMEOUT = 1.0
STOP_TIMEOUT = 2.0


class BusListener:
    """A daemon thread subscribed to ``channel`` with redis-py, reconnecting forever until :meth:`stop`.

    Args:
        url: Redis to subscribe on (``RedisStore.url``).
        wake: called from the thread when the queue goes from empty to not empty.
        limit: events held at most (QUEUE_LIMIT; small in tests).
        silence: seconds without a word from Redis before it is PINGed (SILENCE_PING; small in tests).
    """

    def __init__(
        self,
        url: str,
        wake: Callable[[], None],
        *,
        channel: str = BUS_CHANNEL,
        limit: int = QUEUE_LIMIT,
        silence: float = SILENCE_PING,
    ) -> None:
        self._url = url
        self._wake = wake
        self._channel = channel
        self._limit = limit
        self._silence = silence
        self._queue: deque[Event] = deque()
        self._lock = threading.Lock()
        self._lost = False  # events were dropped: a Resync is owed once there is room
        self.dropped = 0
        self.connected = False
        """Subscribed right now (for logs and tests; the loop goes by Resync, not by this)."""
        """Events dropped because the queue was full, since the start (for logs and tests)."""
        self._garbage = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop listening; returns within STOP_TIMEOUT seconds (the thread is a daemon, so it never holds
        up the process's exit)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)

    def events(self) -> list[Event]:
        """Every event received since the last call, oldest first (on the loop thread)."""
        with self._lock:
            taken = list(self._queue)
            self._queue.clear()
            if self._lost:
                taken.append(Resync())
                self._lost = False
        return taken

    def _put(self, event: Event) -> None:
        with self._lock:
            if len(self._queue) >= self._limit:
                if not self._lost:
                    log.warning("bus: %d events wait for the loop; dropping until it catches up", self._limit)
                self._lost = True
                self.dropped += 1
                return
            woke = not self._queue
            self._queue.append(event)
        if woke:
            self._wake()

    def _run(self) -> None:
        import redis  # noqa: PLC0415 (an optional extra: cluster mode is only built with it)

        delay = BACKOFF_FIRST
        failing = False
        while not self._stopping.is_set():
            client: Any = redis.Redis.from_url(
                self._url, socket_timeout=CONNECT_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT
            )
            pubsub = client.pubsub()
            try:
                if self._subscribe(pubsub):
                    log.info("bus: subscribed to %s", self._channel)
                    delay, failing, self.connected = BACKOFF_FIRST, False, True
                    self._put(Resync())
                    self._listen(pubsub)
            except Exception as exc:  # anything: the thread must outlive every failure, bugs included
                if not failing:
                    log.warning("bus: lost Redis (%s); retrying every %.1f-%.1f s", exc, BACKOFF_FIRST, BACKOFF_MAX)
                failing = True
            finally:
                self.connected = False
                pubsub.close()
                client.close()
            if failing:
                self._stopping.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    def _subscribe(self, pubsub: Any) -> bool:
        """Subscribe and wait for Redis's confirmation: only from then on is nothing published missed."""
        pubsub.subscribe(self._channel)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not self._stopping.is_set():
            message = pubsub.get_message(timeout=POLL)
            if message is not None and message["type"] == "subscribe":
                return True
            if time.monotonic() > deadline:
                raise TimeoutError(f"no confirmation of SUBSCRIBE {self._channel} within {CONNECT_TIMEOUT} s")
        return False

    def _listen(self, pubsub: Any) -> None:
        heard = time.monotonic()
        pinged: float | None = None
        while not self._stopping.is_set():
            message = pubsub.get_message(timeout=POLL)
            now = time.monotonic()
            if message is None:
                if pinged is None and now - heard > self._silence:
                    pubsub.ping()
                    pinged = now
                elif pinged is not None and now - pinged > DEAD_AFTER:
                    raise TimeoutError(f"no answer to PING within {DEAD_AFTER} s")
                continue
            heard, pinged = now, None
            if message["type"] == "message":
                self._take(message["data"])

    def _take(self, data: Any) -> None:
        event = decode_event(data)
        if event is not None:
            self._put(event)
            return
        # Foreign or damaged: dropped. Logged at 1, 10, 100... so a flood cannot fill the log.
        self._garbage += 1
        if str(self._garbage).rstrip("0") == "1":
            log.warning("bus: dropped %d payload(s) that are not our events, latest %r", self._garbage, data[:40])
