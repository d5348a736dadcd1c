"""Faults the simulator injects on demand, from Python or over HTTP (POST/DELETE /_sim/faults)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from .wire import Reply, json_reply

# throttle: 429 + Retry-After; unavailable: 503 (+ Retry-After); gateway_timeout: 504 (retried by the SDK like
# 503); slow: sleep `delay` then answer normally; forbidden: 403 S2SUnauthorized (app lacks Reports.Read.All);
# expire_token: 401 InvalidAuthenticationToken before the token's expiry (the token stays revoked, as when
# Entra ID revokes a grant early); endless_pages: every page of a JSON collection has a new nextLink.
# Download faults: truncated (cut mid-line, Content-Length matching the cut), cut_line (cut at a line boundary),
# cut_cell (cut inside the last cell of a line, so the short last row still has every cell), header_only (the
# header line alone), dropped (the full
# Content-Length announced, half the body sent, then the connection closed), not_csv (an HTML page).
# Login faults (token endpoint): no_consent (AADSTS65001), no_service_principal (AADSTS7000229).
DOWNLOAD_ONLY_KINDS = frozenset({"truncated", "not_csv", "cut_line", "cut_cell", "header_only", "dropped"})
LOGIN_ONLY_KINDS = frozenset({"no_consent", "no_service_principal"})
FAULT_KINDS = frozenset(
    {"throttle", "unavailable", "gateway_timeout", "slow", "forbidden", "expire_token", "endless_pages"}
    | DOWNLOAD_ONLY_KINDS
    | LOGIN_ONLY_KINDS
)


@dataclass
class Fault:
    kind: str
    tenant: str | None = None  # tenant id or domain; None: any tenant
    path_contains: str | None = None  # substring of the (percent-decoded) request path; None: any path
    times: int | None = 1  # how many requests it applies to; None: until cleared
    retry_after: int = 1  # seconds, for throttle and unavailable
    delay: float = 0.0  # seconds, for slow
    page: int | None = None  # only page N of a JSON collection (1: requests without $skiptoken); None: any

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """Thread-safe list of pending faults; each request consumes at most one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**asdict(f)) for f in self._faults]

    def take(
        self,
        *,
        paths: tuple[str, ...],
        tenant_keys: tuple[str, ...],
        download: bool,
        page: int | None = None,
        json_body: bool = False,
        login: bool = False,
    ) -> Fault | None:
        """Consume one use of the first fault matching this request, if any.

        `paths`: the request path, plus for a download the report request that issued it, so that
        `path_contains="getMailboxUsageDetail"` can target that report's download; for Graph requests also the
        path with its query string, so `path_contains="$skiptoken"` targets every page after the first.
        `tenant_keys`: the request's tenant id and domains, lowercased. `login`: a token request (only login
        faults apply to it, and only to it). `page`: the JSON collection page number
        of the request (1 without a skip token), matched by `Fault.page`.
        """
        with self._lock:
            for fault in self._faults:
                # A report request answers a 302: its body faults belong to the download. A JSON collection
                # page has a body of its own, so `not_csv` (an HTML page instead of the data) applies there.
                if (fault.kind in LOGIN_ONLY_KINDS) != login:
                    continue
                if fault.kind in DOWNLOAD_ONLY_KINDS and not download and not (json_body and fault.kind == "not_csv"):
                    continue
                if fault.tenant is not None and fault.tenant.lower() not in tenant_keys:
                    continue
                if fault.path_contains is not None and not any(fault.path_contains in p for p in paths):
                    continue
                if fault.page is not None and fault.page != page:
                    continue
                used = Fault(**asdict(fault))
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return used
        return None


class FaultEndpoints:
    """GraphSimulator's fault routes: the reply a fault imposes, and /_sim/faults (a mixin)."""

    def _fault_reply(self, fault: Fault, headers: Any) -> Reply | None:
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
            return Reply(200, b"<html>Bad gateway</html>", "text/html")
        if fault.kind == "slow":
            time.sleep(fault.delay)
        return None

    def _handle_sim_faults(self, method: str, body: bytes) -> Reply:
        if method == "DELETE":
            self.clear_faults()
            return Reply(204, content_type=None)
        if method == "GET":
            return json_reply(200, {"faults": [f.to_json() for f in self.faults]})
        if method == "POST":
            try:
                data = json.loads(body or b"null")
                items = data if isinstance(data, list) else [data]
                faults = [Fault.from_json(item) for item in items]
            except (ValueError, TypeError) as exc:
                return json_reply(400, {"error": str(exc)})
            for fault in faults:
                self.add_fault(fault)
            return json_reply(201, {"faults": [f.to_json() for f in self.faults]})
        return json_reply(405, {"error": "method not allowed"})
