"""A local IT Glue REST API: JSON:API envelopes, paging, exact filters, errors, rate limit and faults (never deployed).

It follows IT Glue's developer documentation and what public client libraries observed, not what a client would
find convenient. Behaviour nobody has confirmed is a constructor option (see docs/itglue.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from devtools.listener import DispatchingHandler, TrackingServer

from .faults import FaultBook, ItGlueFault

logger = logging.getLogger(__name__)

JSONAPI = "application/vnd.api+json"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ORG_ATTRS = (
    "name",
    "alert",
    "description",
    "organization_type_id",
    "organization_type_name",
    "organization_status_id",
    "organization_status_name",
    "primary",
    "logo",
    "quick_notes",
    "short_name",
    "created_at",
    "updated_at",
    "parent_id",
    "ancestor_ids",
    "psa_integration",
)
ORG_WRITABLE = frozenset(
    {
        "name",
        "alert",
        "description",
        "organization_type_id",
        "organization_status_id",
        "quick_notes",
        "short_name",
        "parent_id",
    }
)
# The only fields a PSA-synced organization accepts on PATCH.
ORG_PSA_WRITABLE = frozenset({"alert", "description", "quick_notes"})
ORG_FILTERS = frozenset(
    {
        "id",
        "name",
        "organization_type_id",
        "organization_status_id",
        "created_at",
        "updated_at",
        "my_glue_account_id",
        "psa_id",
        "psa_integration_type",
        "group_id",
        "primary",
    }
)
ORG_SORTS = frozenset({"name", "id", "updated_at", "created_at", "short_name"})

CONTACT_ATTRS = (
    "organization_id",
    "organization_name",
    "name",
    "first_name",
    "last_name",
    "title",
    "contact_type_id",
    "contact_type_name",
    "location_id",
    "location_name",
    "important",
    "notes",
    "created_at",
    "updated_at",
    "contact_emails",
    "contact_phones",
)
CONTACT_WRITABLE = frozenset(
    {
        "organization_id",
        "first_name",
        "last_name",
        "title",
        "contact_type_id",
        "location_id",
        "important",
        "notes",
        "restricted",
        "contact_emails",
        "contact_phones",
    }
)
CONTACT_FILTERS = frozenset(
    {
        "id",
        "first_name",
        "last_name",
        "title",
        "contact_type_id",
        "important",
        "primary_email",
        "organization_id",
        "psa_id",
        "psa_integration_type",
    }
)
CONTACT_SORTS = frozenset({"first_name", "last_name", "id", "created_at", "updated_at"})

FAT_ATTRS = ("name", "description", "icon", "enabled", "show_in_menu", "created_at", "updated_at")
FIELD_KINDS = frozenset(
    {"Checkbox", "Date", "Header", "Number", "Select", "Text", "Textbox", "Upload", "Tag", "Percent", "Password"}
)
FA_ATTRS = (
    "organization_id",
    "organization_name",
    "flexible_asset_type_id",
    "flexible_asset_type_name",
    "name",
    "traits",
    "archived",
    "created_at",
    "updated_at",
)


def kebab(name: str) -> str:
    return name.replace("_", "-")


def snake(name: str) -> str:
    return name.replace("-", "_")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def split_filter(value: str) -> list[str]:
    """`a, b\\,c` -> ["a", "b,c"]: a comma separates alternatives, `\\,` is a literal comma."""
    parts, current, i = [], [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] == ",":
            current.append(",")
            i += 2
            continue
        if value[i] == ",":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(value[i])
        i += 1
    parts.append("".join(current).strip())
    return parts


class ApiError(Exception):
    """A JSON:API error answer: `errors` items carry a numeric status, a title, and optionally detail/pointer."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        pointer: str | None = None,
        errors: list[dict] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.errors = errors or [_error(status, title, detail, pointer)]


def _error(status: int, title: str, detail: str | None = None, pointer: str | None = None) -> dict:
    err: dict[str, Any] = {"status": status, "title": title}
    if detail is not None:
        err["detail"] = detail
    if pointer is not None:
        err["source"] = {"pointer": pointer}
    return err


def _unprocessable(detail: str, pointer: str) -> ApiError:
    return ApiError(422, "Unprocessable Entity", detail, pointer)


