"""The Graph simulator: local login, Graph and report-download listeners that real clients talk to.

Three listeners on 127.0.0.1, because the real clients insist on three different things:
- login (HTTPS): azure-identity refuses an http:// authority;
- graph (HTTP): kiota accepts plain http for loopback hosts, which spares a CA setup for httpx;
- download (HTTP, another port, announced as `localhost`): the SDK drops `Authorization` when a redirect
  changes host or port, exactly as with reports.office.com, and refuses a scheme change, so it stays http.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import io
import json
import logging
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import certs, directory, health
from .faults import Fault, FaultBook
from .tenants import PERIODS, REPORT_FUNCTIONS, SampleTenant, report_csv

logger = logging.getLogger("o365mon.simulator")

TOKEN_LIFETIME = 3599
DEFAULT_DOWNLOAD_TTL = 300.0  # "valid for a short period of time (a few minutes)"
DATE_WINDOW_DAYS = 28  # what the service enforces, although the docs say 30
_REDACTED = "<redacted>"
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_REPORT_PATH = re.compile(r"/v1\.0/reports/(\w+)\((.*)\)")
_DOWNLOAD_PATH = re.compile(r"/data/download/([A-Za-z0-9_-]+)")
_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#"
DEFAULT_PAGE_SIZE = 100  # "The response is paginated and each page contains 100 objects." [D]
SERVICE_ANNOUNCEMENT = "/v1.0/admin/serviceAnnouncement/"


@dataclass(frozen=True)
class AppCredential:
    """An app registration: what the token endpoint accepts for one client id."""

    secret: str | None = None
    thumbprint: str | None = None  # SHA-1 hex of a registered certificate (certs.make_client_certificate)
    certificate_pem: bytes | None = None  # optional: when given, the assertion signature is verified too
    tenants: frozenset[str] | None = None  # tenant ids where the app is consented; None: every tenant

    def __post_init__(self) -> None:
        if self.certificate_pem and not self.thumbprint:
            cert = x509.load_pem_x509_certificate(self.certificate_pem)
            object.__setattr__(self, "thumbprint", certs.certificate_thumbprint(cert))
        if self.thumbprint:
            object.__setattr__(self, "thumbprint", self.thumbprint.replace(":", "").upper())

    def __repr__(self) -> str:
        # Keep the secret out of reprs that may end up in logs or test output.
        return f"AppCredential(secret={'***' if self.secret else None}, thumbprint={self.thumbprint!r})"


class RequestRecord(NamedTuple):
    method: str
    path: str  # percent-decoded; download tokens replaced by <redacted>
    headers: dict[str, str]  # lowercase names; Authorization and cookies present but <redacted>


@dataclass
class _Grant:
    tenant_id: str
    client_id: str
    resource: str
    expires_at: float


@dataclass
class _Download:
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
class _Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: _Readable | None = None  # sent instead of body, `stream_length` bytes
    stream_length: int = 0
    # A connection dropped mid-body: the stream is shorter than `stream_length`, then the socket is closed.
    drop: bool = False


def _json_reply(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> _Reply:
    return _Reply(status, json.dumps(payload, separators=(",", ":")).encode(), headers=list(headers))


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Default 5 is too short when many clients connect at once (parallel collection tests).
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], sim: GraphSimulator, role: str, tls: ssl.SSLContext | None) -> None:
        self.sim = sim
        self.role = role
        self.tls = tls
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # Handshake later, in the connection's own thread, so one slow client cannot block accept().
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Dropped keep-alive connections and rejected TLS handshakes are routine in tests.
        logger.debug("connection error on %s listener from %s", self.role, client_address, exc_info=True)

    def close_open_connections(self) -> None:
        """Unblock handler threads parked on idle keep-alive connections."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without it every keep-alive request stalls ~45 ms (Nagle vs delayed ACK on small writes).
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: _Listener
    server_version = "o365mon-graph-simulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    # do_* names are fixed by BaseHTTPRequestHandler.
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Always drain the body, or the next request on this keep-alive connection would be misparsed.
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = self.server.sim._handle(self.server.role, self.command, self.path, self.headers, body)
        except Exception:
            logger.exception("simulator error handling %s %s", self.command, self.server.role)
            reply = self.server.sim._graph_error(500, "InternalServerError", "Simulator failure.", self.headers)
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
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
        logger.debug("%s %s", self.server.role, _redact_path(format % args))


