"""After each tenant's collection (success or failure): its summary for the dashboard, computed by the check
engine from stored data exactly as a poller's check would be (shared.checks.service), and the day's history.

Only the checks whose dataset the run collected are recomputed (the health plugin's two every time: they read
the collection records), and only the history figures of datasets the run stored. Never raises: a summary that
cannot be written is logged, the collection's own outcome stands.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.checks import engine, service
from shared.collect.catalog import DATASETS
from shared.errors import classify, log_failure
from shared.store import chunk_cache, collection_status, history, runs, snapshots, storage, summaries, tenants
from shared.store.summaries import CheckOutcome

log = logging.getLogger("o365mon.insights")


@dataclass(frozen=True)
class DashboardCheck:
    check_id: str
    title: str
    plugin: str
    mode: str
    options: dict[str, str] = field(default_factory=dict)  # besides the mode's defaults

    @property
    def dataset(self) -> str:
        return engine.mode_for(self.plugin, self.mode).report


# The dashboard's checks, in column order. Mailbox quotas are mailbox-usage's per-mailbox status (its default
# counters are the active count and totals, which have no thresholds): Centreon's `--filter-counters=status`.
CHECKS: tuple[DashboardCheck, ...] = (
    DashboardCheck("service-status", "Service status", "management", "service-status"),
    DashboardCheck("licences", "Licences", "management", "subscriptions"),
    DashboardCheck("mailbox-quota", "Mailbox quotas", "exchange", "mailbox-usage", {"filter-counters": "status"}),
    DashboardCheck("app-credentials", "App credentials", "management", "app-credentials"),
    DashboardCheck("data-freshness", "Data freshness", "health", "data-freshness"),
    DashboardCheck("collection-status", "Collection status", "health", "collection-status"),
)
BY_ID = {c.check_id: c for c in CHECKS}

# Active users per workload: the users-activity summary (computed at collection) of each workload's report.
ACTIVE_USERS = {
    "ActiveExchange": "exchange:email-activity", "ActiveTeams": "teams:users-activity",
    "ActiveSkype": "skype:users-activity", "ActiveOneDrive": "onedrive:users-activity",
    "ActiveSharePoint": "sharepoint:users-activity",
}  # fmt: skip
MAILBOX_SUMMARY = "exchange:mailbox-usage"

# Consent states, worst first; how graph.describe_error and collector.missing_permission word their reasons.
CONSENT_STATES = ("missing", "partial", "unknown", "granted")
_NO_CONSENT = re.compile(r"has no admin consent in this tenant \((AADSTS\d+)\)")
_MISSING_PERMISSION = re.compile(r"^(\S+) missing: grant it")


def consent(run: runs.RunRecord) -> tuple[str, str]:
    """(state, detail) of the app's consent in the tenant as this run found it."""
    match = _NO_CONSENT.search(run.error)
    if match:
        return "missing", f"no admin consent ({match.group(1)})"
    missing = sorted({m.group(1) for o in run.reports if (m := _MISSING_PERMISSION.match(o.error))})
    if missing:
        return "partial", "missing permissions: " + ", ".join(missing)
    if any(o.status in ("success", "suspect") for o in run.reports) or run.status in ("success", "partial"):
        return "granted", ""
    return "unknown", "no token was obtained: " + run.error[:200] if run.error else ""


def run_checks(tenant_id: str, selected: Iterable[DashboardCheck]) -> list[CheckOutcome]:
    at = storage.now_iso()
    out = []
    for check in selected:
        result, _ = service.answer(check.plugin, check.mode, {"tenant": tenant_id, "verbose": "1", **check.options})
        out.append(CheckOutcome(check.check_id, result.status, result.short.rstrip(" "), result.long_lines, at))
    return out


def _day(iso: str) -> str:
    return iso[:10]


def history_days(run: runs.RunRecord, pointers: dict[str, snapshots.Pointer]) -> dict[str, dict[str, object]]:
    """The day's figures of every dataset this run stored, by the day they describe."""
    stored = {o.report for o in run.reports if o.status == "success"}
    days: dict[str, dict[str, object]] = {}

    def put(day: str, values: dict[str, object]) -> None:
        if day:
            days.setdefault(day, {}).update(values)

    for prop, key in ACTIVE_USERS.items():
        dataset = engine.mode_for(*key.split(":")).report
        p = pointers.get(dataset)
        if dataset in stored and p is not None and key in p.summaries:
            put(p.refresh_date, {prop: int(p.summaries[key]["active"])})
    mailbox = pointers.get("mailbox_usage")
    if "mailbox_usage" in stored and mailbox is not None and MAILBOX_SUMMARY in mailbox.summaries:
        sums = mailbox.summaries[MAILBOX_SUMMARY]["sums"]
        put(mailbox.refresh_date, {"MailboxStorageBytes": int(sum(sums.values()))})
    for dataset, figures in (("subscriptions", _licences), ("service_health", _issues), ("organization", _objects)):
        p = pointers.get(dataset)
        if dataset in stored and p is not None:
            put(_day(p.collected_at), figures(_rows(p)))
    return days


