"""o365mon's own `health` plugin: is the stored data fresh, did the collections work?

Data: the `collection_status` pseudo-dataset the service layer builds, one row per dataset of the tenant, with
columns `report` (dataset key), `last_attempt`, `last_status` (success|failed|''), `last_error`,
`last_success`, `refresh_date` (YYYY-MM-DD or ''), `collected_at`, `concealed`, `rows`, `throttled`,
`throttle_wait_s`. Times are ISO 8601 UTC; "now" comes from shared.checks.clock.now.

data-freshness (--filter-report): per dataset `report-age`, hours since the report refresh date (00:00 UTC) for
CSV reports, since the last collection for JSON collections (default --warning-report-age=72
--critical-report-age=120), `collection-age`, hours since the last successful collection, and a `status`
whose default warning is `%{future} == 1 or (%{report} eq 'service_health' and %{collection_age} > 0.25)`
(a report date in the future; service health is collected every few minutes) and default unknown `%{last_success} eq ''` (never collected).

collection-status (--filter-report): per dataset a `status` CRITICAL when the last collection failed
(default --critical-status=`%{last_status} eq 'failed'`, the error is in the output; an interrupted run's
unfinished datasets count as failed), WARNING when a new report was held back as implausible ("suspect": the
previous snapshot stays) or the dataset was skipped (throttling, deadline), the throttling seen by
the last collection (`throttled` responses 429 and `throttle-wait` seconds waited: e.g.
--warning-throttle-wait=60) and `concealed` names (e.g. --warning-concealed='%{concealed}').
"""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from shared.collect.catalog import DATASETS

from .. import clock
from ..expressions import to_number
from ..fold import Metrics
from ..options import CheckOptions
from ..select import as_bool, keep
from ..spec import CollectionMode, Counter, InstanceBlock, Perf, StatusCounter


def _hours_since(text: str) -> float | None:
    when = clock.parse_iso(text)
    return None if when is None else (clock.now() - when).total_seconds() / 3600


def _freshness(rows: list[dict], options: CheckOptions) -> Metrics:
    instances: dict[str, dict[str, object]] = {}
    for row in rows:
        if not keep(DATA_FRESHNESS, options, row):
            continue
        name = str(row.get("report") or "")
        csv = getattr(DATASETS.get(name), "source", "csv") == "csv"
        dated = row.get("refresh_date") if csv and row.get("refresh_date") else row.get("collected_at")
        last = str(row.get("last_success") or "")
        age = _hours_since(str(dated or ""))
        # A date ahead of the clock is a clock or data error, never fresh data: said so, and a warning.
        future = age is not None and age < 0
        note = f", report date {dated} is {-(age or 0):.2f} h in the future (clock or data error)" if future else ""
        instances[name] = {"name": name, "last_success": last, "last_success_text": (last or "never") + note,
                           "report_age": age, "collection_age": _hours_since(last), "future": 1 if future else 0}  # fmt: skip
    return Metrics("", instances=instances)


DATA_FRESHNESS = CollectionMode(
    plugin="health",
    name="data-freshness",
    report="collection_status",
    build=_freshness,
    filters={"filter-report": "report"},
    empty="No collection status found.",
    instances=InstanceBlock(
        name="reports", key="", prefix="Report '{name}' ", message_multiple="All reports are fresh", values={},
        counters=(
            StatusCounter("status", "last success: {last_success_text}",
                          {"report": "name", "last_success": "last_success", "collection_age": "collection_age", "report_age": "report_age", "future": "future"},
                          warning_default="%{future} == 1 or (%{report} eq 'service_health' and %{collection_age} > 0.25)",
                          unknown_default="%{last_success} eq ''"),
            Counter("report-age", "o365mon.report.age.hours", "report_age", "data age: {report_age:.2f} h",
                    Perf("report_age", unit="h", template="%.2f"), warning_default="72", critical_default="120"),
            Counter("collection-age", "o365mon.collection.age.hours", "collection_age", "last collection: {collection_age:.2f} h ago",
                    Perf("collection_age", unit="h", template="%.2f")),
        ),
    ),
)  # fmt: skip


def _collections(rows: list[dict], options: CheckOptions) -> Metrics:
    instances: dict[str, dict[str, object]] = {}
    for row in rows:
        if not keep(COLLECTION_STATUS, options, row):
            continue
        name, status = str(row.get("report") or ""), str(row.get("last_status") or "")
        when = str(row.get("last_attempt") or "")
        error = row.get("last_error") or ""
        text = {"success": f"success at {when}", "failed": f"failed at {when}: {error}",
                "suspect": f"suspect at {when}: {error}", "skipped": f"{error or 'skipped'} at {when}",
                "running": f"running since {when}"}  # fmt: skip
        concealed = as_bool(row.get("concealed"))
        instances[name] = {"name": name, "last_status": status, "last_error": str(row.get("last_error") or ""),
                           "last_attempt": when, "last_status_text": text.get(status, "never"),
                           "concealed": 1 if concealed else 0, "concealed_text": "yes" if concealed else "no",
                           "rows": to_number(row.get("rows")), "throttled": to_number(row.get("throttled")),
                           "throttle_wait_s": float(to_number(row.get("throttle_wait_s")))}  # fmt: skip
    return Metrics("", instances=instances)


STATUS_VARIABLES = ("last_status", "last_error", "last_attempt", "concealed", "rows", "throttled", "throttle_wait_s")
COLLECTION_STATUS = CollectionMode(
    plugin="health",
    name="collection-status",
    report="collection_status",
    build=_collections,
    filters={"filter-report": "report"},
    empty="No collection status found.",
    instances=InstanceBlock(
        name="reports", key="", prefix="Report '{name}' ", message_multiple="All collections are ok", values={},
        counters=(
            StatusCounter("status", "last collection: {last_status_text}", {"report": "name", **{v: v for v in STATUS_VARIABLES}},
                          warning_default="%{last_status} eq 'suspect' or %{last_status} eq 'skipped'",
                          critical_default="%{last_status} eq 'failed'"),
            Counter("throttled", "o365mon.collection.throttled.count", "throttled", "throttled responses: %d", Perf("throttled")),
            Counter("throttle-wait", "o365mon.collection.throttle.wait.seconds", "throttle_wait_s", "throttle wait: {throttle_wait_s:.1f} s",
                    Perf("throttle_wait", unit="s", template="%.2f")),
            StatusCounter("concealed", "concealed names: {concealed_text}", {"report": "name", "concealed": "concealed"}),
        ),
    ),
)  # fmt: skip

MODES = (DATA_FRESHNESS, COLLECTION_STATUS)
