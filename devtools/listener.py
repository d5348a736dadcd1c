"""The threaded HTTP server both simulators listen with: it can close the connections it still holds."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TrackingServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its open connections, so stop() can unblock keep-alive handlers."""

    daemon_threads = True
    allow_reuse_address = True
    # Default 5 is too short when many clients connect at once (parallel collection tests).
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Unblock handler threads parked on idle keep-alive connections."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class DispatchingHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler sending GET/POST/PATCH/DELETE to `_dispatch()`."""

    protocol_version = "HTTP/1.1"
    # Without it every keep-alive request stalls ~45 ms (Nagle vs delayed ACK on small writes).
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    sys_version = ""

    def _dispatch(self) -> None:
        raise NotImplementedError

    def read_body(self) -> bytes:
        """The request body; always drained, or the next request on this keep-alive connection is misparsed."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # do_* names are fixed by BaseHTTPRequestHandler.
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()
