"""Protocol errors. Each class carries the stable wire code sent in an ``error`` frame."""

from __future__ import annotations


class ProtocolError(Exception):
    """The peer broke the protocol; the connection cannot continue.

    ``pending_events`` holds the events decoded from the same input *before* the
    offending frame, so a caller can still act on them (nothing good is lost).
    """

    code = "bad_frame"

    def __init__(self, message: str, pending_events: list[object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pending_events: list[object] = pending_events or []


class FrameTooLarge(ProtocolError):
    """The length prefix announces more than the frame size limit."""

    code = "frame_too_large"


class MalformedFrame(ProtocolError):
    """The body is not exactly one msgpack map with a known ``type``."""

    code = "bad_frame"


class InvalidField(ProtocolError):
    """A field is missing, of the wrong type or out of range."""

    code = "bad_request"


class UnexpectedEvent(ProtocolError):
    """The event is not allowed in the connection's current state or direction."""

    code = "unexpected"


class VersionMismatch(ProtocolError):
    """The client speaks a protocol version this server does not."""

    code = "unsupported_version"


class LocalProtocolError(Exception):
    """We tried to send something the protocol forbids: a bug in the caller."""
