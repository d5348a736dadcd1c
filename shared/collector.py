"""Collect every catalog dataset from Graph into snapshots, for every enabled tenant, a few tenants at a time.

CSV reports are fetched the way Centreon fetches them (D7, then `date=<Report Refresh Date>` for the daily
form), but once per collection instead of once per check. JSON collections (service health, licences, app
credentials, organization, report settings) are read through the SDK's typed builders, every page, and
flattened into rows with exactly the catalog's columns:
- service_health: one row per (service, issue); a service without issues has one row whose text issue
  columns are "" and whose `is_resolved` is None. Enums are Graph's camelCase spelling; an enum value the SDK
  does not know (it parses it as None) is stored as "unknownFutureValue".
- subscriptions: one row per SKU; `capability_status` as Graph spells it (e.g. "Enabled").
- app_credentials: one row per password ("password") and certificate ("key") credential of every app.
- organization: one row; `directory_used`/`directory_total` from beta `directorySizeQuota` (None if absent),
  `verified_domains` a JSON list of names.
- report_settings: one row; its ReportStatus `Concealed` is the setting itself.
Datetimes are ISO 8601 UTC `YYYY-MM-DDTHH:MM:SSZ` ("" when absent). JSON snapshots have refresh_date "": they
have no report date, and the pointer's CollectedAt says when they were read.
Which timer collects a dataset is `ReportDef.schedule`: "reports" (COLLECT_SCHEDULE) or "health"
(HEALTH_SCHEDULE, service health only). One tenant's or one dataset's failure is recorded as data and never
stops the others; a failed dataset (any failed page, a 429 left after the SDK's retries) keeps its previous
snapshot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from shared import credentials, runs, settings, snapshots, tenants
from shared.checks.engine import summary_accumulators
from shared.graph import GraphFailure, GraphSession, describe_error
from shared.reports.catalog import REPORTS, ReportDef
from shared.reports.csv_stream import CONCEALED, ParsedReport, ReportFormatError
from shared.settings import GraphSettings
from shared.snapshots import SnapshotWriter

log = logging.getLogger("o365mon.collector")

SCHEDULES = ("reports", "health")


def datasets(schedule: str = "reports") -> tuple[str, ...]:
    """Catalog keys collected by one timer, in catalog order."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {SCHEDULES}")
    return tuple(key for key, r in REPORTS.items() if r.schedule == schedule)


# The datasets the report timer collects (every catalog dataset except service health, which has its own).
COLLECTED = datasets("reports")


def _ingest(report: ReportDef, tenant_id: str, d7: IO[bytes], outcome: runs.ReportOutcome) -> tuple:
    """Parse the D7 body and start the snapshot; returns what the daily part needs."""
    parsed = ParsedReport(report, d7)
    rows = iter(parsed)
    first = next(rows, None)
    refresh = parsed.refresh_date
    writer = SnapshotWriter(tenant_id, report.key, parsed.columns)
    accumulators = summary_accumulators(report.key, parsed.columns, refresh)
    try:
        for row in itertools.chain([first] if first is not None else [], rows):
            writer.add(row)
            for acc in accumulators:
                acc.add(row)
    except Exception:
        writer.abort()
        raise
    outcome.concealed = parsed.concealed
    return writer, accumulators, refresh


def _ingest_daily(report: ReportDef, body: IO[bytes], writer: SnapshotWriter, accumulators: list) -> bool:
    parsed = ParsedReport(report, body)
    for row in parsed:
        writer.add(row)
        for acc in accumulators:
            acc.add(row)
    return parsed.concealed


async def _collect_report(g: GraphSession, tenant_id: str, report: ReportDef, outcome: runs.ReportOutcome) -> None:
    with await g.report(report.function, period="D7") as d7:  # a temporary file: never the body in memory
        writer, accumulators, refresh = await asyncio.to_thread(_ingest, report, tenant_id, d7, outcome)
    try:
        if report.daily and refresh:
            with await g.report(report.function, date=refresh) as daily:
                concealed = await asyncio.to_thread(_ingest_daily, report, daily, writer, accumulators)
            outcome.concealed = outcome.concealed or concealed
        summaries = {acc.mode_key: acc.result() for acc in accumulators}
        pointer = await asyncio.to_thread(
            writer.commit, refresh_date=refresh, summaries=summaries, concealed=outcome.concealed
        )
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    outcome.rows, outcome.refresh_date, outcome.entities = pointer.rows, pointer.refresh_date, pointer.chunks
    outcome.status = "success"


