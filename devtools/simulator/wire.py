"""The simulator's HTTP plumbing: listeners, the request handler and the reply a route returns."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from devtools.listener import DispatchingHandler, TrackingServer

from .tenants import SampleTenant

logger = logging.getLogger("o365mon.simulator")

if TYPE_CHECKING:
    from .server import GraphSimulator


REDACTED = "<redacted>"
DOWNLOAD_PATH = re.compile(r"/data/download/([A-Za-z0-9_-]+)")


class RequestRecord(NamedTuple):
    method: str
    path: str  # percent-decoded; download tokens replaced by <redacted>
    headers: dict[str, str]  # lowercase names; Authorization and cookies present but <redacted>


@dataclass
class Grant:
    tenant_id: str
    client_id: str
    resource: str
    expires_at: float
    roles: frozenset[str] = frozenset()  # the application permissions granted in the tenant (the token's `roles`)


@dataclass
class Download:
    tenant: SampleTenant
    function: str
    period_or_date: str | dt.date
    options: dict[str, bool]
    origin_path: str
    expires_at: float


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: _Readable | None = None  # sent instead of body, `stream_length` bytes
    stream_length: int = 0
    # A connection dropped mid-body: the stream is shorter than `stream_length`, then the socket is closed.
    drop: bool = False


def json_reply(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    return Reply(status, json.dumps(payload, separators=(",", ":")).encode(), headers=list(headers))


class Listener(TrackingServer):
    def __init__(self, address: tuple[str, int], sim: GraphSimulator, role: str, tls: ssl.SSLContext | None) -> None:
        self.sim = sim
        self.role = role
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # Handshake later, in the connection's own thread, so one slow client cannot block accept().
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Dropped keep-alive connections and rejected TLS handshakes are routine in tests.
        logger.debug("connection error on %s listener from %s", self.role, client_address, exc_info=True)


class _Handler(DispatchingHandler):
    server: Listener
    server_version = "o365mon-graph-simulator"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self.read_body()
        try:
            reply = self.server.sim._handle(self.server.role, self.command, self.path, self.headers, body)
        except Exception:
            logger.exception("simulator error handling %s %s", self.command, self.server.role)
            reply = self.server.sim._graph_error(500, "InternalServerError", "Simulator failure.", self.headers)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        length = reply.stream_length if reply.stream is not None else len(reply.body)
        if reply.status not in (204, 304):  # these carry no body, and no Content-Length either (RFC 9110)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            if reply.stream is not None:
                shutil.copyfileobj(reply.stream, self.wfile, 256 * 1024)
            elif reply.body:
                self.wfile.write(reply.body)
        finally:
            if reply.stream is not None:
                reply.stream.close()
            if reply.drop:
                self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # The request line of a download carries its pre-authenticated token.
        logger.debug("%s %s", self.server.role, redact_path(format % args))


def redact_path(path: str) -> str:
    return DOWNLOAD_PATH.sub("/data/download/" + REDACTED, path)
