"""The Graph JSON family: authentication of Graph calls, routing, report settings and paged collections."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from . import directory, health
from .tenants import SampleTenant
from .wire import Reply, json_reply

_REPORT_PATH = re.compile(r"/v1\.0/reports/(\w+)\((.*)\)")
_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#"
DEFAULT_PAGE_SIZE = 100  # Graph docs (list users): "each page contains 100 objects"
SERVICE_ANNOUNCEMENT = "/v1.0/admin/serviceAnnouncement/"


_DIRECTORY = ("Directory.Read.All", "Directory.ReadWrite.All")
# Path prefix -> the application permissions any one of which lets an app call it (Graph's permission reference).
_ROLES: tuple[tuple[str, frozenset[str]], ...] = (
    ("/v1.0/reports/", frozenset({"Reports.Read.All"})),
    ("/v1.0/admin/serviceAnnouncement/", frozenset({"ServiceHealth.Read.All"})),
    ("/v1.0/subscribedSkus", frozenset({"Organization.Read.All", "Organization.ReadWrite.All", *_DIRECTORY})),
    ("/v1.0/organization", frozenset({"Organization.Read.All", "Organization.ReadWrite.All", *_DIRECTORY})),
    ("/beta/organization", frozenset({"Organization.Read.All", "Organization.ReadWrite.All", *_DIRECTORY})),
    ("/v1.0/applications", frozenset({"Application.Read.All", "Application.ReadWrite.All", *_DIRECTORY})),
    ("/v1.0/users", frozenset({"User.Read.All", "User.ReadWrite.All", *_DIRECTORY})),
    ("/v1.0/tenantRelationships/", frozenset({"DelegatedAdminRelationship.Read.All"})),
)


_REPORT_SETTINGS_READ = frozenset({"ReportSettings.Read.All", "ReportSettings.ReadWrite.All"})


def required_roles(method: str, path: str) -> frozenset[str]:
    """The roles one of which the request needs; empty: not checked here."""
    if path.startswith("/v1.0/admin/reportSettings"):
        # Only reads: tests PATCH the setting to set up a tenant, whatever the app was granted.
        return _REPORT_SETTINGS_READ if method == "GET" else frozenset()
    return next((roles for prefix, roles in _ROLES if path.startswith(prefix)), frozenset())


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class GraphEndpoints:
    """GraphSimulator's Graph routes (a mixin: the state lives on GraphSimulator)."""

    def _graph_error(
        self, status: int, code: str, message: str, headers: Any, extra: Iterable[tuple[str, str]] = ()
    ) -> Reply:
        request_id = str(uuid.uuid4())
        inner = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": headers.get("client-request-id") or request_id,
        }
        return json_reply(status, {"error": {"code": code, "message": message, "innerError": inner}}, extra)

    def _too_many_requests(self, retry_after: int, headers: Any) -> Reply:
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
        return json_reply(429, payload, [("Retry-After", str(retry_after))])

    def _handle_graph(self, method: str, path: str, headers: Any, body: bytes, query: str = "") -> Reply:
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
        needed = required_roles(method, path)
        if needed and not needed & grant.roles:
            return self._forbidden(path, needed, grant.roles, headers)
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
        if path.rstrip("/") in _GDAP_PATHS and method == "GET":
            return self._gdap(tenant, path.rstrip("/"), query, params, headers)
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

    def _forbidden(self, path: str, needed: frozenset[str], held: frozenset[str], headers: Any) -> Reply:
        if path.startswith("/v1.0/reports/"):  # graph-api.md: what the reports service answers
            return self._graph_error(403, "S2SUnauthorized", "Invalid scope claims/roles.", headers)
        if any(path.startswith(p) for p in ("/v1.0/users", "/v1.0/organization", "/beta/organization",
                                              "/v1.0/applications", "/v1.0/subscribedSkus")):  # fmt: skip
            return self._graph_error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", headers
            )
        return self._graph_error(
            403,
            "Forbidden",
            f"Missing role permissions on the request. API requires one of '{', '.join(sorted(needed))}'. "
            f"Roles on the request '{', '.join(sorted(held))}'.",
            headers,
        )

    def _endless_page(self, path: str, query: str, page: int) -> Reply:
        """A broken server: a page whose nextLink is always new (a distinct skip token), never the last."""
        payload = {
            "@odata.context": _CONTEXT + path.rsplit("/", 1)[-1],
            "@odata.nextLink": self._next_link(path, query, page * 100, page + 1),
            "value": [],
        }
        return json_reply(200, payload)

    def _report_settings(self, method: str, tenant: SampleTenant, headers: Any, body: bytes) -> Reply:
        if method == "PATCH":
            try:
                value = json.loads(body)["displayConcealedNames"]
                if not isinstance(value, bool):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                return self._graph_error(400, "BadRequest", "Invalid request body.", headers)
            self.set_concealed(tenant.tenant_id, value)
            return Reply(204, content_type=None)
        if method != "GET":
            return self._graph_error(405, "Request_BadRequest", "Method not allowed.", headers)
        with self._lock:
            concealed = self._concealed[tenant.tenant_id]
        return json_reply(
            200,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",
                "displayConcealedNames": concealed,
            },
        )

    # ----------------------------------------------------------------- JSON collections

    def _json_collection(
        self, method: str, tenant: SampleTenant, path: str, query: str, params: dict[str, str], headers: Any
    ) -> Reply | None:
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

    def _gdap(self, tenant: SampleTenant, path: str, query: str, params: dict[str, str], headers: Any) -> Reply:
        """GDAP, as the partner tenant sees it: every relationship it has, and one customer object per customer
        tenant while at least one of its relationships is active (Microsoft creates and removes it)."""
        with self._lock:
            relationships = [dict(r) for r in self._relationships.get(tenant.tenant_id, [])]
        if path.endswith("/delegatedAdminRelationships"):
            return self._collection(tenant, path, query, params, headers, relationships, "delegatedAdminRelationships")
        customers: dict[str, dict] = {}
        for r in relationships:
            customer = r.get("customer") or {}
            if r.get("status") == "active" and customer.get("tenantId"):
                customers.setdefault(
                    customer["tenantId"],
                    {
                        "@odata.type": "#microsoft.graph.delegatedAdminCustomer",
                        "@odata.etag": f'W/"{uuid.uuid5(uuid.NAMESPACE_URL, customer["tenantId"])}"',
                        "id": customer["tenantId"],
                        "tenantId": customer["tenantId"],
                        "displayName": self._customer_names.get(customer["tenantId"], customer.get("displayName", "")),
                    },
                )
        return self._collection(
            tenant, path, query, params, headers, list(customers.values()), "delegatedAdminCustomers"
        )

    def _next_link(self, path: str, query: str, offset: int, page: int) -> str:
        # Keep every original query option ($expand, $select, $top...) in its original spelling and order.
        kept = [p for p in query.split("&") if p and _param_name(p) != "$skiptoken"]
        kept.append(f"$skiptoken={_encode_skiptoken(offset, page)}")
        return f"{self.graph_endpoint}{path}?{'&'.join(kept)}"

    def _page_size(self, params: dict[str, str], headers: Any) -> int | Reply:
        raw = params.get("$top")
        if raw is None:
            return max(1, self.page_size)
        if not raw.isdigit() or not 1 <= int(raw) <= 999:
            # The message as quoted on Microsoft Q&A (question 1129204); the error code is a guess.
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
    ) -> Reply:
        size = self._page_size(params, headers)
        if isinstance(size, Reply):
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
        return json_reply(200, payload)

    def _users(self, tenant: SampleTenant, path: str, query: str, params: dict[str, str], headers: Any) -> Reply:
        size = self._page_size(params, headers)
        if isinstance(size, Reply):
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
        return json_reply(200, payload)


