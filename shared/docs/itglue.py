"""IT Glue REST API client: the only module that speaks IT Glue's HTTP.

JSON:API over httpx (sync). Sends kebab-case attributes, reads pages of 1,000 until `meta.total-pages`, and keeps
to IT Glue's rate limit (3,000 requests per 5 minutes per account, shared by every integration of the account):

- a client-side token bucket per account (API key) in this process, shared by every client built for that key, of
  ITGLUE_RATE_SHARE requests per 5 minutes (default 1,000: a third of the account's budget). A share per instance
  rather than one bucket in Table Storage: the account's budget is also spent by integrations o365mon cannot see,
  so no bucket of ours could be exact and the 429 handling below is needed anyway; a shared bucket would add a
  contended conditional write to every request. The share bounds what each instance takes from the others;
- on 429 it waits `Retry-After` when the answer has one, else until the edge of the 5-minute window plus jitter;
  on 5xx it backs off exponentially; every wait is bounded by a per-call deadline.

Writes are not idempotent (IT Glue has no idempotency keys): a POST whose answer is lost (the connection drops
after the request was sent, or a 500/502/504 that may follow a commit) raises `ItGlueOutcomeUnknown` instead of
being retried, so the caller reads IT Glue before creating again. PATCH sends a full desired state, so it is
retried like a read.

The API key only ever travels in the `x-api-key` header: it is never logged, never put in an exception, and
`repr()` of a client does not show it.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import httpx

from shared import settings

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.itglue.com"
JSONAPI = "application/vnd.api+json"
PAGE_SIZE = 1000
RATE_LIMIT = 3000
RATE_WINDOW = 300.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST answered with one of these may have been committed before the failure.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
# Attributes whose items are objects with their own (kebab-case) keys.
NESTED_ITEMS = frozenset({"contact-emails", "contact-phones"})


class ItGlueError(Exception):
    """An IT Glue error answer: HTTP status plus the first JSON:API error's title, detail and source pointer.
    `status` 0: no answer at all."""

    service = "IT Glue"  # an HTTP route answers 502/503 naming it (shared.errors.classify), never IT Glue's 4xx

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        pointer: str | None = None,
        *,
        method: str = "",
        endpoint: str = "",
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.method = method
        self.endpoint = endpoint
        self.errors = [dict(e) for e in errors]
        where = f"{method} {endpoint}: " if method else ""
        text = f"{where}{status} {title}"
        if detail:
            text += f": {detail}"
        if pointer:
            text += f" ({pointer})"
        super().__init__(text)


class ItGlueRateLimited(ItGlueError):
    """Still throttled (429, or the client-side budget empty) when the call's deadline came."""


class ItGlueOutcomeUnknown(ItGlueError):
    """A write was sent but its answer was lost: IT Glue may or may not have applied it. Read before re-creating."""


@dataclass(frozen=True)
class Resource:
    id: str
    type: str
    attributes: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)


@dataclass
class ClientStats:
    """What a client did, for the sync logs: requests sent (per endpoint), 429s, and the seconds spent waiting."""

    requests: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    throttle_wait_seconds: float = 0.0
    budget_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0  # backoff after 5xx answers and lost connections
    retries: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_endpoint": dict(self.by_endpoint),
            "throttled": self.throttled,
            "throttle_wait_seconds": round(self.throttle_wait_seconds, 3),
            "budget_wait_seconds": round(self.budget_wait_seconds, 3),
            "retry_wait_seconds": round(self.retry_wait_seconds, 3),
            "retries": self.retries,
        }