def _rows(pointer: snapshots.Pointer) -> list[dict]:
    return [dict(zip(pointer.columns, r, strict=False)) for r in snapshots.load_rows(pointer)]


def _int(v: object) -> int:
    try:
        return int(v)  # type: ignore[call-overload]  # any cell: int() refusing it means 0
    except (TypeError, ValueError):
        return 0


def _licences(rows: list[dict]) -> dict[str, object]:
    skus = {str(r.get("sku_part_number") or r.get("sku_id")): [_int(r.get("enabled")), _int(r.get("consumed"))]
            for r in rows}  # fmt: skip
    return {history.LICENCES: json.dumps(skus, sort_keys=True)}


def _issues(rows: list[dict]) -> dict[str, object]:
    open_issues = {(r.get("issue_id"), str(r.get("classification") or "").lower())
                   for r in rows if r.get("issue_id") and not r.get("is_resolved")}  # fmt: skip
    return {
        "OpenIncidents": sum(1 for _, c in open_issues if c == "incident"),
        "OpenAdvisories": sum(1 for _, c in open_issues if c == "advisory"),
    }


def _objects(rows: list[dict]) -> dict[str, object]:
    used = rows[0].get("directory_used") if rows else None
    return {"DirectoryObjects": None if used is None else _int(used)}


def licence_figures(tenant_id: str, pointer: snapshots.Pointer) -> list[dict]:
    """The tenant's SKUs now, with the last figures of the previous calendar month (history) beside them."""
    today = dt.datetime.now(dt.UTC).date()
    month = today.replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    last = [r for r in history.rows(tenant_id, previous.isoformat(), month.isoformat()) if history.LICENCES in r]
    before = history.licences_of(last[-1]) if last else {}
    out = []
    for r in _rows(pointer):
        sku = str(r.get("sku_part_number") or r.get("sku_id"))
        prev = before.get(sku)
        out.append(
            {"sku": sku, "sku_id": str(r.get("sku_id") or ""), "status": str(r.get("capability_status") or ""),
             "enabled": _int(r.get("enabled")), "consumed": _int(r.get("consumed")),
             "previous_date": str(last[-1]["RowKey"]) if last and prev else "",
             "previous_enabled": prev[0] if prev else None, "previous_consumed": prev[1] if prev else None}
        )  # fmt: skip
    return sorted(out, key=lambda x: x["sku"])


def data_as_of(pointers: dict[str, snapshots.Pointer]) -> str:
    """The oldest report refresh date of the stored usage reports (render-time freshness ages from it)."""
    dates = [p.refresh_date for key, p in pointers.items() if key in DATASETS and DATASETS[key].source == "csv"]
    return min((d for d in dates if d), default="")


def record_collection(tenant: tenants.Tenant, run: runs.RunRecord) -> None:
    """The hook the collector calls once a tenant's run is recorded: summary and history. Never raises."""
    try:
        # What these checks decode would stay in the collecting process's chunk cache, which serves no checks:
        # up to CHECK_CACHE_MB of a big tenant's rows, for nothing.
        with chunk_cache.not_kept():
            _record(tenant, run)
    except Exception as exc:  # the run is recorded already; the dashboard shows its age until the next one
        log_failure(f"tenant {tenant.tenant_id}: summary and history", exc, classify(exc))


def _record(tenant: tenants.Tenant, run: runs.RunRecord) -> None:
    collected = {o.report for o in run.reports}
    selected = [c for c in CHECKS if c.dataset in collected or c.dataset == collection_status.DATASET]
    outcomes = run_checks(tenant.tenant_id, selected)
    pointers = snapshots.current_all(tenant.tenant_id)
    history.record(tenant.tenant_id, history_days(run, pointers))
    try:
        tenant = tenants.get(tenant.tenant_id)  # the names this run's organization taught
    except tenants.TenantError:
        pass
    state, detail = consent(run)
    head = {
        "name": tenant.name,
        "domains": tenant.all_domains,
        "last_attempt": run.started,
        "last_run_status": run.status,
        "last_error": run.error[:500],
        "consent_detail": detail,
        "data_as_of": data_as_of(pointers),
    }
    subscriptions = pointers.get("subscriptions")
    figures = None
    if "subscriptions" in collected and subscriptions is not None:
        figures = json.dumps(licence_figures(tenant.tenant_id, subscriptions))
    summaries.save(
        tenant.tenant_id, outcomes, head=head, schedule=run.schedule, consent=state,
        last_success=run.ended if run.status in ("success", "partial") else "", licences=figures,
    )  # fmt: skip


def record_failure(tenant_id: str, reason: str) -> None:
    """A collection that ended without a run record of its own (its message poisoned): the health checks again,
    which now show the reason. Never raises."""
    try:
        head = summaries.board(summaries.read(tenant_id) or {}).get("head", {})
        head.update(last_attempt=storage.now_iso(), last_run_status="failed", last_error=reason[:500])
        health = [c for c in CHECKS if c.dataset == collection_status.DATASET]
        summaries.save(tenant_id, run_checks(tenant_id, health), head=head)
    except Exception:
        log.warning("tenant %s: summary not updated", tenant_id, exc_info=True)
