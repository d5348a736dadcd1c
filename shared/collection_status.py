"""The `collection_status` pseudo-dataset the `health` checks read: one row per dataset of a tenant, built
from the last outcome per dataset (`ReportStatus`, with that dataset's own throttling figures), the current
snapshot pointers and the latest run of each schedule: a run still "running" shows its unfinished datasets as
running, or as interrupted (failed) once it is older than the tenant's deadline plus a minute (the host killed
it, or the process died)."""

from __future__ import annotations

import datetime as dt
import json

from shared import runs, settings, snapshots, storage
from shared.checks import clock
from shared.checks.data import ReportData
from shared.reports.catalog import REPORTS

DATASET = "collection_status"
COLUMNS = [
    "report", "last_attempt", "last_status", "last_error", "last_success", "refresh_date", "collected_at",
    "concealed", "rows", "throttled", "throttle_wait_s",
]  # fmt: skip


def rows_for(tenant_id: str) -> list[list]:
    where = "PartitionKey eq @t"
    params = {"t": tenant_id}
    status = {e["RowKey"]: e for e in storage.table(runs.STATUS).query_entities(where, parameters=params)}
    pointers = {
        e["RowKey"]: e
        for e in storage.table(snapshots.POINTERS).query_entities(
            where, parameters=params, select=["RowKey", "RefreshDate", "CollectedAt", "Rows", "Concealed"]
        )
    }
    unfinished = _unfinished(tenant_id)
    rows = []
    for key in REPORTS:
        s, p = status.get(key, {}), pointers.get(key, {})
        if key in unfinished:
            s = {**s, **unfinished[key]}
        elif not s and not p:
            continue  # never collected for this tenant (e.g. a dataset added after its last run)
        rows.append(
            [
                key,
                s.get("LastAttempt", ""),
                s.get("LastStatus", ""),
                s.get("LastError", ""),
                s.get("LastSuccess", "") or p.get("CollectedAt", ""),
                p.get("RefreshDate", ""),
                p.get("CollectedAt", ""),
                bool(s.get("Concealed", p.get("Concealed", False))),
                int(p.get("Rows", 0)),
                int(s.get("LastThrottled", 0) or 0),
                float(s.get("LastThrottleWaitSeconds", 0.0) or 0.0),
            ]
        )
    return rows


def _unfinished(tenant_id: str) -> dict[str, dict]:
    """Datasets the newest run of each schedule has not finished, as ReportStatus-like overrides."""
    newest: dict[str, dict] = {}
    for run in runs.recent(tenant_id, 10):
        newest.setdefault(run.get("Schedule", "reports"), run)
    try:
        limit = float(settings.get("COLLECT_TENANT_DEADLINE_S", "600") or 600)
    except ValueError:
        limit = 600.0
    out: dict[str, dict] = {}
    now = clock.now()
    for run in newest.values():
        if run.get("Status") != "running":
            continue
        started = str(run.get("Started", ""))
        try:
            age = (now - dt.datetime.fromisoformat(started)).total_seconds()
        except ValueError:
            age = 0.0
        for outcome in json.loads(run.get("Reports") or "[]"):
            if outcome.get("status") != "pending":
                continue
            if age > limit + 60:
                override = {"LastStatus": "failed", "LastError": f"interrupted: the collection started at {started} "
                            "never finished (stopped by the host?); the previous snapshot stays"}  # fmt: skip
            else:
                override = {"LastStatus": "running", "LastError": ""}
            out[outcome["report"]] = {**override, "LastAttempt": started, "LastThrottled": 0,
                                      "LastThrottleWaitSeconds": 0.0}  # fmt: skip
    return out


def report_data(tenant_id: str) -> ReportData:
    rows = rows_for(tenant_id)
    return ReportData(report=DATASET, refresh_date="", columns=list(COLUMNS), load_rows=lambda: rows)