_COLLECTION_PATHS = frozenset(
    {
        "/v1.0/admin/serviceAnnouncement/healthOverviews",
        "/v1.0/subscribedSkus",
        "/v1.0/applications",
        "/v1.0/organization",
        "/v1.0/users",
    }
)


_GDAP_PATHS = frozenset(
    {
        "/v1.0/tenantRelationships/delegatedAdminCustomers",
        "/v1.0/tenantRelationships/delegatedAdminRelationships",
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


def gdap_relationship(
    customer_tenant_id: str, customer_name: str, status: str = "active", display_name: str = ""
) -> dict[str, Any]:
    """A delegatedAdminRelationship as Graph returns it (docs-contrib resources/delegatedadminrelationship.md).
    `display_name` is the relationship's own name; Microsoft's transition relationships start with `MLT_`."""
    rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{customer_tenant_id}/{display_name or status}"))
    created = "2025-01-10T09:00:00Z"
    active = status in ("active", "expiring", "terminating", "terminationRequested", "expired", "terminated")
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": f'W/"{rid}"',
        "id": f"{rid}-{customer_tenant_id}",
        "displayName": display_name or f"o365mon-{customer_tenant_id[:8]}-{status}",
        "duration": "P730D",
        "status": status,
        "autoExtendDuration": "P180D" if status == "active" else "PT0S",
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "activatedDateTime": "2025-01-10T09:05:00Z" if active else None,
        "endDateTime": "2027-01-10T09:05:00Z" if active else None,
        "customer": {"tenantId": customer_tenant_id, "displayName": customer_name},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451"}]},
    }