# ---------------------------------------------------------------------------------------------- JSON datasets


def _iso(value: Any) -> str:
    """A Graph DateTimeOffset as `YYYY-MM-DDTHH:MM:SSZ` (Graph may send 7 fraction digits, or an offset)."""
    if not value:
        return ""
    text = str(value)
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", text)
    if not match:
        return text
    stamp = dt.datetime.fromisoformat(match.group(1) + (match.group(3) or "Z").replace("Z", "+00:00"))
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# Rows keep Graph's values as sent (enum spelling included), as Centreon prints them.
def _service_health_rows(items: list[dict]) -> list[list]:
    rows = []
    for service in items:
        head = [_text(service.get("id")), _text(service.get("service")), _text(service.get("status"))]
        issues = service.get("issues") or []
        if not issues:
            rows.append([*head, "", "", "", "", "", "", "", None, "", "", ""])
        for issue in issues:
            rows.append(
                [
                    *head,
                    _text(issue.get("id")),
                    _text(issue.get("classification")),
                    _text(issue.get("title")),
                    _text(issue.get("startDateTime")),
                    _text(issue.get("endDateTime")),
                    _text(issue.get("lastModifiedDateTime")),
                    _text(issue.get("status")),
                    issue.get("isResolved"),
                    _text(issue.get("feature")),
                    _text(issue.get("featureGroup")),
                    _text(issue.get("impactDescription")),
                ]
            )
    return rows


def _subscription_rows(items: list[dict]) -> list[list]:
    rows = []
    for sku in items:
        units = sku.get("prepaidUnits") or {}
        rows.append(
            [
                _text(sku.get("skuId")),
                _text(sku.get("skuPartNumber")),
                _text(sku.get("capabilityStatus")),
                _text(sku.get("appliesTo")),
                units.get("enabled"),
                units.get("warning"),
                units.get("suspended"),
                units.get("lockedOut"),
                sku.get("consumedUnits"),
            ]
        )
    return rows


def _app_credential_rows(items: list[dict]) -> list[list]:
    rows = []
    for app in items:
        app_id, name = _text(app.get("appId") or app.get("id")), _text(app.get("displayName"))
        for kind, field in (("password", "passwordCredentials"), ("key", "keyCredentials")):
            for c in app.get(field) or []:
                rows.append(
                    [
                        app_id,
                        name,
                        kind,
                        _text(c.get("keyId")),
                        _text(c.get("displayName")),
                        _iso(c.get("startDateTime")),
                        _iso(c.get("endDateTime")),
                    ]
                )
    return rows


def _organization_rows(items: list[dict]) -> list[list]:
    rows = []
    for org in items:
        quota = org.get("directorySizeQuota") or {}
        domains = org.get("verifiedDomains") or []
        default = next((d.get("name") for d in domains if d.get("isDefault")), "")
        initial = next((d.get("name") for d in domains if d.get("isInitial")), "")
        rows.append(
            [
                _text(org.get("id")),
                _text(org.get("displayName")),
                quota.get("used") if isinstance(quota, dict) else None,
                quota.get("total") if isinstance(quota, dict) else None,
                json.dumps([d.get("name") for d in domains]),
                _text(default),
                _text(initial),
            ]
        )
    return rows


# Catalog key -> (GraphSession method, flattener). Rows follow the catalog's column order.
_JSON: dict[str, tuple[str, Callable[[list[dict]], list[list]]]] = {
    "service_health": ("service_health", _service_health_rows),
    "subscriptions": ("subscribed_skus", _subscription_rows),
    "app_credentials": ("applications", _app_credential_rows),
    "organization": ("organization", _organization_rows),
}


def store_rows(
    tenant_id: str, report: ReportDef, rows: Iterable[list], *, refresh_date: str = "", concealed: bool = False
) -> Any:
    """Store a dataset's rows with the per-mode summaries unfiltered checks read (computed while streaming).
    JSON datasets have no report date: the pointer's CollectedAt says when they were read."""
    columns = list(report.columns)
    accumulators = summary_accumulators(report.key, columns, refresh_date)

    def fed() -> Iterator[list]:
        for row in rows:
            for acc in accumulators:
                acc.add(row)
            yield row

    return snapshots.write(
        tenant_id, report.key, columns, fed(),
        summaries=lambda: {acc.mode_key: acc.result() for acc in accumulators},
        refresh_date=refresh_date, concealed=concealed,
    )  # fmt: skip


