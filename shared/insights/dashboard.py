"""The all-tenants dashboard and one tenant's page, read from the precomputed summaries (shared.store.summaries):
one query for every tenant, never a report row.

Time-dependent parts are computed here, at render, from the stored timestamps: the age of the last successful
collection, and the data's age against data-freshness's default report-age thresholds (so a tenant whose
collections stopped turns WARNING, then CRITICAL, although no new summary was written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.checks import clock
from shared.checks.modes.health import DATA_FRESHNESS
from shared.checks.ranges import Range, parse_range
from shared.checks.result import State
from shared.checks.spec import Counter, InstanceBlock
from shared.errors import UserInputError
from shared.insights.summary import BY_ID, CHECKS, CONSENT_STATES
from shared.store import history, summaries

SORTS = ("name", "status", "age", "consent")
NEVER = "NONE"  # the status of a check the tenant has no result for yet


def _report_age_ranges() -> tuple[Range | None, Range | None]:
    assert isinstance(DATA_FRESHNESS.instances, InstanceBlock)
    counter = next(c for c in DATA_FRESHNESS.instances.counters if isinstance(c, Counter) and c.label == "report-age")
    return (
        parse_range(counter.warning_default, f"warning-{counter.label}"),
        parse_range(counter.critical_default, f"critical-{counter.label}"),
    )


_WARNING_AGE, _CRITICAL_AGE = _report_age_ranges()


def selected_checks(text: str) -> list[str]:
    """`checks=a,b` -> those check ids (every check when blank); an unknown id is a user error."""
    wanted = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in BY_ID]
    if unknown:
        raise UserInputError(f"unknown check {unknown[0]!r}: expected some of {', '.join(BY_ID)}")
    return wanted or [c.check_id for c in CHECKS]


def _severity(status: str) -> int:
    return State[status].mask if status in State.__members__ else -1


def _hours(since: str, now: dt.datetime) -> float | None:
    when = clock.parse_iso(since)
    return None if when is None else (now - when).total_seconds() / 3600


def render_freshness(stored: str, output: str, data_as_of: str, now: dt.datetime) -> tuple[str, str]:
    """The stored data-freshness result, made worse when the data has aged past a threshold since."""
    age = _hours(data_as_of, now)
    if age is None:
        return stored, output
    now_status = "OK"
    if _CRITICAL_AGE is not None and _CRITICAL_AGE.alerts(age):
        now_status = "CRITICAL"
    elif _WARNING_AGE is not None and _WARNING_AGE.alerts(age):
        now_status = "WARNING"
    if _severity(now_status) <= _severity(stored):
        return stored, output
    return now_status, f"{now_status}: oldest report is now {age:.2f} h old (report date {data_as_of}) - {output}"


def consent_of(board: Mapping[str, Any]) -> str:
    found = set((board.get("consent") or {}).values())  # per schedule: the worst wins
    return next((s for s in CONSENT_STATES if s in found), "unknown")


@dataclass(frozen=True)
class Query:
    checks: list[str]
    problems_only: bool = False
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        """From `checks=a,b` (or `check-<id>=on` per check), `problems=1`, `sort=`, `order=desc`."""
        sort = params.get("sort", "name") or "name"
        if sort not in SORTS:
            raise UserInputError(f"sort must be one of {', '.join(SORTS)}")
        text = params.get("checks", "")
        if not text:  # the page's form: one checkbox per check
            text = ",".join(c.check_id for c in CHECKS if params.get(f"check-{c.check_id}") in ("on", "1"))
        return cls(
            checks=selected_checks(text),
            problems_only=params.get("problems", "") in ("1", "true", "yes", "on"),
            sort=sort,
            descending=params.get("order", "") == "desc",
        )


def row(entity: Mapping[str, object], checks: list[str], now: dt.datetime) -> dict:
    board = summaries.board(entity)
    head, stored = board.get("head", {}), board.get("checks", {})
    results = {}
    for check_id in checks:
        status, output, at = stored.get(check_id) or (NEVER, "", "")
        if check_id == "data-freshness" and status != NEVER:
            status, output = render_freshness(status, output, str(head.get("data_as_of") or ""), now)
        results[check_id] = {"status": status, "output": output, "at": at}
    known = [r["status"] for r in results.values() if r["status"] != NEVER]
    last = str(board.get("last_success", {}).get("reports") or "")
    age = _hours(last, now)
    domains = [str(d) for d in head.get("domains") or []]
    return {
        "tenant_id": str(entity["RowKey"]),
        "name": str(head.get("name") or "") or (domains[0] if domains else str(entity["RowKey"])),
        "domains": domains,
        "consent": consent_of(board),
        "consent_detail": str(head.get("consent_detail") or ""),
        "worst": State.worst(known) if known else "UNKNOWN",
        "checks": results,
        "last_success": last,
        "age_s": None if age is None else round(age * 3600),
        "last_run_status": str(head.get("last_run_status") or ""),
        "last_error": str(head.get("last_error") or ""),
    }


def _sort_key(query: Query) -> object:
    if query.sort == "status":
        return lambda r: (-_severity(r["worst"]), r["name"].casefold(), r["tenant_id"])
    if query.sort == "age":  # never collected last
        return lambda r: (r["age_s"] is None, r["age_s"] or 0, r["name"].casefold(), r["tenant_id"])
    if query.sort == "consent":
        return lambda r: (CONSENT_STATES.index(r["consent"]), r["name"].casefold(), r["tenant_id"])
    return lambda r: (r["name"].casefold(), r["tenant_id"])


def build(query: Query, now: dt.datetime | None = None) -> dict:
    """The dashboard: one row per tenant with a summary, sorted and filtered as asked."""
    now = now or clock.now()
    rows = [row(e, query.checks, now) for e in summaries.read_all(list(summaries.ROW_PROPERTIES))]
    total = len(rows)
    if query.problems_only:
        rows = [r for r in rows if r["worst"] != "OK"]
    rows.sort(key=_sort_key(query), reverse=query.descending)  # type: ignore[arg-type]  # the key fits the rows
    counts = {s.name: sum(1 for r in rows if r["worst"] == s.name) for s in State}
    return {
        "generated": now.isoformat(timespec="seconds"),
        "checks": [{"id": c.check_id, "title": c.title, "selected": c.check_id in query.checks} for c in CHECKS],
        "query": {
            "checks": query.checks,
            "problems": query.problems_only,
            "sort": query.sort,
            "order": "desc" if query.descending else "asc",
        },  # fmt: skip
        "tenants": total,
        "counts": counts,
        "rows": rows,
    }


def tenant_page(tenant_id: str, now: dt.datetime | None = None) -> dict | None:
    """Every check's current result with its long output, and the history metrics to chart; None if unknown."""
    now = now or clock.now()
    entity = summaries.read(tenant_id)
    if entity is None:
        return None
    ids = [c.check_id for c in CHECKS]
    head = row(entity, ids, now)
    stored = summaries.details(tenant_id)  # the first lines uncut, and the long outputs
    for c in CHECKS:
        result = head["checks"][c.check_id]
        detail = stored.get(c.check_id, {})
        if detail.get("Output") and detail.get("At") == result["at"] and c.check_id != "data-freshness":
            result["output"] = str(detail["Output"])
        result.update(title=c.title, plugin=c.plugin, mode=c.mode, options=c.options,
                      long_output=str(detail.get("Long") or ""))  # fmt: skip
    head["metrics"] = [{"id": k, "title": m.title, "unit": m.unit} for k, m in history.METRICS.items()]
    return head