@dataclass
class _Bucket:
    capacity: float
    window: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Consume a token; 0.0 if granted, else the seconds until one is available."""
        rate = self.capacity / self.window
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


@dataclass
class Account:
    name: str
    api_key: str
    bucket: _Bucket
    organizations: dict[int, dict] = field(default_factory=dict)
    contacts: dict[int, dict] = field(default_factory=dict)
    asset_types: dict[int, dict] = field(default_factory=dict)
    assets: dict[int, dict] = field(default_factory=dict)
    # Organization id -> time (simulator clock) after which an accepted delete takes effect.
    deleting: dict[int, float] = field(default_factory=dict)


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without sending anything


def _json(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> _Reply:
    return _Reply(status, json.dumps(payload, separators=(",", ":")).encode(), list(headers))


class _Listener(TrackingServer):
    def __init__(self, address: tuple[str, int], sim: ItGlueSimulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("IT Glue simulator connection error from %s", client_address, exc_info=True)


class _Handler(DispatchingHandler):
    server: _Listener
    server_version = "o365mon-itglue-simulator"

    def _dispatch(self) -> None:
        body = self.read_body()
        try:
            reply = self.server.sim._handle(self.command, self.path, self.headers, body)
        except Exception:
            logger.exception("IT Glue simulator error handling %s", self.command)
            reply = _json(500, {"errors": [_error(500, "Internal Server Error")]})
        if reply.drop:
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        if reply.status != 204:
            self.send_header("Content-Type", JSONAPI)
            self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if reply.body and reply.status != 204:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("itglue %s", format % args)


_ID = r"(\d+)"
# (method, pattern, endpoint name for the request counts, handler method name)
_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    (m, re.compile(f"^{p}$"), f"{m} {name}", h)
    for m, p, name, h in [
        ("GET", "/organizations", "/organizations", "_list_orgs"),
        ("POST", "/organizations", "/organizations", "_create_org"),
        ("PATCH", "/organizations", "/organizations", "_bulk_patch_orgs"),
        ("DELETE", "/organizations", "/organizations", "_bulk_delete_orgs"),
        ("GET", f"/organizations/{_ID}", "/organizations/:id", "_get_org"),
        ("PATCH", f"/organizations/{_ID}", "/organizations/:id", "_patch_org"),
        (
            "GET",
            f"/organizations/{_ID}/relationships/contacts",
            "/organizations/:id/relationships/contacts",
            "_list_org_contacts",
        ),
        (
            "POST",
            f"/organizations/{_ID}/relationships/contacts",
            "/organizations/:id/relationships/contacts",
            "_bulk_create_contacts",
        ),
        ("GET", "/contacts", "/contacts", "_list_contacts"),
        ("POST", "/contacts", "/contacts", "_create_contact"),
        ("PATCH", "/contacts", "/contacts", "_bulk_patch_contacts"),
        ("GET", f"/contacts/{_ID}", "/contacts/:id", "_get_contact"),
        ("PATCH", f"/contacts/{_ID}", "/contacts/:id", "_patch_contact"),
        ("GET", "/flexible_asset_types", "/flexible_asset_types", "_list_types"),
        ("POST", "/flexible_asset_types", "/flexible_asset_types", "_create_type"),
        ("GET", f"/flexible_asset_types/{_ID}", "/flexible_asset_types/:id", "_get_type"),
        (
            "GET",
            f"/flexible_asset_types/{_ID}/relationships/flexible_asset_fields",
            "/flexible_asset_types/:id/relationships/flexible_asset_fields",
            "_list_fields",
        ),
        ("GET", "/flexible_assets", "/flexible_assets", "_list_assets"),
        ("POST", "/flexible_assets", "/flexible_assets", "_create_asset"),
        ("GET", f"/flexible_assets/{_ID}", "/flexible_assets/:id", "_get_asset"),
        ("PATCH", f"/flexible_assets/{_ID}", "/flexible_assets/:id", "_patch_asset"),
    ]
]


class ItGlueSimulator:
    """In-memory IT Glue accounts behind a threaded HTTP server on 127.0.0.1 (a context manager).

    Options for behaviour no primary source confirmed: `retry_after` (send Retry-After with a 429, and how),
    `links` (a top-level `links` object on lists), `ignore_case` (filters compare case-insensitively),
    `strict_filters` (an unknown filter answers 400 instead of being ignored), `delete_delay` (seconds before an
    accepted organization delete takes effect). `rate_limit` requests per `rate_window` seconds per account is
    IT Glue's documented 3,000 per 5 minutes; tests scale it down.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        api_key: str | None = None,
        rate_limit: int = 3000,
        rate_window: float = 300.0,
        retry_after: bool = True,
        links: bool = True,
        ignore_case: bool = False,
        strict_filters: bool = True,
        delete_delay: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._port = port
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self.links = links
        self.ignore_case = ignore_case
        self.strict_filters = strict_filters
        self.delete_delay = delete_delay
        self._clock = clock
        self._lock = threading.RLock()
        self._faults = FaultBook()
        self._counts: Counter[str] = Counter()
        self._accounts: dict[str, Account] = {}
        self._next_id = 1
        self._default_key = api_key or self._new_key()
        self.add_account("Default", api_key=self._default_key)
        self._listener: _Listener | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> ItGlueSimulator:
        if self._listener is None:
            self._listener = _Listener(("127.0.0.1", self._port), self)
            self._thread = threading.Thread(
                target=self._listener.serve_forever, kwargs={"poll_interval": 0.1}, name="itglue-sim", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown()
            listener.close_open_connections()
            listener.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ItGlueSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("the IT Glue simulator is not started")
        return f"http://127.0.0.1:{self._listener.server_address[1]}"

    @property
    def api_key(self) -> str:
        """The default account's key."""
        return self._default_key

    # ----------------------------------------------------------------- state for tests and benchmarks
    @staticmethod
    def _new_key() -> str:
        return "ITG." + secrets.token_hex(16)

    def add_account(self, name: str, *, api_key: str | None = None) -> str:
        """A separate account (its own data and rate limit); returns its API key."""
        key = api_key or self._new_key()
        with self._lock:
            self._accounts[key] = Account(
                name, key, _Bucket(self.rate_limit, self.rate_window, float(self.rate_limit), self._clock())
            )
        return key

    def _account(self, api_key: str | None) -> Account:
        return self._accounts[api_key or self._default_key]

    def reset(self) -> None:
        """Empty every account, refill the buckets, clear faults and request counts (keys stay valid)."""
        with self._lock:
            for acct in self._accounts.values():
                acct.organizations.clear()
                acct.contacts.clear()
                acct.asset_types.clear()
                acct.assets.clear()
                acct.deleting.clear()
                acct.bucket = _Bucket(self.rate_limit, self.rate_window, float(self.rate_limit), self._clock())
            self._faults.clear()
            self._counts.clear()

    def refill(self) -> None:
        """Fill every account's bucket (as if the window had passed)."""
        with self._lock:
            for acct in self._accounts.values():
                acct.bucket.tokens = float(acct.bucket.capacity)

    def add_fault(self, fault: ItGlueFault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[ItGlueFault]:
        return self._faults.pending()

    def request_counts(self) -> dict[str, int]:
        """Requests per endpoint, e.g. {"GET /contacts": 3, "POST /organizations/:id/relationships/contacts": 1}."""
        with self._lock:
            return dict(self._counts)

    def total_requests(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def clear_request_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def seed_organization(
        self, name: str, *, api_key: str | None = None, psa_integration: str | None = None, **attributes: Any
    ) -> int:
        """Create an organization directly; `psa_integration` (e.g. "manage") makes it PSA-synced (422 on write)."""
        with self._lock:
            acct = self._account(api_key)
            org = self._new_org(acct, {"name": name, **{snake(k): v for k, v in attributes.items()}})
            org["psa_integration"] = psa_integration
            return org["id"]

    def seed_contact(
        self, organization_id: int, *, api_key: str | None = None, synced: bool = False, **attributes: Any
    ) -> int:
        """Create a contact directly (attributes in snake or kebab case, emails as `contact_emails` items).

        `synced`: the contact came from a PSA or from IT Glue's own Microsoft integration, so writes to it answer 422.
        """
        with self._lock:
            acct = self._account(api_key)
            attrs = self._normalize({"organization_id": organization_id, **attributes})
            contact = self._new_contact(acct, attrs, "/data/attributes")
            contact["_synced"] = synced
            return contact["id"]

    def seed_flexible_asset_type(
        self, name: str, fields: list[dict], *, api_key: str | None = None, **attributes: Any
    ) -> int:
        with self._lock:
            acct = self._account(api_key)
            return self._new_type(acct, {"name": name, **attributes}, fields)["id"]

    def delete_flexible_asset_type(self, type_id: int, *, api_key: str | None = None) -> None:
        """A person deletes the type in IT Glue (the API cannot): its assets go with it."""
        with self._lock:
            acct = self._account(api_key)
            del acct.asset_types[type_id]
            for asset_id in [i for i, a in acct.assets.items() if a["flexible_asset_type_id"] == type_id]:
                del acct.assets[asset_id]

    def seed_flexible_asset(
        self,
        organization_id: int,
        flexible_asset_type_id: int,
        traits: dict,
        *,
        api_key: str | None = None,
        synced: bool = False,
    ) -> int:
        with self._lock:
            acct = self._account(api_key)
            asset = self._new_asset(
                acct,
                {
                    "organization_id": organization_id,
                    "flexible_asset_type_id": flexible_asset_type_id,
                    "traits": traits,
                },
            )
            asset["_synced"] = synced
            return asset["id"]

    def organizations(self, *, api_key: str | None = None) -> list[dict]:
        """Every organization as the API shows it (kebab-case attributes plus "id"), deleted ones excluded."""
        with self._lock:
            acct = self._account(api_key)
            self._expire_deletes(acct)
            return [{"id": str(o["id"]), **self._org_attrs(o)} for o in acct.organizations.values()]

    def contacts(self, *, api_key: str | None = None, organization_id: int | None = None) -> list[dict]:
        with self._lock:
            acct = self._account(api_key)
            self._expire_deletes(acct)
            return [
                {"id": str(c["id"]), **self._contact_attrs(acct, c)}
                for c in acct.contacts.values()
                if organization_id is None or c["organization_id"] == organization_id
            ]

    def flexible_assets(self, *, api_key: str | None = None) -> list[dict]:
        with self._lock:
            acct = self._account(api_key)
            return [{"id": str(a["id"]), **self._asset_attrs(acct, a)} for a in acct.assets.values()]

    def finish_deletes(self, *, api_key: str | None = None) -> None:
        """Make every accepted organization delete take effect now."""
        with self._lock:
            acct = self._account(api_key)
            for org_id in list(acct.deleting):
                acct.deleting[org_id] = -math.inf
            self._expire_deletes(acct)

    # ----------------------------------------------------------------- request handling
    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        route = next(((name, h, m) for mth, rx, name, h in _ROUTES if mth == method and (m := rx.match(path))), None)
        with self._lock:
            self._counts[route[0] if route else f"{method} (unknown)"] += 1
            acct = self._accounts.get(headers.get("x-api-key") or "")
            if acct is None:
                return _json(403, {"errors": [_error(403, "Forbidden", "Invalid API key")]})
            wait = acct.bucket.take(self._clock())
        if wait > 0:
            return self._throttled(math.ceil(wait) if self.retry_after else None)
        fault = self._faults.take(method, path)
        if fault is not None:
            if fault.kind == "throttle":
                return self._throttled(fault.retry_after)
            if fault.kind == "error":
                return _json(fault.status, {"errors": [_error(fault.status, _REASONS.get(fault.status, "Error"))]})
            if fault.kind == "slow":
                time.sleep(fault.delay)
        if route is None:
            return _json(404, {"errors": [_error(404, "Not Found")]})
        try:
            if body and (headers.get("Content-Type") or "").split(";")[0].strip() != JSONAPI:
                raise ApiError(415, "Unsupported Media Type", f"Content-Type must be {JSONAPI}")
            payload = None
            if body:
                try:
                    payload = json.loads(body)
                except ValueError:
                    raise ApiError(400, "Bad Request", "body is not JSON") from None
            query = parse_qsl(parts.query, keep_blank_values=True)
            with self._lock:
                self._expire_deletes(acct)
                status, doc = getattr(self, route[1])(acct, query, payload, *route[2].groups())
            reply = _json(status, doc) if status != 204 else _Reply(204)
        except ApiError as exc:
            reply = _json(exc.status, {"errors": exc.errors})
        if fault is not None and fault.kind == "commit_then_drop":
            return _Reply(0, drop=True)
        return reply

    def _throttled(self, retry_after: int | None) -> _Reply:
        headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
        return _json(429, {"errors": [_error(429, "Too Many Requests")]}, headers)

    # ----------------------------------------------------------------- JSON:API helpers
    @staticmethod
    def _normalize(attrs: Mapping[str, Any]) -> dict[str, Any]:
        """Accept kebab-case and snake_case attribute names (the docs show both), nested email/phone items too."""
        out: dict[str, Any] = {}
        for key, value in attrs.items():
            name = snake(key)
            if name in ("contact_emails", "contact_phones") and isinstance(value, list):
                value = [{snake(k): v for k, v in item.items()} if isinstance(item, dict) else item for item in value]
            out[name] = value
        return out

    def _attributes(self, payload: Any, expected_type: str, pointer: str = "/data") -> dict[str, Any]:
        data = payload.get("data") if isinstance(payload, dict) else None
        return self._item_attributes(data, expected_type, pointer)

    def _item_attributes(self, data: Any, expected_type: str, pointer: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request", "a data object is required", pointer)
        if data.get("type") is not None and snake(str(data["type"])) != snake(expected_type):
            raise ApiError(409, "Conflict", f"type must be {expected_type}", f"{pointer}/type")
        attrs = data.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise ApiError(400, "Bad Request", "attributes must be an object", f"{pointer}/attributes")
        out = self._normalize(attrs)
        # The parameter tables put contact_emails beside attributes while the examples put them inside: take both.
        for key in ("contact_emails", "contact_phones", "contact-emails", "contact-phones"):
            if key in data and snake(key) not in out:
                out.update(self._normalize({key: data[key]}))
        return out

    def _items(self, payload: Any, pointer: str = "/data") -> list[Any]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise ApiError(400, "Bad Request", "a data array is required", pointer)
        return data

    def _list(
        self,
        records: list[dict],
        query: list[tuple[str, str]],
        *,
        filters: frozenset[str],
        sorts: frozenset[str],
        value: Callable[[dict, str], Any],
        render: Callable[[dict], dict],
        rtype: str,
        path: str,
        apply_filters: bool = True,
    ) -> tuple[int, dict]:
        params = dict(query)
        number = _int_param(params, "page[number]", 1)
        size = min(_int_param(params, "page[size]", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        echoed: dict[str, str] = {}
        for key, raw in query:
            m = re.fullmatch(r"filter\[([\w-]+)\]", key)
            if not m:
                continue
            name = snake(m.group(1))
            if name not in filters:
                if self.strict_filters:
                    raise ApiError(400, "Bad Request", f"filter[{m.group(1)}] is not a permitted filter")
                continue
            echoed[name] = raw
            if not apply_filters:
                continue
            wanted = split_filter(raw)
            if self.ignore_case:
                wanted = [w.casefold() for w in wanted]
            kept = []
            for rec in records:
                got = value(rec, name)
                candidates = got if isinstance(got, list) else [got]
                strs = ["" if c is None else str(c).lower() if isinstance(c, bool) else str(c) for c in candidates]
                if self.ignore_case:
                    strs = [s.casefold() for s in strs]
                if any(s in wanted for s in strs):
                    kept.append(rec)
            records = kept
        sort = params.get("sort")
        if sort:
            field_name = snake(sort.lstrip("-"))
            if field_name not in sorts:
                raise ApiError(400, "Bad Request", f"sort by {sort} is not permitted")
            records = sorted(
                records,
                key=lambda r: (value(r, field_name) is None, str(value(r, field_name) or "")),
                reverse=sort.startswith("-"),
            )
        total = len(records)
        pages = math.ceil(total / size) if total else 0
        chunk = records[(number - 1) * size : number * size]
        doc: dict[str, Any] = {
            "data": [{"id": str(r["id"]), "type": rtype, "attributes": render(r)} for r in chunk],
            "meta": {
                "current-page": number,
                "next-page": number + 1 if number < pages else None,
                "prev-page": number - 1 if number > 1 else None,
                "total-pages": pages,
                "total-count": total,
                "filters": {kebab(k): v for k, v in echoed.items()},
            },
        }
        if self.links:

            def link(n: int) -> str:
                kept_params = [(k, v) for k, v in query if k not in ("page[number]", "page[size]")]
                return f"{self.url}{path}?" + urlencode([*kept_params, ("page[number]", n), ("page[size]", size)])

            doc["links"] = {"self": link(number), "first": link(1), "last": link(max(pages, 1))}
            if number < pages:
                doc["links"]["next"] = link(number + 1)
            if number > 1:
                doc["links"]["prev"] = link(number - 1)
        return 200, doc

    def _expire_deletes(self, acct: Account) -> None:
        now = self._clock()
        for org_id, when in list(acct.deleting.items()):
            if when <= now:
                del acct.deleting[org_id]
                acct.organizations.pop(org_id, None)
                for table in (acct.contacts, acct.assets):
                    for rid in [rid for rid, r in table.items() if r["organization_id"] == org_id]:
                        del table[rid]

    def _take_id(self) -> int:
        rid = self._next_id
        self._next_id += 1
        return rid

    # ----------------------------------------------------------------- organizations
    def _org_attrs(self, org: dict) -> dict:
        return {kebab(k): org.get(k) for k in ORG_ATTRS}

    def _org(self, acct: Account, org_id: int | str) -> dict:
        org = acct.organizations.get(_as_id(org_id))
        if org is None:
            raise ApiError(404, "Record not found", f"organization {org_id} does not exist")
        return org

    def _check_org_attrs(self, attrs: dict, pointer: str, *, create: bool) -> dict:
        unknown = sorted(set(attrs) - ORG_WRITABLE - {"id"})
        if unknown:
            raise _unprocessable(f"unknown attribute {kebab(unknown[0])}", f"{pointer}/{kebab(unknown[0])}")
        if (create or "name" in attrs) and not str(attrs.get("name") or "").strip():
            raise _unprocessable("can't be blank", f"{pointer}/name")
        return {k: v for k, v in attrs.items() if k != "id"}

    def _new_org(self, acct: Account, attrs: dict) -> dict:
        attrs = self._check_org_attrs(attrs, "/data/attributes", create=True)
        stamp = _now()
        org = {k: None for k in ORG_ATTRS}
        org.update(attrs, id=self._take_id(), created_at=stamp, updated_at=stamp, primary=False, ancestor_ids=[])
        acct.organizations[org["id"]] = org
        return org

    def _update_org(self, acct: Account, org: dict, attrs: dict, pointer: str) -> None:
        attrs = self._check_org_attrs(attrs, pointer, create=False)
        if org.get("psa_integration") and set(attrs) - ORG_PSA_WRITABLE:
            field_name = kebab(sorted(set(attrs) - ORG_PSA_WRITABLE)[0])
            raise _unprocessable("cannot update an externally synced record", f"{pointer}/{field_name}")
        org.update(attrs, updated_at=_now())

    def _org_doc(self, org: dict) -> dict:
        return {"id": str(org["id"]), "type": "organizations", "attributes": self._org_attrs(org)}

    def _list_orgs(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        return self._list(
            list(acct.organizations.values()),
            query,
            filters=ORG_FILTERS,
            sorts=ORG_SORTS,
            value=lambda r, n: r.get(n),
            render=self._org_attrs,
            rtype="organizations",
            path="/organizations",
        )

    def _get_org(self, acct: Account, query: list, payload: Any, org_id: str) -> tuple[int, dict]:
        return 200, {"data": self._org_doc(self._org(acct, org_id))}

    def _create_org(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        return 201, {"data": self._org_doc(self._new_org(acct, self._attributes(payload, "organizations")))}

    def _patch_org(self, acct: Account, query: list, payload: Any, org_id: str) -> tuple[int, dict]:
        org = self._org(acct, org_id)
        self._update_org(acct, org, self._attributes(payload, "organizations"), "/data/attributes")
        return 200, {"data": self._org_doc(org)}

    def _bulk_patch_orgs(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        changes = []
        for i, item in enumerate(self._items(payload)):
            attrs = self._item_attributes(item, "organizations", f"/data/{i}")
            if "id" not in attrs:
                raise _unprocessable("id is required inside attributes", f"/data/{i}/attributes/id")
            changes.append((self._org(acct, attrs["id"]), attrs, f"/data/{i}/attributes"))
        errors = []
        for org, attrs, pointer in changes:
            try:
                self._check_org_attrs(attrs, pointer, create=False)
                if org.get("psa_integration") and set(attrs) - ORG_PSA_WRITABLE - {"id"}:
                    raise _unprocessable("cannot update an externally synced record", pointer)
            except ApiError as exc:
                errors.extend(exc.errors)
        if errors:
            raise _bulk_error(errors)
        for org, attrs, pointer in changes:
            self._update_org(acct, org, attrs, pointer)
        return 200, {"data": [self._org_doc(org) for org, _, _ in changes]}

    def _bulk_delete_orgs(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        # Deletion is asynchronous: the records stay visible until `delete_delay` has passed.
        for i, item in enumerate(self._items(payload)):
            attrs = self._item_attributes(item, "organizations", f"/data/{i}")
            org = self._org(acct, attrs.get("id", 0))
            acct.deleting.setdefault(org["id"], self._clock() + self.delete_delay)
        return 204, {}

    # ----------------------------------------------------------------- contacts
    def _contact_attrs(self, acct: Account, c: dict) -> dict:
        out = {kebab(k): c.get(k) for k in CONTACT_ATTRS}
        org = acct.organizations.get(c["organization_id"])
        out["organization-name"] = org["name"] if org else None
        first, last = c.get("first_name"), c.get("last_name")
        out["name"] = " ".join(p for p in (first, last) if p) or None
        out["contact-emails"] = [{kebab(k): v for k, v in e.items()} for e in c.get("contact_emails") or []]
        out["contact-phones"] = [{kebab(k): v for k, v in p.items()} for p in c.get("contact_phones") or []]
        return out

    @staticmethod
    def _contact_value(c: dict, name: str) -> Any:
        if name == "primary_email":
            return next((e["value"] for e in c.get("contact_emails") or [] if e.get("primary")), None)
        return c.get(name)

    def _contact(self, acct: Account, contact_id: int | str) -> dict:
        c = acct.contacts.get(_as_id(contact_id))
        if c is None:
            raise ApiError(404, "Record not found", f"contact {contact_id} does not exist")
        return c

    def _check_contact(self, acct: Account, attrs: dict, pointer: str, *, create: bool) -> dict:
        unknown = sorted(set(attrs) - CONTACT_WRITABLE - {"id"})
        if unknown:
            raise _unprocessable(f"unknown attribute {kebab(unknown[0])}", f"{pointer}/{kebab(unknown[0])}")
        out = {k: v for k, v in attrs.items() if k != "id"}
        if create or "organization_id" in out:
            try:
                out["organization_id"] = int(out.get("organization_id"))
                if out["organization_id"] not in acct.organizations:
                    raise ValueError
            except (TypeError, ValueError):
                raise ApiError(422, "Valid organization_id is required", pointer=f"{pointer}/organization_id") from None
        if "contact_emails" in out:
            emails = []
            for i, item in enumerate(out["contact_emails"] or []):
                where = f"{pointer}/contact-emails/{i}"
                if not isinstance(item, dict):
                    raise _unprocessable("must be an object", where)
                if not EMAIL_RE.match(str(item.get("value") or "")):
                    raise _unprocessable("is not a valid email address", f"{where}/value")
                if not item.get("label_name"):
                    raise _unprocessable("can't be blank", f"{where}/label-name")
                emails.append(
                    {
                        "value": item["value"],
                        "primary": bool(item.get("primary", False)),
                        "label_name": item["label_name"],
                    }
                )
            out["contact_emails"] = emails
        if "contact_phones" in out:
            phones = []
            for i, item in enumerate(out["contact_phones"] or []):
                where = f"{pointer}/contact-phones/{i}"
                if not isinstance(item, dict):
                    raise _unprocessable("must be an object", where)
                value = re.sub(r"[^\d+]", "", str(item.get("value") or ""))
                if not value:
                    raise _unprocessable("can't be blank", f"{where}/value")
                label_type = item.get("label_type") or "phone"
                if label_type not in ("phone", "fax"):
                    raise _unprocessable("must be phone or fax", f"{where}/label-type")
                ext = re.sub(r"\D", "", str(item.get("extension") or "")) or None
                formatted = f"({value[:3]}) {value[3:6]}-{value[6:]}" if re.fullmatch(r"\d{10}", value) else value
                phones.append(
                    {
                        "value": value,
                        "extension": ext,
                        "primary": bool(item.get("primary", False)),
                        "label_name": item.get("label_name"),
                        "label_type": label_type,
                        "formatted_value": formatted,
                    }
                )
            out["contact_phones"] = phones
        return out

    def _new_contact(self, acct: Account, attrs: dict, pointer: str) -> dict:
        attrs = self._check_contact(acct, attrs, pointer, create=True)
        stamp = _now()
        contact = {k: None for k in CONTACT_ATTRS}
        contact.update(contact_emails=[], contact_phones=[], important=False, restricted=False)
        contact.update(attrs, id=self._take_id(), created_at=stamp, updated_at=stamp, _synced=False)
        acct.contacts[contact["id"]] = contact
        return contact

    def _guard_synced(self, record: dict, pointer: str) -> None:
        if record.get("_synced"):
            raise _unprocessable("cannot update an externally synced record", pointer)

    def _contact_doc(self, acct: Account, c: dict) -> dict:
        return {"id": str(c["id"]), "type": "contacts", "attributes": self._contact_attrs(acct, c)}

    def _list_contacts(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        return self._list(
            list(acct.contacts.values()),
            query,
            filters=CONTACT_FILTERS,
            sorts=CONTACT_SORTS,
            value=self._contact_value,
            render=lambda c: self._contact_attrs(acct, c),
            rtype="contacts",
            path="/contacts",
        )

    def _list_org_contacts(self, acct: Account, query: list, payload: Any, org_id: str) -> tuple[int, dict]:
        org = self._org(acct, org_id)
        records = [c for c in acct.contacts.values() if c["organization_id"] == org["id"]]
        # "Filtering in nested relationship routes is not possible": filters are ignored here.
        return self._list(
            records,
            query,
            filters=CONTACT_FILTERS,
            sorts=CONTACT_SORTS,
            value=self._contact_value,
            render=lambda c: self._contact_attrs(acct, c),
            rtype="contacts",
            path=f"/organizations/{org['id']}/relationships/contacts",
            apply_filters=False,
        )

    def _get_contact(self, acct: Account, query: list, payload: Any, contact_id: str) -> tuple[int, dict]:
        return 200, {"data": self._contact_doc(acct, self._contact(acct, contact_id))}

    def _create_contact(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        contact = self._new_contact(acct, self._attributes(payload, "contacts"), "/data/attributes")
        return 201, {"data": self._contact_doc(acct, contact)}

    def _bulk_create_contacts(self, acct: Account, query: list, payload: Any, org_id: str) -> tuple[int, dict]:
        org = self._org(acct, org_id)
        checked, errors = [], []
        for i, item in enumerate(self._items(payload)):
            try:
                attrs = self._item_attributes(item, "contacts", f"/data/{i}")
                attrs["organization_id"] = org["id"]
                checked.append(self._check_contact(acct, attrs, f"/data/{i}/attributes", create=True))
            except ApiError as exc:
                errors.extend(exc.errors)
        if errors:  # nothing is created when one item is invalid
            raise _bulk_error(errors)
        created = [self._new_contact(acct, attrs, "/data/attributes") for attrs in checked]
        return 200, {"data": [self._contact_doc(acct, c) for c in created]}

    def _patch_contact(self, acct: Account, query: list, payload: Any, contact_id: str) -> tuple[int, dict]:
        contact = self._contact(acct, contact_id)
        attrs = self._check_contact(acct, self._attributes(payload, "contacts"), "/data/attributes", create=False)
        self._guard_synced(contact, "/data/attributes")
        contact.update(attrs, updated_at=_now())
        return 200, {"data": self._contact_doc(acct, contact)}

    def _bulk_patch_contacts(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        changes, errors = [], []
        for i, item in enumerate(self._items(payload)):
            pointer = f"/data/{i}/attributes"
            try:
                attrs = self._item_attributes(item, "contacts", f"/data/{i}")
                if "id" not in attrs:
                    raise _unprocessable("id is required inside attributes", f"{pointer}/id")
                contact = self._contact(acct, attrs["id"])
                self._guard_synced(contact, pointer)
                changes.append((contact, self._check_contact(acct, attrs, pointer, create=False)))
            except ApiError as exc:
                errors.extend(exc.errors)
        if errors:
            raise _bulk_error(errors)
        for contact, attrs in changes:
            contact.update(attrs, updated_at=_now())
        return 200, {"data": [self._contact_doc(acct, c) for c, _ in changes]}

    # ----------------------------------------------------------------- flexible asset types and assets
    def _new_type(self, acct: Account, attrs: dict, fields: list[dict]) -> dict:
        attrs = self._normalize(attrs)
        if not str(attrs.get("name") or "").strip():
            raise _unprocessable("can't be blank", "/data/attributes/name")
        if any(t["name"] == attrs["name"] for t in acct.asset_types.values()):
            raise _unprocessable("has already been taken", "/data/attributes/name")
        checked, names, orders = [], set(), set()
        for i, raw in enumerate(fields):
            f = self._normalize(raw.get("attributes", raw) if isinstance(raw, dict) else {})
            where = f"/data/relationships/flexible-asset-fields/data/{i}/attributes"
            if not f.get("name") or f["name"] in names:
                raise _unprocessable("name must be present and unique", f"{where}/name")
            order = f.get("order", i + 1)
            if order in orders:
                raise _unprocessable("order must be unique", f"{where}/order")
            if f.get("kind") not in FIELD_KINDS:
                raise _unprocessable("is not a valid kind", f"{where}/kind")
            names.add(f["name"])
            orders.add(order)
            checked.append(
                {
                    "id": self._take_id(),
                    "name": f["name"],
                    "kind": f["kind"],
                    "order": order,
                    "name_key": re.sub(r"[^a-z0-9]+", "-", f["name"].lower()).strip("-"),
                    "required": bool(f.get("required", False)),
                    "show_in_list": bool(f.get("show_in_list", False)),
                    "hint": f.get("hint"),
                    "tag_type": f.get("tag_type"),
                    "default_value": f.get("default_value"),
                    "use_for_title": bool(f.get("use_for_title", False)),
                }
            )
        if not any(f["show_in_list"] for f in checked):
            raise _unprocessable(
                "at least one field must be shown in the list", "/data/relationships/flexible-asset-fields"
            )
        stamp = _now()
        ftype = {k: None for k in FAT_ATTRS}
        ftype.update(enabled=True, show_in_menu=False)
        ftype.update(
            {k: v for k, v in attrs.items() if k in FAT_ATTRS},
            id=self._take_id(),
            created_at=stamp,
            updated_at=stamp,
            fields=checked,
        )
        acct.asset_types[ftype["id"]] = ftype
        return ftype

    def _type_doc(self, ftype: dict) -> dict:
        return {
            "id": str(ftype["id"]),
            "type": "flexible-asset-types",
            "attributes": {kebab(k): ftype.get(k) for k in FAT_ATTRS},
        }

    @staticmethod
    def _field_doc(f: dict) -> dict:
        return {
            "id": str(f["id"]),
            "type": "flexible-asset-fields",
            "attributes": {kebab(k): v for k, v in f.items() if k != "id"},
        }

    def _type(self, acct: Account, type_id: int | str) -> dict:
        ftype = acct.asset_types.get(_as_id(type_id))
        if ftype is None:
            raise ApiError(404, "Record not found", f"flexible asset type {type_id} does not exist")
        return ftype

    def _list_types(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        status, doc = self._list(
            list(acct.asset_types.values()),
            query,
            filters=frozenset({"id", "name", "icon", "enabled"}),
            sorts=frozenset({"name", "id", "created_at", "updated_at"}),
            value=lambda r, n: r.get(n),
            render=lambda t: self._type_doc(t)["attributes"],
            rtype="flexible-asset-types",
            path="/flexible_asset_types",
        )
        if dict(query).get("include") == "flexible_asset_fields":
            by_id = {str(t["id"]): t for t in acct.asset_types.values()}
            doc["included"] = [self._field_doc(f) for item in doc["data"] for f in by_id[item["id"]]["fields"]]
        return status, doc

    def _create_type(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        attrs = self._attributes(payload, "flexible_asset_types")
        rel = (payload.get("data") or {}).get("relationships") or {}
        fields = (rel.get("flexible_asset_fields") or rel.get("flexible-asset-fields") or {}).get("data") or []
        ftype = self._new_type(acct, attrs, fields)
        return 201, {"data": self._type_doc(ftype), "included": [self._field_doc(f) for f in ftype["fields"]]}

    def _get_type(self, acct: Account, query: list, payload: Any, type_id: str) -> tuple[int, dict]:
        ftype = self._type(acct, type_id)
        doc: dict[str, Any] = {"data": self._type_doc(ftype)}
        if dict(query).get("include") == "flexible_asset_fields":
            doc["included"] = [self._field_doc(f) for f in ftype["fields"]]
        return 200, doc

    def _list_fields(self, acct: Account, query: list, payload: Any, type_id: str) -> tuple[int, dict]:
        ftype = self._type(acct, type_id)
        return self._list(
            ftype["fields"],
            query,
            filters=frozenset(),
            sorts=frozenset({"order", "id", "name"}),
            value=lambda r, n: r.get(n),
            render=lambda f: self._field_doc(f)["attributes"],
            rtype="flexible-asset-fields",
            path=f"/flexible_asset_types/{ftype['id']}/relationships/flexible_asset_fields",
        )

    def _asset_attrs(self, acct: Account, a: dict) -> dict:
        ftype = acct.asset_types.get(a["flexible_asset_type_id"]) or {}
        org = acct.organizations.get(a["organization_id"]) or {}
        title_field = next((f for f in ftype.get("fields", []) if f["use_for_title"] or f["show_in_list"]), None)
        out = {kebab(k): a.get(k) for k in FA_ATTRS}
        out.update(
            {
                "organization-name": org.get("name"),
                "flexible-asset-type-name": ftype.get("name"),
                "name": a["traits"].get(title_field["name_key"]) if title_field else None,
                "traits": dict(a["traits"]),
            }
        )
        return out

    def _check_traits(self, ftype: dict, traits: Any, pointer: str) -> dict:
        if not isinstance(traits, dict):
            raise _unprocessable("traits must be an object", pointer)
        fields = {f["name_key"]: f for f in ftype["fields"]}
        unknown = sorted(set(traits) - set(fields))
        if unknown:
            raise _unprocessable(f"unknown trait {unknown[0]}", f"{pointer}/{unknown[0]}")
        kept = {k: v for k, v in traits.items() if v is not None}  # null deletes a trait
        for key, f in fields.items():
            if f["required"] and kept.get(key) in (None, ""):
                raise _unprocessable("can't be blank", f"{pointer}/{key}")
        return kept

    def _new_asset(self, acct: Account, attrs: dict) -> dict:
        attrs = self._normalize(attrs)
        try:
            org = self._org(acct, attrs.get("organization_id"))
        except (ApiError, TypeError, ValueError):
            raise ApiError(
                422, "Valid organization_id is required", pointer="/data/attributes/organization_id"
            ) from None
        try:
            ftype = self._type(acct, attrs.get("flexible_asset_type_id"))
        except (ApiError, TypeError, ValueError):
            raise ApiError(
                422, "Valid flexible_asset_type_id is required", pointer="/data/attributes/flexible_asset_type_id"
            ) from None
        stamp = _now()
        asset = {
            "id": self._take_id(),
            "organization_id": org["id"],
            "flexible_asset_type_id": ftype["id"],
            "traits": self._check_traits(ftype, attrs.get("traits") or {}, "/data/attributes/traits"),
            "archived": False,
            "created_at": stamp,
            "updated_at": stamp,
            "_synced": False,
        }
        acct.assets[asset["id"]] = asset
        return asset

    def _asset_doc(self, acct: Account, a: dict) -> dict:
        return {"id": str(a["id"]), "type": "flexible-assets", "attributes": self._asset_attrs(acct, a)}

    def _asset(self, acct: Account, asset_id: int | str) -> dict:
        a = acct.assets.get(_as_id(asset_id))
        if a is None:
            raise ApiError(404, "Record not found", f"flexible asset {asset_id} does not exist")
        return a

    def _list_assets(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        if not any(snake(k) == "filter[flexible_asset_type_id]" for k, _ in query):
            raise ApiError(400, "Bad Request", "filter[flexible-asset-type-id] is required")
        return self._list(
            list(acct.assets.values()),
            query,
            filters=frozenset({"flexible_asset_type_id", "name", "organization_id"}),
            sorts=frozenset({"name", "id", "created_at", "updated_at"}),
            value=lambda r, n: self._asset_attrs(acct, r)["name"] if n == "name" else r.get(n),
            render=lambda a: self._asset_attrs(acct, a),
            rtype="flexible-assets",
            path="/flexible_assets",
        )

    def _get_asset(self, acct: Account, query: list, payload: Any, asset_id: str) -> tuple[int, dict]:
        return 200, {"data": self._asset_doc(acct, self._asset(acct, asset_id))}

    def _create_asset(self, acct: Account, query: list, payload: Any) -> tuple[int, dict]:
        attrs = self._attributes(payload, "flexible_assets")
        return 201, {"data": self._asset_doc(acct, self._new_asset(acct, attrs))}

    def _patch_asset(self, acct: Account, query: list, payload: Any, asset_id: str) -> tuple[int, dict]:
        asset = self._asset(acct, asset_id)
        attrs = self._attributes(payload, "flexible_assets")
        self._guard_synced(asset, "/data/attributes/traits")
        ftype = acct.asset_types[asset["flexible_asset_type_id"]]
        # Every trait left out of the PATCH is deleted: the new set replaces the old one.
        asset["traits"] = self._check_traits(ftype, attrs.get("traits") or {}, "/data/attributes/traits")
        asset["updated_at"] = _now()
        return 200, {"data": self._asset_doc(acct, asset)}


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _bulk_error(errors: list[dict]) -> ApiError:
    """One answer for every failed item: their common status, else 422."""
    statuses = {e["status"] for e in errors}
    status = statuses.pop() if len(statuses) == 1 else 422
    return ApiError(status, "Unprocessable Entity", errors=errors)


def _as_id(value: Any) -> int | None:
    """An id from a path or from attributes; anything that is not a whole number matches no record."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Bad Request", f"{name} must be a number") from None
    if value < 1:
        raise ApiError(400, "Bad Request", f"{name} must be at least 1")
    return value
