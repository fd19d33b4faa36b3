"""The per-connection record the loop keeps: socket, protocol state and pending output."""

from __future__ import annotations

import socket

from chat_server.config import ServerConfig
from chat_server.groups import ClientId
from chat_server.outbuf import OutputBuffer
from shared import Connection, Role


class Client:
    """One accepted connection."""

    __slots__ = ("address", "client_id", "closing", "conn", "out", "sock", "writing")

    def __init__(self, client_id: ClientId, sock: socket.socket, address: str, config: ServerConfig) -> None:
        self.client_id = client_id
        self.sock = sock
        self.address = address
        self.conn = Connection(Role.SERVER, max_frame_size=config.max_frame_size)
        self.out = OutputBuffer()
        # Why we are closing, once decided; the socket closes when its output has drained.
        self.closing: str | None = None
        # Whether the selector watches this socket for writability (only while output is pending).
        self.writing = False

    def __repr__(self) -> str:
        return f"conn {self.client_id} ({self.address})"
