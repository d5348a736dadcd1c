"""An azure-core HTTP transport over the standard library's http.client, for the check path.

A Nagios plugin is a process started every few minutes per service, so its start-up is the check's cost: the
SDK's default transport (requests, urllib3, charset detection, idna, certifi) is ~50 ms of imports for reading
two or three entities. azure-core accepts any `HttpTransport` (the `transport=` keyword every client takes), and
ships the response class for an http.client response (`RestHttpClientTransportResponse`); what is left here is
opening a connection per thread and mapping socket errors to azure-core's, so the retry policy and the check's
"storage unreachable" reasons work as they do over requests.

Only the check path uses it (short timeouts, one retry, whole bodies): collection and sync keep requests, with
its connection pool shared by worker threads. With a proxy configured the check path keeps requests too.
"""

from __future__ import annotations

import http.client
import threading
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import RestHttpClientTransportResponse


class HttpClientTransport(HttpTransport):
    """Sends each request on this thread's keep-alive connection to the request's host; whole bodies, no redirects."""

    def __init__(self, *, connection_timeout: float, read_timeout: float, connection_verify: str | bool = True) -> None:
        self._connect_timeout = connection_timeout
        self._read_timeout = read_timeout
        self._verify = connection_verify
        self._local = threading.local()

    def __enter__(self) -> HttpClientTransport:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def open(self) -> None:
        pass

    def close(self) -> None:
        for conn in getattr(self._local, "connections", {}).values():
            conn.close()
        self._local.connections = {}

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        connections: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "connections", {}
        )
        conn = connections.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                import ssl  # Azurite is plain HTTP: TLS is loaded only for an https endpoint

                if self._verify is False:
                    context = ssl._create_unverified_context()
                else:
                    context = ssl.create_default_context(cafile=self._verify if isinstance(self._verify, str) else None)
                conn = http.client.HTTPSConnection(netloc, timeout=self._connect_timeout, context=context)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self._connect_timeout)
            connections[(scheme, netloc)] = conn
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._local.__dict__.get("connections", {}).pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def send(self, request: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = getattr(request, "content", None)
        if body is None:
            body = getattr(request, "data", None)
        if isinstance(body, str):
            body = body.encode("utf-8")
        connect_timeout = kwargs.get("connection_timeout", self._connect_timeout)
        read_timeout = kwargs.get("read_timeout", self._read_timeout)
        for attempt in (1, 2):
            conn = self._connection(parts.scheme, parts.netloc)
            reused = conn.sock is not None
            try:
                return self._send_on(conn, request, target, body, connect_timeout, read_timeout)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as err:
                self._drop(parts.scheme, parts.netloc)
                # A keep-alive connection the server closed while idle: sent again once on a new one, as
                # urllib3 does, before the retry policy (and its backoff) sees it.
                if not reused or attempt == 2:
                    raise ServiceResponseError(err, error=err) from err
            except BaseException:
                self._drop(parts.scheme, parts.netloc)
                raise
        raise AssertionError("unreachable")

    def _send_on(
        self,
        conn: http.client.HTTPConnection,
        request: Any,
        target: str,
        body: bytes | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> Any:
        try:
            if conn.sock is None:
                conn.timeout = connect_timeout
                conn.connect()
            conn.sock.settimeout(read_timeout)
        except TimeoutError as err:
            raise ServiceRequestTimeoutError(f"connect timeout: {err}", error=err) from err
        except OSError as err:
            raise ServiceRequestError(err, error=err) from err
        try:
            conn.request(request.method, target, body=body, headers=dict(request.headers))
            raw = conn.getresponse()
            response = RestHttpClientTransportResponse(request=request, internal_response=raw)
            response.read()
        except TimeoutError as err:
            raise ServiceResponseTimeoutError(f"read timed out: {err}", error=err) from err
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            raise
        except (http.client.HTTPException, OSError) as err:
            raise ServiceResponseError(err, error=err) from err
        if raw.will_close:
            conn.close()
        return response
