"""The Graph simulator: local login, Graph and report-download listeners that real clients talk to.

Three listeners on 127.0.0.1, because the real clients insist on three different things:
- login (HTTPS): azure-identity refuses an http:// authority;
- graph (HTTP): kiota accepts plain http for loopback hosts, which spares a CA setup for httpx;
- download (HTTP, another port, announced as `localhost`): the SDK drops `Authorization` when a redirect
  changes host or port, exactly as with reports.office.com, and refuses a scheme change, so it stays http.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import certs, health
from .faults import Fault, FaultBook, FaultEndpoints
from .graph_json import DEFAULT_PAGE_SIZE, SERVICE_ANNOUNCEMENT, GraphEndpoints
from .latency import Latency, family
from .login import DEFAULT_ROLES, TOKEN_LIFETIME, AppCredential, LoginEndpoints
from .reports import DATE_WINDOW_DAYS, DEFAULT_DOWNLOAD_TTL, ReportEndpoints
from .tenants import SampleTenant
from .wire import REDACTED, Download, Grant, Listener, Reply, RequestRecord, redact_path

logger = logging.getLogger("o365mon.simulator")

_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

# Options a test may change on a running simulator; reset() puts them back.
_RESETTABLE = (
    "throttle_limit",
    "tenant_throttle_limit",
    "throttle_window",
    "latency",
    "download_ttl",
    "crlf",
    "reorder_columns",
    "extra_columns",
    "page_size",
    "pascal_case_enums",
    "unknown_enum_value",
    "service_throttle_limit",
    "service_throttle_window",
    "repeat_next_link",
    "render_cache_bytes",
)

__all__ = [
    "DATE_WINDOW_DAYS",
    "DEFAULT_DOWNLOAD_TTL",
    "DEFAULT_PAGE_SIZE",
    "SERVICE_ANNOUNCEMENT",
    "TOKEN_LIFETIME",
    "AppCredential",
    "Fault",
    "GraphSimulator",
    "RequestRecord",
]


class GraphSimulator(LoginEndpoints, GraphEndpoints, ReportEndpoints, FaultEndpoints):
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
        tenant_throttle_limit: int | None = None,
        latency: Latency | None = None,
    ) -> None:
        if graph_port and graph_port == download_port:
            raise ValueError("graph and download listeners need different ports (see module docstring)")
        self.tenants = list(tenants)
        self.apps = dict(apps)
        self.state_dir = Path(state_dir)
        self.throttle_limit = throttle_limit  # report requests per window per (app, tenant, report); None: off
        # Report requests per window per (tenant, report) for all apps together (Graph: 40); None: off.
        self.tenant_throttle_limit = tenant_throttle_limit
        self.throttle_window = throttle_window
        # Graph's response times (latency.realistic_options() for the real ones); None: answer at once.
        self.latency = latency
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
        # What reset() restores: the options above as constructed.
        self._defaults = {name: getattr(self, name) for name in _RESETTABLE}
        self._rendered: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
        self._rendered_bytes = 0  # the bodies' total length in _rendered
        self._health: dict[str, list[dict]] = {}
        # GDAP: a partner tenant's relationships, and the customers' current names (delegatedAdminCustomers
        # shows today's name, a relationship the name it had when it was created).
        self._relationships: dict[str, list[dict]] = {}
        self._customer_names: dict[str, str] = {}
        self._ports = {"login": login_port, "graph": graph_port, "download": download_port}
        self._by_key: dict[str, SampleTenant] = {}
        self._concealed: dict[str, bool] = {}
        # Application permissions granted (admin-consented) to the apps per tenant id; absent: DEFAULT_ROLES.
        self._roles: dict[str, frozenset[str]] = {}
        self._faults = FaultBook()
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}
        self._downloads: dict[str, Download] = {}
        self._windows: dict[tuple[str, str, str], collections.deque[float]] = {}
        # Bounded so a simulator left running for days (demo, benchmarks) does not grow without limit.
        self._log: collections.deque[RequestRecord] = collections.deque(maxlen=100_000)
        self._listeners: dict[str, Listener] = {}
        self._threads: list[threading.Thread] = []
        self._index_tenants()
        self.reset()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> GraphSimulator:
        if self._listeners:
            return self
        tls = certs.server_ssl_context(self.state_dir)
        try:
            for role in ("login", "graph", "download"):
                self._listeners[role] = Listener(
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

    def set_roles(self, tenant_key: str, roles: Iterable[str] | None) -> None:
        """The application permissions the app holds in this tenant (its tokens' `roles` claim, and what Graph
        then allows); None: DEFAULT_ROLES. Applies to tokens issued from now on, as in Entra ID."""
        tenant = self.tenant(tenant_key)
        if tenant is None:
            raise KeyError(tenant_key)
        with self._lock:
            if roles is None:
                self._roles.pop(tenant.tenant_id, None)
            else:
                self._roles[tenant.tenant_id] = frozenset(roles)

    def roles(self, tenant_id: str) -> frozenset[str]:
        with self._lock:
            return self._roles.get(tenant_id, DEFAULT_ROLES)

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

    def set_relationships(
        self, partner_tenant_id: str, relationships: list[dict], customer_names: dict[str, str] | None = None
    ) -> None:
        """Make a served tenant a GDAP partner with these delegatedAdminRelationship objects (see
        gdap_relationship); customer_names: the customers' names today, when they differ from the relationships'."""
        with self._lock:
            self._relationships[partner_tenant_id.lower()] = [dict(r) for r in relationships]
            self._customer_names.update(customer_names or {})

    def reset_throttling(self) -> None:
        with self._lock:
            self._windows.clear()

    def reset(self) -> None:
        """Back to the state as constructed: options, no faults, empty request log and throttling windows,
        report settings and service health as the tenants define them. Tokens already issued stay valid."""
        for name, value in self._defaults.items():
            setattr(self, name, value)
        self.clear_faults()
        if self.latency is not None:
            self.latency.restart()
        with self._lock:
            self._log.clear()
            self._windows.clear()
            self._health.clear()
            self._roles.clear()
            self._relationships.clear()
            self._customer_names.clear()
            self._concealed = {t.tenant_id: t.concealed for t in self.tenants}

    def serve(self, tenants: list[SampleTenant], apps: dict[str, AppCredential]) -> GraphSimulator:
        """Serve these tenants and app registrations instead (a running simulator shared by test modules),
        from a reset state; earlier tokens and download links are forgotten."""
        with self._lock:
            self.tenants = list(tenants)
            self.apps = dict(apps)
            self._grants.clear()
            self._downloads.clear()
            self._rendered.clear()
            self._rendered_bytes = 0
        self._index_tenants()
        self.reset()
        return self

    def _index_tenants(self) -> None:
        by_key = {key: tenant for tenant in self.tenants for key in self._tenant_keys(tenant)}
        with self._lock:
            self._by_key = by_key

    @staticmethod
    def _tenant_keys(tenant: SampleTenant) -> tuple[str, ...]:
        initial = tenant.domain.split(".", 1)[0]
        return (tenant.tenant_id.lower(), tenant.domain.lower(), f"{initial}.onmicrosoft.com".lower())

    # ----------------------------------------------------------------- request plumbing

    def _record(self, method: str, path: str, headers: Any) -> None:
        safe = {
            name.lower(): (REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in headers.items()
        }
        with self._lock:
            self._log.append(RequestRecord(method, redact_path(path), safe))

    def _handle(self, role: str, method: str, raw_path: str, headers: Any, body: bytes) -> Reply:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        self._record(method, path, headers)
        if role == "login":
            reply = self._handle_login(method, path, headers, body)
        elif role == "download":
            reply = self._handle_download(method, path, headers)
        else:
            reply = self._handle_graph(method, path, headers, body, split.query)
        latency = self.latency
        if latency is not None and not path.startswith("/_sim/"):
            size = reply.stream_length if reply.stream is not None else len(reply.body)
            latency.sleep(family(role, reply.status), size)
        return reply