class RateBudget:
    """A token bucket of `limit` requests per `window` seconds (thread-safe), refilled continuously."""

    def __init__(
        self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(limit)
        self._stamp = clock()
        self._origin = self._stamp
        self._paused_until = -math.inf

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.limit), self._tokens + (now - self._stamp) * self.limit / self.window)
        self._stamp = now

    def try_take(self) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is available (nothing taken)."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            self._refill(now)
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) * self.window / self.limit

    def pause(self, seconds: float) -> None:
        """IT Glue said 429: the account is over its limit whatever this bucket thought, so every caller sharing
        the bucket holds off for `seconds` (and starts again from an empty bucket)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            self._paused_until = max(self._paused_until, now + seconds)

    def seconds_to_window_edge(self) -> float:
        """Seconds to the end of the current `window` (counted from this bucket's creation)."""
        with self._lock:
            elapsed = self._clock() - self._origin
        return self.window - (elapsed % self.window)


_BUDGETS: dict[tuple[str, str], RateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def account_key(base_url: str, api_key: str) -> tuple[str, str]:
    """One account's key for process-wide state: the API URL and a digest of the API key, never the key itself."""
    return (base_url, sha256(api_key.encode()).hexdigest()[:16])


def shared_budget(base_url: str, api_key: str, *, limit: int = RATE_LIMIT, window: float = RATE_WINDOW) -> RateBudget:
    """The process-wide budget of one account."""
    ident = account_key(base_url, api_key)
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(ident)
        if budget is None:
            budget = _BUDGETS[ident] = RateBudget(limit, window)
        return budget


def kebab(name: str) -> str:
    return name.replace("_", "-")


def to_request_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case or kebab-case in, kebab-case out (also inside contact-emails / contact-phones items).

    Trait keys of flexible assets are field name-keys, not attribute names: `traits` is passed through untouched.
    """
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        name = kebab(key)
        if name in NESTED_ITEMS and isinstance(value, Sequence) and not isinstance(value, str):
            value = [{kebab(k): v for k, v in item.items()} for item in value]
        out[name] = value
    return out


def filter_value(values: str | Sequence[str]) -> str:
    """Exact-match alternatives joined by commas; a comma inside a value is escaped as `\\,`."""
    items = [values] if isinstance(values, str) else list(values)
    if not items:
        raise ValueError("a filter needs at least one value")
    return ",".join(str(v).replace(",", "\\,") for v in items)


def _endpoint(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/:id", path)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _first_error(response: httpx.Response) -> tuple[str, str | None, str | None, list[dict]]:
    try:
        doc = response.json()
    except ValueError:
        doc = None
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        source = first.get("source")
        if not isinstance(source, dict):
            source = {}
        title = str(first.get("title") or response.reason_phrase or "error")
        detail = first.get("detail")
        pointer = source.get("pointer")
        return title, None if detail is None else str(detail), None if pointer is None else str(pointer), errors
    return response.reason_phrase or "error", None, None, []


class ItGlueClient:
    """Typed, keyword-only calls to one IT Glue account. Thread-safe; use as a context manager or `close()`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        deadline: float = 900.0,
        max_attempts: int = 10,
        budget: RateBudget | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        base_url = (base_url or settings.get("ITGLUE_API_URL", DEFAULT_API_URL)).rstrip("/")
        key = api_key if api_key is not None else settings.get("ITGLUE_API_KEY")
        if not key:
            raise ValueError("no IT Glue API key (setting ITGLUE_API_KEY)")
        self.base_url = base_url
        self.account = account_key(base_url, key)
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.budget = budget or shared_budget(base_url, key, limit=max(1, settings.integer("ITGLUE_RATE_SHARE")))
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._http = httpx.Client(
            base_url=base_url,
            headers={"x-api-key": key, "Accept": JSONAPI},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ItGlueClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ItGlueClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- transport
    def _wait(self, seconds: float, until: float, kind: str, failure: ItGlueError) -> None:
        """Sleep `seconds` (counted by `kind`), or raise `failure` if that would pass the call's deadline."""
        if self._clock() + seconds > until:
            raise failure
        with self._stats_lock:
            if kind == "budget":
                self.stats.budget_wait_seconds += seconds
            elif kind == "throttle":
                self.stats.throttle_wait_seconds += seconds
            else:
                self.stats.retry_wait_seconds += seconds
        self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        return min(30.0, 2.0 ** (attempt - 1)) * (0.5 + self._jitter() / 2)

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None
    ) -> dict[str, Any] | None:
        """One logical call with retries; returns the decoded JSON:API document (None for 204)."""
        endpoint = _endpoint(path)
        until = self._clock() + self.deadline
        write = method in ("POST",)
        attempt = 0
        headers = {"Content-Type": JSONAPI} if json is not None else None
        while True:
            attempt += 1
            while (wait := self.budget.try_take()) > 0:
                budget_empty = ItGlueRateLimited(
                    429, "Too Many Requests", "the client-side rate budget is empty", method=method, endpoint=endpoint
                )
                self._wait(wait, until, "budget", budget_empty)
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.by_endpoint[f"{method} {endpoint}"] += 1
            try:
                response = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                logger.warning("IT Glue %s %s: %s", method, endpoint, type(exc).__name__)
                if write and sent:
                    raise ItGlueOutcomeUnknown(
                        0,
                        "No answer",
                        f"{type(exc).__name__}: the write may have been applied",
                        method=method,
                        endpoint=endpoint,
                    ) from None
                failure = ItGlueError(0, "No answer", type(exc).__name__, method=method, endpoint=endpoint)
                if attempt >= self.max_attempts:
                    raise failure from None
                self._count_retry()
                self._wait(self._backoff(attempt), until, "error", failure)
                continue
            status = response.status_code
            logger.debug("IT Glue %s %s -> %d", method, endpoint, status)
            if status < 400:
                return None if status == 204 or not response.content else response.json()
            title, detail, pointer, errors = _first_error(response)
            if write and status in AMBIGUOUS_STATUSES:
                raise ItGlueOutcomeUnknown(
                    status,
                    title,
                    detail or "the write may have been applied",
                    pointer,
                    method=method,
                    endpoint=endpoint,
                    errors=errors,
                )
            if status not in RETRY_STATUSES:
                if status == 422:
                    logger.info("IT Glue %s %s -> 422 %s (%s)", method, endpoint, title, pointer)
                raise ItGlueError(status, title, detail, pointer, method=method, endpoint=endpoint, errors=errors)
            cls = ItGlueRateLimited if status == 429 else ItGlueError
            failure = cls(status, title, detail, pointer, method=method, endpoint=endpoint, errors=errors)
            pause = 0.0
            if status == 429:
                with self._stats_lock:
                    self.stats.throttled += 1
                asked = _parse_retry_after(response.headers.get("Retry-After"))
                # No Retry-After: the account's window may be anywhere; go to our window's edge, spread out.
                pause = asked if asked is not None else self._edge_wait()
                self.budget.pause(pause)
            if attempt >= self.max_attempts:
                raise failure
            self._count_retry()
            if status == 429:
                logger.warning("IT Glue %s %s -> 429, waiting %.1f s", method, endpoint, pause)
                self._wait(pause, until, "throttle", failure)
            else:
                logger.warning("IT Glue %s %s -> %d, retrying", method, endpoint, status)
                self._wait(self._backoff(attempt), until, "error", failure)

    def _edge_wait(self) -> float:
        return self.budget.seconds_to_window_edge() + self._jitter() * min(30.0, self.budget.window / 10)

    def _count_retry(self) -> None:
        with self._stats_lock:
            self.stats.retries += 1

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Resource]:
        number = 1
        while True:
            query = {**(params or {}), "page[size]": str(PAGE_SIZE), "page[number]": str(number)}
            doc = self.request("GET", path, params=query) or {}
            data = doc.get("data") or []
            yield from (_resource(item) for item in data)
            meta = doc.get("meta") or {}
            total_pages = meta.get("total-pages")
            if total_pages is None:
                if len(data) < PAGE_SIZE:
                    return
            elif number >= int(total_pages):
                return
            number += 1

    def _list(self, path: str, filters: Mapping[str, str | Sequence[str] | None], **extra: str) -> list[Resource]:
        params = {f"filter[{k}]": filter_value(v) for k, v in filters.items() if v is not None}
        params.update(extra)
        return list(self._pages(path, params))

    @staticmethod
    def _one(doc: dict[str, Any] | None) -> Resource:
        return _resource((doc or {})["data"])

    @staticmethod
    def _many(doc: dict[str, Any] | None) -> list[Resource]:
        return [_resource(item) for item in (doc or {}).get("data") or []]

    # ----------------------------------------------------------------- organizations
    def list_organizations(
        self,
        *,
        name: str | Sequence[str] | None = None,
        ids: Sequence[str | int] | None = None,
        organization_type_id: str | int | None = None,
        organization_status_id: str | int | None = None,
    ) -> list[Resource]:
        """Every organization matching the exact filters (a sequence means any of them)."""
        return self._list(
            "/organizations",
            {
                "name": name,
                "id": [str(i) for i in ids] if ids is not None else None,
                "organization_type_id": None if organization_type_id is None else str(organization_type_id),
                "organization_status_id": None if organization_status_id is None else str(organization_status_id),
            },
        )

    def get_organization(self, *, organization_id: str | int) -> Resource:
        return self._one(self.request("GET", f"/organizations/{int(organization_id)}"))

    def create_organization(self, *, name: str, attributes: Mapping[str, Any] | None = None) -> Resource:
        body = {
            "data": {"type": "organizations", "attributes": to_request_attributes({**(attributes or {}), "name": name})}
        }
        return self._one(self.request("POST", "/organizations", json=body))

    def patch_organization(self, *, organization_id: str | int, attributes: Mapping[str, Any]) -> Resource:
        body = {"data": {"type": "organizations", "attributes": to_request_attributes(attributes)}}
        return self._one(self.request("PATCH", f"/organizations/{int(organization_id)}", json=body))

    def patch_organizations(self, *, updates: Mapping[str | int, Mapping[str, Any]]) -> list[Resource]:
        """Bulk update: {organization id: attributes}; IT Glue wants each id inside its attributes."""
        data = [
            {"type": "organizations", "attributes": {**to_request_attributes(attrs), "id": int(org_id)}}
            for org_id, attrs in updates.items()
        ]
        return self._many(self.request("PATCH", "/organizations", json={"data": data})) if data else []

    # ----------------------------------------------------------------- contacts
    def list_contacts(
        self,
        *,
        organization_id: str | int,
        primary_email: str | Sequence[str] | None = None,
        first_name: str | Sequence[str] | None = None,
        last_name: str | Sequence[str] | None = None,
    ) -> list[Resource]:
        """Contacts of one organization (IT Glue cannot filter on secondary e-mails: match aliases locally)."""
        return self._list(
            "/contacts",
            {
                "organization_id": str(int(organization_id)),
                "primary_email": primary_email,
                "first_name": first_name,
                "last_name": last_name,
            },
        )

    def get_contact(self, *, contact_id: str | int) -> Resource:
        return self._one(self.request("GET", f"/contacts/{int(contact_id)}"))

    def create_contact(self, *, organization_id: str | int, attributes: Mapping[str, Any]) -> Resource:
        attrs = {**to_request_attributes(attributes), "organization-id": int(organization_id)}
        return self._one(self.request("POST", "/contacts", json={"data": {"type": "contacts", "attributes": attrs}}))

    def create_contacts(self, *, organization_id: str | int, contacts: Sequence[Mapping[str, Any]]) -> list[Resource]:
        """Bulk create on the organization's nested route, in chunks of `PAGE_SIZE`; returns them in order.

        A lost answer raises `ItGlueOutcomeUnknown`: contacts of that chunk (and only that one) may exist.
        """
        created: list[Resource] = []
        path = f"/organizations/{int(organization_id)}/relationships/contacts"
        for start in range(0, len(contacts), PAGE_SIZE):
            chunk = contacts[start : start + PAGE_SIZE]
            data = [{"type": "contacts", "attributes": to_request_attributes(c)} for c in chunk]
            created.extend(self._many(self.request("POST", path, json={"data": data})))
        return created

    def patch_contact(self, *, contact_id: str | int, attributes: Mapping[str, Any]) -> Resource:
        body = {"data": {"type": "contacts", "attributes": to_request_attributes(attributes)}}
        return self._one(self.request("PATCH", f"/contacts/{int(contact_id)}", json=body))

    def patch_contacts(self, *, updates: Mapping[str | int, Mapping[str, Any]]) -> list[Resource]:
        """Bulk update: {contact id: attributes}, in chunks of `PAGE_SIZE`."""
        items = list(updates.items())
        done: list[Resource] = []
        for start in range(0, len(items), PAGE_SIZE):
            data = [
                {"type": "contacts", "attributes": {**to_request_attributes(attrs), "id": int(contact_id)}}
                for contact_id, attrs in items[start : start + PAGE_SIZE]
            ]
            done.extend(self._many(self.request("PATCH", "/contacts", json={"data": data})))
        return done

    # ----------------------------------------------------------------- flexible assets
    def list_flexible_asset_types(self, *, name: str | Sequence[str] | None = None) -> list[Resource]:
        return self._list("/flexible_asset_types", {"name": name})

    def list_flexible_asset_fields(self, *, flexible_asset_type_id: str | int) -> list[Resource]:
        return list(
            self._pages(f"/flexible_asset_types/{int(flexible_asset_type_id)}/relationships/flexible_asset_fields")
        )

    def create_flexible_asset_type(
        self, *, name: str, fields: Sequence[Mapping[str, Any]], attributes: Mapping[str, Any] | None = None
    ) -> Resource:
        """`fields`: e.g. {"order": 1, "name": "SKU", "kind": "Text", "show_in_list": True}; one must show in list."""
        body = {
            "data": {
                "type": "flexible_asset_types",
                "attributes": to_request_attributes({**(attributes or {}), "name": name}),
                "relationships": {
                    "flexible-asset-fields": {
                        "data": [
                            {"type": "flexible_asset_fields", "attributes": to_request_attributes(f)} for f in fields
                        ]
                    }
                },
            }
        }
        return self._one(self.request("POST", "/flexible_asset_types", json=body))

    def list_flexible_assets(
        self,
        *,
        flexible_asset_type_id: str | int,
        organization_id: str | int | None = None,
        name: str | Sequence[str] | None = None,
    ) -> list[Resource]:
        return self._list(
            "/flexible_assets",
            {
                "flexible-asset-type-id": str(int(flexible_asset_type_id)),
                "organization-id": None if organization_id is None else str(int(organization_id)),
                "name": name,
            },
        )

    def get_flexible_asset(self, *, flexible_asset_id: str | int) -> Resource:
        return self._one(self.request("GET", f"/flexible_assets/{int(flexible_asset_id)}"))

    def create_flexible_asset(
        self, *, organization_id: str | int, flexible_asset_type_id: str | int, traits: Mapping[str, Any]
    ) -> Resource:
        attrs = {
            "organization-id": int(organization_id),
            "flexible-asset-type-id": int(flexible_asset_type_id),
            "traits": dict(traits),
        }
        return self._one(
            self.request("POST", "/flexible_assets", json={"data": {"type": "flexible_assets", "attributes": attrs}})
        )

    def replace_flexible_asset_traits(self, *, flexible_asset_id: str | int, traits: Mapping[str, Any]) -> Resource:
        """PATCH this exact trait set: IT Glue deletes every trait left out. Prefer `merge_flexible_asset_traits`."""
        body = {"data": {"type": "flexible_assets", "attributes": {"traits": dict(traits)}}}
        return self._one(self.request("PATCH", f"/flexible_assets/{int(flexible_asset_id)}", json=body))

    def merge_flexible_asset_traits(
        self, *, flexible_asset_id: str | int, changes: Mapping[str, Any], remove: Sequence[str] = ()
    ) -> Resource:
        """Read the asset, apply `changes` (name-key -> value) and `remove`, write back the full trait set.

        Traits a person set and `changes` does not name survive. Does nothing (no PATCH) when nothing changes.
        """
        current = self.get_flexible_asset(flexible_asset_id=flexible_asset_id)
        traits = dict(current.get("traits") or {})
        merged = {**traits, **changes}
        for key in remove:
            merged.pop(key, None)
        if merged == traits:
            return current
        return self.replace_flexible_asset_traits(flexible_asset_id=flexible_asset_id, traits=merged)


def _resource(item: Mapping[str, Any]) -> Resource:
    return Resource(id=str(item["id"]), type=str(item.get("type") or ""), attributes=dict(item.get("attributes") or {}))