async def _collect_json(g: GraphSession, tenant_id: str, report: ReportDef, outcome: runs.ReportOutcome) -> None:
    if report.key == "report_settings":
        settings_entity = await g.report_settings()
        value = settings_entity.get("displayConcealedNames")
        rows: list[list] = [[value]]
        concealed = bool(value)
    else:
        method, flatten = _JSON[report.key]
        items = await getattr(g, method)()
        rows = flatten(items)
        identity = list(report.columns).index(report.identity_column)
        concealed = any(isinstance(r[identity], str) and CONCEALED.match(r[identity]) for r in rows)
    outcome.concealed = concealed
    pointer = await asyncio.to_thread(store_rows, tenant_id, report, rows, concealed=concealed)
    if report.key == "organization" and rows:  # checks then find the tenant by any of these names
        org = rows[0]
        await asyncio.to_thread(tenants.learn_names, tenant_id, org[1], [org[5], *json.loads(org[4])])
    outcome.rows, outcome.refresh_date, outcome.entities = pointer.rows, pointer.refresh_date, pointer.chunks
    outcome.status = "success"


async def _collect(g: GraphSession, tenant_id: str, report: ReportDef, outcome: runs.ReportOutcome) -> None:
    if report.source == "json":
        await _collect_json(g, tenant_id, report, outcome)
    else:
        await _collect_report(g, tenant_id, report, outcome)


async def collect_tenant(
    tenant: tenants.Tenant, graph_settings: GraphSettings | None = None, schedule: str = "reports"
) -> runs.RunRecord:
    run = runs.RunRecord(tenant_id=tenant.tenant_id, schedule=schedule)
    run.reports = [runs.ReportOutcome(report=key) for key in datasets(schedule)]
    try:
        creds = credentials.resolve(tenant.credential_prefix)
        async with GraphSession(tenant.tenant_id, creds, graph_settings or GraphSettings.from_env()) as g:
            for outcome in run.reports:
                try:
                    await _collect(g, tenant.tenant_id, REPORTS[outcome.report], outcome)
                except (GraphFailure, ReportFormatError) as exc:
                    outcome.status, outcome.error = "failed", str(exc)
                except Exception as exc:  # recorded as data: a bug must not hide the other reports
                    log.exception("tenant %s report %s", tenant.tenant_id, outcome.report)
                    outcome.status, outcome.error = "failed", describe_error(exc)
                if outcome.error.startswith("authentication failed"):
                    run.error = outcome.error  # the other reports would fail the same way
                    break
            run.requests, run.throttled = g.stats.requests, g.stats.throttled
            run.throttle_wait_s = g.stats.throttle_wait_s
    except credentials.CredentialError as exc:
        run.error = f"credentials: {exc}"
    except Exception as exc:
        log.exception("tenant %s", tenant.tenant_id)
        run.error = describe_error(exc)
    for outcome in run.reports:
        if outcome.status == "pending":
            outcome.status, outcome.error = "failed", run.error or "not attempted"
    run.finish()
    await asyncio.to_thread(runs.save, run)
    log.info(
        "tenant %s (%s): %s, %d rows, %d Graph requests%s",
        tenant.tenant_id,
        schedule,
        run.status,
        run.rows,
        run.requests,
        f" ({run.error})" if run.error else "",
    )
    return run


async def collect_all(
    only: str | None = None, concurrency: int | None = None, schedule: str = "reports"
) -> list[runs.RunRecord]:
    """Collect one timer's datasets (`schedule`: "reports" or "health") for every enabled tenant (or one, by id
    or domain), `COLLECT_CONCURRENCY` at a time."""
    datasets(schedule)  # an unknown schedule fails before any tenant is touched
    if only:
        selected = [tenants.resolve(only)]
    else:
        selected = [t for t in tenants.list_all() if t.enabled]
    limit = asyncio.Semaphore(concurrency or int(settings.get("COLLECT_CONCURRENCY", "4") or 4))
    graph_settings = GraphSettings.from_env()

    async def one(t: tenants.Tenant) -> runs.RunRecord:
        async with limit:
            return await collect_tenant(t, graph_settings, schedule)

    return list(await asyncio.gather(*(one(t) for t in selected)))
