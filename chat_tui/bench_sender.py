"""The load for ``chat-tui-bench``: a member that posts to a group at a fixed rate, in its own process.

Run as ``python -m chat_tui.bench_sender HOST PORT GROUP_ID PASSWORD RATE SECONDS``; it prints the
number of messages it sent. Its own process, so the load does not take the measured app's CPU or GIL.
It speaks through :class:`shared.Connection` and drains what the server sends back on a thread (a
member that stops reading is cut off as a slow consumer, which would end the load early).
"""

from __future__ import annotations

import socket
import sys
import threading
import time

from shared import PROTOCOL_VERSION, Connection, GroupJoined, Hello, JoinGroup, Role, SendMessage, Welcome

TICK = 0.005
"""Seconds between bursts: the rate is kept per tick, so the load is smooth at 5,000 msg/s."""


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(1 << 16):
            pass
    except OSError:
        pass


def _wait_for(sock: socket.socket, conn: Connection, kind: type) -> None:
    while True:
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        if any(isinstance(event, kind) for event in conn.receive_data(data)):
            return


def run(host: str, port: int, group_id: int, password: str, *, rate: float, seconds: float) -> int:
    """Join ``group_id`` and post ``rate`` messages a second for ``seconds``; the count sent."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Connection(Role.CLIENT)
    sock.sendall(conn.send(Hello(request_id=1, version=PROTOCOL_VERSION, client="chat-tui-bench")))
    _wait_for(sock, conn, Welcome)
    sock.sendall(conn.send(JoinGroup(request_id=2, group_id=group_id, password=password, name="loadbot")))
    _wait_for(sock, conn, GroupJoined)
    threading.Thread(target=_drain, args=(sock,), daemon=True).start()
    start = time.perf_counter()
    sent, request_id = 0, 3
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate) + 1
        frames = []
        while sent < due:
            text = f"load message {sent} from the benchmark, about as long as a chat line"
            frames.append(conn.send(SendMessage(request_id=request_id, group_id=group_id, text=text)))
            sent, request_id = sent + 1, request_id + 1
        if frames:
            sock.sendall(b"".join(frames))
        time.sleep(TICK)
    sock.close()
    return sent


def main() -> None:
    host, port, group_id, password, rate, seconds = sys.argv[1:7]
    print(run(host, int(port), int(group_id), password, rate=float(rate), seconds=float(seconds)), flush=True)


if __name__ == "__main__":
    main()
