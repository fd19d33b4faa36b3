"""The sans-IO protocol connection: bytes in -> events out, events in -> bytes out."""

from __future__ import annotations

from shared import codec, events, limits
from shared.errors import LocalProtocolError, ProtocolError, UnexpectedEvent, VersionMismatch
from shared.framing import FrameReader
from shared.state import ALLOWED, Role, State, next_state


def _peer(role: Role) -> Role:
    return Role.SERVER if role is Role.CLIENT else Role.CLIENT


class Connection:
    """One side of one connection. Performs no I/O: feed it received bytes, send the bytes it returns.

    Args:
        role: which side we are.
        max_frame_size: largest frame body accepted once ``hello`` has passed.
        max_handshake_frame_size: largest frame body accepted before it (only Hello is legal then,
            and it is small, so a peer that has not even said hello cannot make us buffer much).
    """

    # One per connection on a server holding thousands: no per-instance dict.
    __slots__ = (
        "_max_array_len", "_reader", "_they_may_send", "_we_may_send", "max_frame_size", "our_role", "state",
        "their_role",
    )  # fmt: skip

    def __init__(
        self,
        role: Role,
        *,
        max_frame_size: int = limits.MAX_FRAME_SIZE,
        max_handshake_frame_size: int = limits.MAX_HANDSHAKE_FRAME_SIZE,
    ) -> None:
        self.our_role = role
        self.their_role = _peer(role)
        self.max_frame_size = max_frame_size
        # The only array a client frame holds is hello's features: a server refuses any longer array
        # before building it.
        self._max_array_len = limits.MAX_FEATURES if role is Role.SERVER else limits.MAX_MEMBERS_IN_FRAME
        self._reader = FrameReader(min(max_handshake_frame_size, max_frame_size))
        self._enter(State.HANDSHAKE)

    def _enter(self, state: State) -> None:
        self.state = state
        # Looked up once per state change, not per frame: this sits on the hot path of every message.
        self._we_may_send = ALLOWED[(self.our_role, state)]
        self._they_may_send = ALLOWED[(self.their_role, state)]
        if state is not State.HANDSHAKE:
            # After hello a client may pipeline requests before welcome (a message is up to 16 KB).
            self._reader.max_frame_size = self.max_frame_size

    @property
    def buffered(self) -> int:
        """Received bytes of a frame not yet complete."""
        return self._reader.buffered

    def receive_data(self, data: bytes) -> list[events.Event]:
        """Every event completed by ``data``, in order.

        Raises:
            ProtocolError: the peer broke the protocol. Its ``pending_events`` holds the events decoded
                before the offending frame; the connection must be closed after handling them.
        """
        self._reader.feed(data)
        received: list[events.Event] = []
        try:
            while (body := self._reader.next_frame()) is not None:
                # The order decides which error a frame breaking several rules gets (PROTOCOL.md §3):
                # shape, then type, then state, then fields; a frame the state forbids is not even built.
                wire = codec.unpack(body, self._max_array_len)
                cls = codec.frame_class(wire)
                self._check(self.their_role, self._they_may_send, cls, UnexpectedEvent)
                event = codec.build(cls, wire)
                if isinstance(event, events.Hello) and event.version != limits.PROTOCOL_VERSION:
                    raise VersionMismatch(
                        f"protocol version {event.version} is not supported; the server speaks "
                        f"version {limits.PROTOCOL_VERSION}"
                    )
                self._advance(event)
                received.append(event)
        except ProtocolError as exc:
            self._enter(State.CLOSED)
            exc.pending_events = list(received)
            raise
        return received

    def send(self, event: events.Event) -> bytes:
        """The frame for ``event``; raises LocalProtocolError if we may not send it now."""
        self._check(self.our_role, self._we_may_send, type(event), LocalProtocolError)
        self._advance(event)
        return codec.encode(event)

    def _check(
        self, sender: Role, allowed: frozenset[type[events.Event]], cls: type[events.Event], error: type[Exception]
    ) -> None:
        if cls not in allowed:
            raise error(f"{cls.TYPE!r} from the {sender.value} is not allowed in state {self.state.value}")

    def _advance(self, event: events.Event) -> None:
        state = next_state(self.state, event)
        if state is not self.state:
            self._enter(state)
