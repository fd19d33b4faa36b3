"""Roles, states and every rule about which event may flow when. All state rules live here."""

from __future__ import annotations

import enum

from shared import events as ev


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    HANDSHAKE = "handshake"  # until the client's Hello
    HELLO_SENT = "hello_sent"  # until the server's Welcome: the client may already pipeline requests
    READY = "ready"  # requests and notifications flow
    CLOSED = "closed"  # after ServerClosing or a connection-level Error; nothing more is accepted


_ALWAYS_SERVER = frozenset({ev.Error, ev.ServerClosing})
_READY_CLIENT = frozenset(ev.CLIENT_EVENTS) - {ev.Hello}
_READY_SERVER = frozenset(ev.SERVER_EVENTS) - {ev.Welcome}

# (who sends, current state) -> event types that sender may send. A client speaks first, once,
# with Hello: before it the surface (and its tighter frame limit) is that one frame type. After
# Hello a client may pipeline requests without waiting for Welcome (a round trip saved on every
# connect); the server answers Welcome before anything else, so it may send nothing but Welcome
# or a closing frame until then, and handles the pipelined requests after it, in order.
ALLOWED: dict[tuple[Role, State], frozenset[type[ev.Event]]] = {
    (Role.CLIENT, State.HANDSHAKE): frozenset({ev.Hello}),
    (Role.SERVER, State.HANDSHAKE): _ALWAYS_SERVER,
    (Role.CLIENT, State.HELLO_SENT): _READY_CLIENT,
    (Role.SERVER, State.HELLO_SENT): _ALWAYS_SERVER | {ev.Welcome},
    (Role.CLIENT, State.READY): _READY_CLIENT,
    (Role.SERVER, State.READY): _READY_SERVER,
    (Role.CLIENT, State.CLOSED): frozenset(),
    (Role.SERVER, State.CLOSED): frozenset(),
}


# Events that never change the state: the common case, answered with one set lookup.
_NEUTRAL = frozenset(ev.CLIENT_EVENTS + ev.SERVER_EVENTS) - {ev.Hello, ev.Welcome, ev.ServerClosing, ev.Error}


def next_state(state: State, event: ev.Event) -> State:
    """The state after ``event`` was sent or received in ``state``."""
    if type(event) in _NEUTRAL:
        return state
    if isinstance(event, ev.Hello):
        return State.HELLO_SENT
    if isinstance(event, ev.Welcome):
        return State.READY
    if isinstance(event, ev.ServerClosing) or (isinstance(event, ev.Error) and event.request_id is None):
        return State.CLOSED
    return state