def _redact_path(path: str) -> str:
    return _DOWNLOAD_PATH.sub("/data/download/" + _REDACTED, path)


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _aad_timestamp(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%SZ")


class GraphSimulator:
    """Local stand-in for login.microsoftonline.com, graph.microsoft.com and reports.office.com.

    Use as a context manager, or call start()/stop(). Faults are injected with add_fault() or over HTTP:
    POST /_sim/faults (a JSON fault or list of faults), GET /_sim/faults, DELETE /_sim/faults on the graph port.
    """

    def __init__(
        self,
        tenants: list[SampleTenant],
        apps: dict[str, AppCredential],
        state_dir: Path,
        *,
        login_port: int = 0,
        graph_port: int = 0,
        download_port: int = 0,
        throttle_limit: int | None = None,
        throttle_window: float = 600.0,
        download_ttl: float = DEFAULT_DOWNLOAD_TTL,
        crlf: bool = False,
        reorder_columns: bool = False,
        extra_columns: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
        pascal_case_enums: bool = False,
        unknown_enum_value: bool = False,
        service_throttle_limit: int | None = None,
        service_throttle_window: float = 60.0,
        repeat_next_link: bool = False,
        render_cache_mb: int = 0,
    ) -> None:
        if graph_port and graph_port == download_port:
            raise ValueError("graph and download listeners need different ports (see module docstring)")
        self.tenants = list(tenants)
        self.apps = dict(apps)
        self.state_dir = Path(state_dir)
        self.throttle_limit = throttle_limit  # report requests per window per (app, tenant, report); None: off
        self.throttle_window = throttle_window
        self.download_ttl = download_ttl
        self.crlf = crlf
        self.reorder_columns = reorder_columns
        self.extra_columns = extra_columns
        # JSON collections: items per page when the request has no $top (tests use 2 to force paging).
        self.page_size = page_size
        self.pascal_case_enums = pascal_case_enums  # service health enums as in the doc examples
        self.unknown_enum_value = unknown_enum_value  # the last service's status becomes an unknown value
        # /admin/serviceAnnouncement/*: 240 per 60 s per app and tenant in the real service; None: off.
        self.service_throttle_limit = service_throttle_limit
        self.service_throttle_window = service_throttle_window
        # A broken server: every nextLink of a collection points to page 2 again (a client must not loop).
        self.repeat_next_link = repeat_next_link
        # Rendered CSV bodies, reused across downloads (LRU, bounded): benchmarks then measure the client, not
        # the simulator's generation of a 100k-user report (~2-4 s each). Off by default: tests want fresh
        # bodies for their per-test options.
        self.render_cache_bytes = render_cache_mb * 1024 * 1024
        self._rendered: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
        self._health: dict[str, list[dict]] = {}
        self._ports = {"login": login_port, "graph": graph_port, "download": download_port}
        self._by_key: dict[str, SampleTenant] = {}
        for tenant in self.tenants:
            for key in self._tenant_keys(tenant):
                self._by_key[key] = tenant
        self._concealed = {t.tenant_id: t.concealed for t in self.tenants}
        self._faults = FaultBook()
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._downloads: dict[str, _Download] = {}
        self._windows: dict[tuple[str, str, str], collections.deque[float]] = {}
        # Bounded so a simulator left running for days (demo, benchmarks) does not grow without limit.
        self._log: collections.deque[RequestRecord] = collections.deque(maxlen=100_000)
        self._listeners: dict[str, _Listener] = {}
        self._threads: list[threading.Thread] = []

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> GraphSimulator:
        if self._listeners:
            return self
        tls = certs.server_ssl_context(self.state_dir)
        try:
            for role in ("login", "graph", "download"):
                self._listeners[role] = _Listener(
                    ("127.0.0.1", self._ports[role]), self, role, tls if role == "login" else None
                )
        except OSError:
            self.stop()
            raise
        for role, listener in self._listeners.items():
            thread = threading.Thread(
                target=listener.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sim-{role}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        logger.info("Graph simulator: login %s, graph %s", self.login_endpoint, self.graph_endpoint)
        return self

    def stop(self) -> None:
        listeners, self._listeners = self._listeners, {}
        for listener in listeners.values():
            if self._threads:
                listener.shutdown()
            listener.close_open_connections()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> GraphSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- public properties and helpers

    def _port(self, role: str) -> int:
        if role not in self._listeners:
            raise RuntimeError("simulator not started")
        return self._listeners[role].server_address[1]

    @property
    def login_endpoint(self) -> str:
        return f"https://127.0.0.1:{self._port('login')}"

    @property
    def graph_endpoint(self) -> str:
        """Base URL without /v1.0, like https://graph.microsoft.com."""
        return f"http://127.0.0.1:{self._port('graph')}"

    @property
    def download_endpoint(self) -> str:
        return f"http://localhost:{self._port('download')}"

    @property
    def ca_path(self) -> Path:
        return self.state_dir / certs.CA_FILE

    @property
    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def granted_resources(self, tenant_key: str) -> set[str]:
        """The resources (scope without '/.default') tokens were issued for in a tenant: what a client asked."""
        tenant = self.tenant(tenant_key)
        with self._lock:
            return {g.resource for g in self._grants.values() if tenant and g.tenant_id == tenant.tenant_id}

    def request_count(self, path_substring: str) -> int:
        with self._lock:
            return sum(1 for record in self._log if path_substring in record.path)

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """Faults not yet used up."""
        return self._faults.pending()

    def tenant(self, key: str) -> SampleTenant | None:
        """Look a tenant up by id, domain or <name>.onmicrosoft.com, as the login service does."""
        return self._by_key.get(key.lower())

    def set_concealed(self, tenant_key: str, concealed: bool) -> None:
        tenant = self.tenant(tenant_key)
        if tenant is None:
            raise KeyError(tenant_key)
        with self._lock:
            self._concealed[tenant.tenant_id] = concealed

    def set_service_health(self, tenant_key: str, overviews: list[dict] | None) -> None:
        """Serve these healthOverviews items (Graph JSON, issues included) for a tenant; None: the default."""
        tenant = self.tenant(tenant_key)
        if tenant is None:
            raise KeyError(tenant_key)
        with self._lock:
            if overviews is None:
                self._health.pop(tenant.tenant_id, None)
            else:
                self._health[tenant.tenant_id] = json.loads(json.dumps(overviews))

    def service_health(self, tenant_key: str) -> list[dict]:
        """The healthOverviews items of a tenant (camelCase, issues included), before casing options."""
        tenant = self.tenant(tenant_key)
        if tenant is None:
            raise KeyError(tenant_key)
        with self._lock:
            custom = self._health.get(tenant.tenant_id)
        return json.loads(json.dumps(custom)) if custom is not None else health.default_health(tenant)

    def reset_throttling(self) -> None:
        with self._lock:
            self._windows.clear()

    @staticmethod
    def _tenant_keys(tenant: SampleTenant) -> tuple[str, ...]:
        initial = tenant.domain.split(".", 1)[0]
        return (tenant.tenant_id.lower(), tenant.domain.lower(), f"{initial}.onmicrosoft.com".lower())

    # ----------------------------------------------------------------- request plumbing

    def _record(self, method: str, path: str, headers: Any) -> None:
        safe = {
            name.lower(): (_REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in headers.items()
        }
        with self._lock:
            self._log.append(RequestRecord(method, _redact_path(path), safe))

    def _handle(self, role: str, method: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        self._record(method, path, headers)
        if role == "login":
            return self._handle_login(method, path, headers, body)
        if role == "download":
            return self._handle_download(method, path, headers)
        return self._handle_graph(method, path, headers, body, split.query)

    # ----------------------------------------------------------------- login

    def _aad_error(self, status: int, error: str, code: int, message: str, headers: Any) -> _Reply:
        now = dt.datetime.now(dt.UTC)
        trace_id = str(uuid.uuid4())
        correlation_id = headers.get("client-request-id") or str(uuid.uuid4())
        stamp = _aad_timestamp(now)
        return _json_reply(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\n"
                f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}",
                "error_codes": [code],
                "timestamp": stamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
        )

    def _unknown_tenant(self, segment: str, headers: Any) -> _Reply:
        return self._aad_error(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing "
            "into the correct cloud. Check with your subscription administrator, this may happen if there are "
            "no active subscriptions for the tenant.",
            headers,
        )

    def _handle_login(self, method: str, path: str, headers: Any, body: bytes) -> _Reply:
        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return _Reply(404, b"Not Found", "text/plain")
        tenant = self.tenant(parts[0])
        rest = "/".join(parts[1:])
        if rest == "v2.0/.well-known/openid-configuration" and method == "GET":
            if tenant is None:
                return self._unknown_tenant(parts[0], headers)
            return _json_reply(200, self._openid_configuration(tenant))
        if rest == "discovery/v2.0/keys" and method == "GET":
            return _json_reply(200, {"keys": []})
        if rest == "oauth2/v2.0/token" and method == "POST":
            if tenant is None:
                return self._unknown_tenant(parts[0], headers)
            fault = self._faults.take(paths=(path,), tenant_keys=self._tenant_keys(tenant), download=False, login=True)
            if fault is not None:
                return self._login_fault(fault, tenant, body, headers)
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
            return self._token(tenant, form, headers)
        return _Reply(404, b"Not Found", "text/plain")

    def _login_fault(self, fault: Fault, tenant: SampleTenant, body: bytes, headers: Any) -> _Reply:
        form = parse_qs(body.decode("utf-8", "replace"))
        client_id = (form.get("client_id") or [""])[0]
        if fault.kind == "no_service_principal":
            # The app was never consented to in this tenant, so it has no service principal there.
            return self._aad_error(
                400,
                "invalid_client",
                7000229,
                f"The client application {client_id} is missing service principal in the tenant {tenant.tenant_id}. "
                "See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
                headers,
            )
        return self._aad_error(
            400,
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID '{client_id}' named "
            "'o365mon'. Send an interactive authorization request for this user and resource.",
            headers,
        )

    def _openid_configuration(self, tenant: SampleTenant) -> dict[str, object]:
        base = f"{self.login_endpoint}/{tenant.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }

    def _token(self, tenant: SampleTenant, form: dict[str, str], headers: Any) -> _Reply:
        client_id = form.get("client_id", "")
        if not client_id:
            return self._aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
                headers,
            )
        grant_type = form.get("grant_type", "")
        if grant_type != "client_credentials":
            return self._aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
                headers,
            )
        app = self.apps.get(client_id)
        if app is None or (app.tenants is not None and tenant.tenant_id not in app.tenants):
            return self._aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.display_name}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                "your authentication request to the wrong tenant.",
                headers,
            )
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if not secret and not assertion:
            return self._aad_error(
                400,
                "invalid_request",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                headers,
            )
        if secret:
            if app.secret is None or not secrets.compare_digest(secret.encode(), app.secret.encode()):
                return self._aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                    headers,
                )
        else:
            problem = self._assertion_problem(
                tenant, client_id, app, form.get("client_assertion_type", ""), assertion or ""
            )
            if problem is not None:
                code, message = problem
                return self._aad_error(401, "invalid_client", code, message, headers)
        scopes = [s for s in form.get("scope", "").split() if s not in _RESERVED_SCOPES]
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope', '')} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier (application ID "
                "URI).",
                headers,
            )
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            for key in [k for k, g in self._grants.items() if g.expires_at < now]:
                del self._grants[key]
            self._grants[token] = _Grant(
                tenant.tenant_id, client_id, scopes[0][: -len("/.default")], now + TOKEN_LIFETIME
            )
        return _json_reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )

    def _assertion_problem(
        self, tenant: SampleTenant, client_id: str, app: AppCredential, assertion_type: str, assertion: str
    ) -> tuple[int, str] | None:
        """Check a private_key_jwt client assertion; return (AADSTS code, message) when it is not acceptable."""
        if assertion_type != _JWT_BEARER:
            return 700027, "Client assertion failed signature validation. [Reason - unsupported assertion type.]"
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(payload_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, binascii.Error):
            return 700027, "Client assertion failed signature validation. [Reason - malformed JWT.]"
        if "x5t" in header:
            used = _b64url_decode(header["x5t"]).hex().upper()
            registered = app.thumbprint
        elif "x5t#S256" in header and app.certificate_pem:
            used = _b64url_decode(header["x5t#S256"]).hex().upper()
            cert = x509.load_pem_x509_certificate(app.certificate_pem)
            registered = cert.fingerprint(hashes.SHA256()).hex().upper()
        else:
            used, registered = "", None
        if not registered or used != registered:
            return (
                700027,
                "The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: '{used}', "
                "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys "
                f"for app Id '{client_id}'.]",
            )
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
        aud = urlsplit(str(claims.get("aud", "")))
        aud_parts = aud.path.strip("/").split("/")
        if (
            f"{aud.scheme}://{aud.netloc}" != self.login_endpoint
            or len(aud_parts) != 4
            or aud_parts[1:] != ["oauth2", "v2.0", "token"]
            or self.tenant(aud_parts[0]) is not tenant
        ):
            return 700027, "Client assertion failed signature validation. [Reason - The audience is not valid.]"
        now = time.time()
        if not (float(claims.get("nbf", claims.get("iat", 0))) - 300 <= now < float(claims.get("exp", 0)) + 300):
            return 700024, "Client assertion is not within its valid time range."
        if app.certificate_pem:
            public_key = x509.load_pem_x509_certificate(app.certificate_pem).public_key()
            signed = f"{header_b64}.{payload_b64}".encode()
            pad = (
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
                if header.get("alg") == "PS256"
                else padding.PKCS1v15()
            )
            try:
                assert isinstance(public_key, rsa.RSAPublicKey)
                public_key.verify(signature, signed, pad, hashes.SHA256())
            except (InvalidSignature, AssertionError):
                return 700027, "Client assertion failed signature validation."
        return None

    # ----------------------------------------------------------------- graph

    def _graph_error(
        self, status: int, code: str, message: str, headers: Any, extra: Iterable[tuple[str, str]] = ()
    ) -> _Reply:
        request_id = str(uuid.uuid4())
        inner = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": headers.get("client-request-id") or request_id,
        }
        return _json_reply(status, {"error": {"code": code, "message": message, "innerError": inner}}, extra)

    def _too_many_requests(self, retry_after: int, headers: Any) -> _Reply:
        request_id = str(uuid.uuid4())
        # The documented body (throttling.md); note its innerError differs from other Graph errors.
        payload = {
            "error": {
                "code": "TooManyRequests",
                "innerError": {
                    "code": "429",
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "message": "Please retry after",
                    "request-id": request_id,
                    "status": "429",
                },
                "message": "Please retry again later.",
            }
        }
        return _json_reply(429, payload, [("Retry-After", str(retry_after))])

    def _fault_reply(self, fault: Fault, headers: Any) -> _Reply | None:
        """The reply a fault imposes, or None when the request should proceed (slow, download faults)."""
        if fault.kind == "throttle":
            return self._too_many_requests(fault.retry_after, headers)
        if fault.kind == "unavailable":
            return self._graph_error(
                503,
                "serviceNotAvailable",
                "Service unavailable.",
                headers,
                [("Retry-After", str(fault.retry_after))],
            )
        if fault.kind == "gateway_timeout":
            return self._graph_error(504, "UnknownError", "", headers)
        if fault.kind == "forbidden":
            return self._graph_error(403, "S2SUnauthorized", "Invalid scope claims/roles.", headers)
        if fault.kind == "not_csv":  # on a JSON request: a proxy's HTML page where JSON was expected
            return _Reply(200, b"<html>Bad gateway</html>", "text/html")
        if fault.kind == "slow":
            time.sleep(fault.delay)
        return None

    def _handle_graph(self, method: str, path: str, headers: Any, body: bytes, query: str = "") -> _Reply:
        if path.rstrip("/") == "/_sim/faults":
            return self._handle_sim_faults(method, body)
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self._graph_error(401, "InvalidAuthenticationToken", "Access token is empty.", headers)
        with self._lock:
            grant = self._grants.get(auth[7:].strip())
        if grant is None:
            return self._graph_error(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", headers
            )
        if grant.expires_at < time.time():
            return self._graph_error(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", headers
            )
        tenant = self._by_key[grant.tenant_id.lower()]
        params = _query_params(query)
        page = _decode_skiptoken(params.get("$skiptoken", ""))[1] if "$skiptoken" in params else 1
        # Faults match the path or the path with its query, so `path_contains="$skiptoken"` hits pages >= 2.
        paths = (path, f"{path}?{unquote(query)}") if query else (path,)
        fault = self._faults.take(
            paths=paths,
            tenant_keys=self._tenant_keys(tenant),
            download=False,
            page=page,
            json_body="/reports/" not in path,
        )
        if fault is not None and fault.kind == "expire_token":
            with self._lock:
                self._grants.pop(auth[7:].strip(), None)
            return self._graph_error(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", headers
            )
        if fault is not None and fault.kind == "endless_pages":
            return self._endless_page(path, query, page)
        if fault is not None:
            reply = self._fault_reply(fault, headers)
            if reply is not None:
                return reply

        if path.rstrip("/") == "/beta/organization" and method == "GET":
            return self._collection(tenant, path, query, params, headers, [directory.organization(tenant)])
        if not path.startswith("/v1.0/"):
            return self._graph_error(400, "BadRequest", "Invalid version.", headers)
        if path.startswith(SERVICE_ANNOUNCEMENT) and self.service_throttle_limit is not None:
            retry_after = self._throttle_check(
                grant, tenant, "serviceAnnouncement", self.service_throttle_limit, self.service_throttle_window
            )
            if retry_after is not None:
                return self._too_many_requests(retry_after, headers)
        json_reply = self._json_collection(method, tenant, path.rstrip("/"), query, params, headers)
        if json_reply is not None:
            return json_reply
        if path == "/v1.0/admin/reportSettings":
            return self._report_settings(method, tenant, headers, body)
        match = _REPORT_PATH.fullmatch(path)
        if match and method == "GET":
            return self._report(tenant, grant, match.group(1), match.group(2), path, headers)
        segment = path.rstrip("/").rsplit("/", 1)[-1].split("(", 1)[0]
        return self._graph_error(400, "BadRequest", f"Resource not found for the segment '{segment}'.", headers)

    def _endless_page(self, path: str, query: str, page: int) -> _Reply:
        """A broken server: a page whose nextLink is always new (a distinct skip token), never the last."""
        payload = {
            "@odata.context": _CONTEXT + path.rsplit("/", 1)[-1],
            "@odata.nextLink": self._next_link(path, query, page * 100, page + 1),
            "value": [],
        }
        return _json_reply(200, payload)

    def _handle_sim_faults(self, method: str, body: bytes) -> _Reply:
        if method == "DELETE":
            self.clear_faults()
            return _Reply(204, content_type=None)
        if method == "GET":
            return _json_reply(200, {"faults": [f.to_json() for f in self.faults]})
        if method == "POST":
            try:
                data = json.loads(body or b"null")
                items = data if isinstance(data, list) else [data]
                faults = [Fault.from_json(item) for item in items]
            except (ValueError, TypeError) as exc:
                return _json_reply(400, {"error": str(exc)})
            for fault in faults:
                self.add_fault(fault)
            return _json_reply(201, {"faults": [f.to_json() for f in self.faults]})
        return _json_reply(405, {"error": "method not allowed"})

    def _report_settings(self, method: str, tenant: SampleTenant, headers: Any, body: bytes) -> _Reply:
        if method == "PATCH":
            try:
                value = json.loads(body)["displayConcealedNames"]
                if not isinstance(value, bool):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                return self._graph_error(400, "BadRequest", "Invalid request body.", headers)
            self.set_concealed(tenant.tenant_id, value)
            return _Reply(204, content_type=None)
        if method != "GET":
            return self._graph_error(405, "Request_BadRequest", "Method not allowed.", headers)
        with self._lock:
            concealed = self._concealed[tenant.tenant_id]
        return _json_reply(
            200,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",
                "displayConcealedNames": concealed,
            },
        )

    # ----------------------------------------------------------------- JSON collections

    def _json_collection(
        self, method: str, tenant: SampleTenant, path: str, query: str, params: dict[str, str], headers: Any
    ) -> _Reply | None:
        """The JSON collections (health, licences, applications, organization, users); None: not one of them."""
        if path not in _COLLECTION_PATHS:
            return None
        if method != "GET":
            return self._graph_error(405, "Request_BadRequest", "Method not allowed.", headers)
        if path == "/v1.0/users":
            return self._users(tenant, path, query, params, headers)
        if path == "/v1.0/admin/serviceAnnouncement/healthOverviews":
            expand = [e.strip() for e in params.get("$expand", "").split(",") if e.strip()]
            items = health.render(
                self.service_health(tenant.tenant_id),
                expand_issues="issues" in expand,
                pascal_case=self.pascal_case_enums,
                unknown_enum=self.unknown_enum_value,
            )
            context = "admin/serviceAnnouncement/healthOverviews" + ("(issues())" if "issues" in expand else "")
            return self._collection(tenant, path, query, params, headers, items, context)
        if path == "/v1.0/subscribedSkus":
            return self._collection(tenant, path, query, params, headers, directory.subscribed_skus(tenant))
        if path == "/v1.0/applications":
            return self._collection(tenant, path, query, params, headers, directory.applications(tenant))
        return self._collection(tenant, path, query, params, headers, [directory.organization(tenant)])

    def _next_link(self, path: str, query: str, offset: int, page: int) -> str:
        # Keep every original query option ($expand, $select, $top...) in its original spelling and order.
        kept = [p for p in query.split("&") if p and _param_name(p) != "$skiptoken"]
        kept.append(f"$skiptoken={_encode_skiptoken(offset, page)}")
        return f"{self.graph_endpoint}{path}?{'&'.join(kept)}"

    def _page_size(self, params: dict[str, str], headers: Any) -> int | _Reply:
        raw = params.get("$top")
        if raw is None:
            return max(1, self.page_size)
        if not raw.isdigit() or not 1 <= int(raw) <= 999:
            # [I: Microsoft Q&A 1129204] message; the error code is a guess.
            return self._graph_error(
                400,
                "Request_UnsupportedQuery",
                f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.",
                headers,
            )
        return int(raw)

    def _collection(
        self,
        tenant: SampleTenant,
        path: str,
        query: str,
        params: dict[str, str],
        headers: Any,
        items: list[dict],
        context: str | None = None,
    ) -> _Reply:
        size = self._page_size(params, headers)
        if isinstance(size, _Reply):
            return size
        offset, page = _decode_skiptoken(params.get("$skiptoken", "")) if "$skiptoken" in params else (0, 1)
        if offset < 0:
            return self._graph_error(400, "BadRequest", "Invalid skip token.", headers)
        chunk = items[offset : offset + size]
        base = "https://graph.microsoft.com" if path.startswith("/beta/") else None
        ctx = (base + "/beta/$metadata#organization") if base else _CONTEXT + (context or path.rsplit("/", 1)[-1])
        payload: dict[str, Any] = {"@odata.context": ctx}
        if offset + size < len(items):
            if self.repeat_next_link and page >= 2:
                payload["@odata.nextLink"] = self._next_link(path, query, offset, page)
            else:
                payload["@odata.nextLink"] = self._next_link(path, query, offset + size, page + 1)
        payload["value"] = chunk
        return _json_reply(200, payload)

    def _users(self, tenant: SampleTenant, path: str, query: str, params: dict[str, str], headers: Any) -> _Reply:
        size = self._page_size(params, headers)
        if isinstance(size, _Reply):
            return size
        select: tuple[str, ...] | None = None
        if params.get("$select"):
            select = tuple(f.strip() for f in params["$select"].split(",") if f.strip())
            allowed = set(directory.ALL_FIELDS) | set(directory.DEFAULT_FIELDS)
            unknown = [f for f in select if f not in allowed]
            if unknown:
                return self._graph_error(
                    400,
                    "Request_BadRequest",
                    f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.user'.",
                    headers,
                )
        offset, page = _decode_skiptoken(params.get("$skiptoken", "")) if "$skiptoken" in params else (0, 1)
        if offset < 0:
            return self._graph_error(400, "BadRequest", "Invalid skip token.", headers)
        value, next_position = [], None
        for position, user in directory.iter_directory(tenant, offset):
            if len(value) == size:
                next_position = position
                break
            value.append(user.to_json(select))
        context = _CONTEXT + (f"users({','.join(select)})" if select else "users")
        payload: dict[str, Any] = {"@odata.context": context}
        if next_position is not None:
            payload["@odata.nextLink"] = self._next_link(path, query, next_position, page + 1)
        payload["value"] = value
        return _json_reply(200, payload)

    def _report(self, tenant: SampleTenant, grant: _Grant, function: str, args: str, path: str, headers: Any) -> _Reply:
        not_found = f"Resource not found for the segment '{function}'."
        if function not in REPORT_FUNCTIONS:
            return self._graph_error(400, "BadRequest", not_found, headers)
        period_match = re.fullmatch(r"period='([^']*)'", args)
        date_match = re.fullmatch(r"date=([^,']*)", args)
        period_or_date: str | dt.date
        if period_match:
            period_or_date = period_match.group(1)
            if period_or_date not in PERIODS:
                # [G] no capture of the real message for a bad period value.
                return self._graph_error(
                    400, "BadRequest", f"Invalid period value specified: {period_or_date}.", headers
                )
        elif date_match and REPORT_FUNCTIONS[function]:
            raw = date_match.group(1)
            try:
                day = dt.date.fromisoformat(raw)
            except ValueError:
                return self._graph_error(400, "BadRequest", f"Invalid date value specified: {raw}.", headers)
            age = (tenant.today - day).days
            if not 0 <= age <= DATE_WINDOW_DAYS:
                return self._graph_error(
                    400,
                    "InvalidArgument",
                    f"Invalid date value specified: {raw}. Only support data for the past 28 days.",
                    headers,
                )
            period_or_date = day
        else:
            # No such overload (e.g. a date on getMailboxUsageDetail): OData cannot resolve the segment.
            return self._graph_error(400, "BadRequest", not_found, headers)

        retry_after = self._throttle_check(grant, tenant, function, self.throttle_limit, self.throttle_window)
        if retry_after is not None:
            return self._too_many_requests(retry_after, headers)

        with self._lock:
            concealed = self._concealed[tenant.tenant_id]
        options = {
            "crlf": self.crlf if tenant.crlf is None else tenant.crlf,
            "reorder": self.reorder_columns if tenant.reorder_columns is None else tenant.reorder_columns,
            "extra_columns": self.extra_columns if tenant.extra_columns is None else tenant.extra_columns,
            "concealed": concealed,
        }
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            # Purge expired links here so the table never grows in long runs.
            for key in [k for k, d in self._downloads.items() if d.expires_at < now]:
                del self._downloads[key]
            self._downloads[token] = _Download(tenant, function, period_or_date, options, path, now + self.download_ttl)
        location = f"{self.download_endpoint}/data/download/{token}"
        return _Reply(302, b"", "text/plain", [("Location", location)])

    def _throttle_check(
        self, grant: _Grant, tenant: SampleTenant, function: str, limit: int | None, span: float
    ) -> int | None:
        """Sliding window per (app, tenant, report or API); returns Retry-After seconds when over the limit."""
        if limit is None:
            return None
        now = time.monotonic()
        key = (grant.client_id, tenant.tenant_id, function)
        with self._lock:
            window = self._windows.setdefault(key, collections.deque())
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                # Only accepted requests are counted, so Retry-After stays exact for a well-behaved client.
                return max(1, int(window[0] + span - now + 0.999))
            window.append(now)
        return None

    # ----------------------------------------------------------------- download

    def _handle_download(self, method: str, path: str, headers: Any) -> _Reply:
        match = _DOWNLOAD_PATH.fullmatch(path)
        if method != "GET" or not match:
            return _Reply(404, b"Not Found", "text/plain")
        now = time.time()
        with self._lock:
            download = self._downloads.get(match.group(1))
        if download is None or download.expires_at < now:
            return _Reply(404, b"The download link is invalid or has expired.", "text/plain")
        tenant = download.tenant
        fault = self._faults.take(
            paths=(_redact_path(path), download.origin_path), tenant_keys=self._tenant_keys(tenant), download=True
        )
        if fault is not None:
            if fault.kind == "not_csv":
                return _Reply(200, b"<html>Bad gateway</html>", "text/html")
            reply = self._fault_reply(fault, headers)
            if reply is not None:
                return reply
        content = self._render(download)
        size = content.seek(0, 2)
        announced = size
        kind = fault.kind if fault is not None else ""
        if kind == "truncated":
            size = self._truncation_point(content, size)
        elif kind in ("cut_line", "cut_cell"):
            size = self._cut_point(content, size, inside_last_cell=kind == "cut_cell")
        elif kind == "header_only":
            content.seek(0)
            size = content.read().find(b"\n") + 1 or size
        elif kind == "dropped":
            size = max(1, size // 2)
        if kind != "dropped":
            announced = size  # a server that cut the body itself announces the cut length
        content.seek(0)
        return _Reply(
            200,
            content_type="application/octet-stream",
            stream=_Limited(content, size),
            stream_length=announced,
            drop=kind == "dropped",
        )

    @staticmethod
    def _cut_point(content: IO[bytes], size: int, *, inside_last_cell: bool) -> int:
        """A length that ends the body about halfway, right after a line ending (`cut_line`), or inside the last
        cell of that line (`cut_cell`: the last row keeps every cell, only its last value is short)."""
        content.seek(0)
        body = content.read()
        end = body.find(b"\n", size // 2)
        if end < 0:
            end = body.rfind(b"\n", 0, max(0, size - 1))
        if end < 0:
            return size
        if not inside_last_cell:
            return end + 1
        line_end = end - 1 if body[end - 1 : end] == b"\r" else end
        comma = body.rfind(b",", 0, line_end)
        return comma + 1 + (line_end - comma - 1) // 2

    def _render(self, download: _Download) -> IO[bytes]:
        key = (
            download.tenant,
            download.function,
            str(download.period_or_date),
            tuple(sorted(download.options.items())),
        )
        if self.render_cache_bytes:
            with self._lock:
                cached = self._rendered.get(key)
                if cached is not None:
                    self._rendered.move_to_end(key)
                    return io.BytesIO(cached)
        # Spooled: small reports stay in memory, a 200k-user report goes to a temp file instead of RAM.
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # closed by the handler after sending
        out.write(b"\xef\xbb\xbf")
        for chunk in report_csv(download.tenant, download.function, download.period_or_date, **download.options):
            out.write(chunk.encode("utf-8"))
        if self.render_cache_bytes:
            out.seek(0)
            body = out.read()
            with self._lock:
                self._rendered[key] = body
                while sum(len(b) for b in self._rendered.values()) > self.render_cache_bytes:
                    self._rendered.popitem(last=False)
        return out  # type: ignore[return-value]

    @staticmethod
    def _truncation_point(content: IO[bytes], size: int) -> int:
        """A length that cuts the body in the middle of a line (never right after a newline)."""
        cut = max(4, size // 2)
        content.seek(cut - 1)
        last_kept, first_dropped = content.read(2).ljust(2, b"\0")
        # Step back over a line ending so the last line really is cut short, and off a UTF-8 continuation
        # byte so a parser meets a short row rather than a decoding error.
        while cut > 4 and (last_kept in b"\r\n" or 0x80 <= first_dropped < 0xC0):
            cut -= 1
            content.seek(cut - 1)
            last_kept, first_dropped = content.read(2)
        return cut


class _Limited:
    """File wrapper that reads at most `limit` bytes: how a truncated download is served."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._inner.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._inner.close()


_COLLECTION_PATHS = frozenset(
    {
        "/v1.0/admin/serviceAnnouncement/healthOverviews",
        "/v1.0/subscribedSkus",
        "/v1.0/applications",
        "/v1.0/organization",
        "/v1.0/users",
    }
)


def _param_name(pair: str) -> str:
    return unquote(pair.split("=", 1)[0])


def _query_params(query: str) -> dict[str, str]:
    """OData query options by name (`$expand` and `%24expand` alike); the last one wins."""
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _encode_skiptoken(offset: int, page: int) -> str:
    raw = json.dumps({"o": offset, "p": page}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_skiptoken(token: str) -> tuple[int, int]:
    """(offset, page number) of a skip token this simulator issued; (-1, 0) when it is not one."""
    try:
        data = json.loads(_b64url_decode(token))
        return int(data["o"]), int(data["p"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return -1, 0
