"""A real HTTP server on loopback that records what it receives (webhook receivers, Okta).

It answers each request with the next scripted status (the last one repeats), after an
optional delay, so tests can drive retries, timeouts and failures through real sockets.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=lambda: [204])
    body: bytes = b""  # what every answer carries (an AWS API answers XML)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def _next_status(self) -> int:
        index = min(len(self.received) - 1, len(self.statuses) - 1)
        return self.statuses[index]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.received.append(
                Received(self.command, self.path, dict(self.headers.items()), body)
            )
            status = receiver._next_status()
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)
            except OSError:  # the client gave up waiting (a timeout test)
                pass

        do_POST = _handle
        do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiver(
    statuses: list[int] | None = None, delay: float = 0.0, body: bytes = b""
) -> Iterator[Receiver]:
    """A :class:`Receiver` serving on ``127.0.0.1`` in a thread for the ``with`` block."""
    state = Receiver(statuses=statuses or [204], body=body, delay=delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused (a receiver that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
