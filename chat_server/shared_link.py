"""SharedStoreLink: the loop's side of a shared store (``--store redis://``): its calls and its bus.

The loop never calls Redis. A :class:`StoreCall` runs on the store thread; what other processes
publish arrives on the bus listener's thread; both wake the loop, which then calls :meth:`drain`
to carry out what follows, on its own thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chat_server.cluster.bus import BusListener
from chat_server.cluster.node import BusEvent
from chat_server.groups import ClientId
from chat_server.outgoing import Action, StoreCall
from chat_server.store.redis import RedisStore
from chat_server.store_worker import Outcome, StoreWorker

log = logging.getLogger("chat_server")

CarryOut = Callable[[list[Action]], None]


class SharedStoreLink:
    """The store thread and the bus listener of one server process.

    Args:
        carry_out: the loop's way of carrying out actions.
        on_bus: the core's answer to what the bus says (``ChatCore.on_bus``).
        fail: fail one client's connection with ``internal`` (the loop's fault isolation).
    """

    def __init__(
        self,
        store: RedisStore,
        wake: Callable[[], None],
        carry_out: CarryOut,
        on_bus: Callable[[list[BusEvent]], list[Action]],
        fail: Callable[[ClientId], None],
    ) -> None:
        self._worker = StoreWorker(wake)
        self._bus = BusListener(store.url, wake)
        self._carry_out, self._on_bus, self._fail = carry_out, on_bus, fail

    def start(self) -> None:
        self._bus.start()

    def submit(self, call: StoreCall) -> None:
        self._worker.submit(call)

    def waits(self, client_id: ClientId) -> bool:
        """Whether a request of this client waits for a store call (its next request waits too)."""
        return self._worker.waits(client_id)

    def drain(self) -> None:
        """Carry out what follows every finished store call, in order, then what the bus said."""
        for call, outcome in self._worker.finished():
            self._done(call, outcome)
        if events := self._bus.events():
            try:
                self._carry_out(self._on_bus(events))
            except Exception:
                log.exception("internal error handling what other server processes published")

    def _done(self, call: StoreCall, outcome: Outcome) -> None:
        """Carry out what follows a store call; an exception fails the client that waited, never the loop."""
        try:
            self._carry_out(call.then(outcome))
        except Exception:
            if call.client_id is None:
                log.exception("internal error after a store call")
            else:
                self._fail(call.client_id)

    def finish(self, leave: Callable[[], list[Action]], grace: float) -> None:
        """At shutdown: wait (up to ``grace`` seconds) for the calls in flight, commits included, so their
        senders are answered; then ``leave``'s calls (this process's members leave every list now)."""
        deadline = time.monotonic() + grace
        left = False
        while time.monotonic() < deadline:
            if not self._worker.in_flight:
                if left:
                    return
                self._carry_out(leave())
                left = True
            if self._worker.wait(0.1):
                self.drain()

    def stop(self) -> None:
        self._bus.stop()
        self._worker.stop()
