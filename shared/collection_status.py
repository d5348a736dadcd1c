"""The `collection_status` pseudo-dataset the `health` checks read: one row per dataset of a tenant, built
from the last outcome per dataset (`ReportStatus`), the current snapshot pointers and the latest run."""

from __future__ import annotations

from shared import runs, snapshots, storage
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
    latest = runs.recent(tenant_id, 1)
    throttled = int(latest[0].get("Throttled", 0)) if latest else 0
    waited = float(latest[0].get("ThrottleWaitSeconds", 0.0)) if latest else 0.0
    rows = []
    for key in REPORTS:
        s, p = status.get(key, {}), pointers.get(key, {})
        if not s and not p:
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
                throttled,
                waited,
            ]
        )
    return rows


def report_data(tenant_id: str) -> ReportData:
    rows = rows_for(tenant_id)
    return ReportData(report=DATASET, refresh_date="", columns=list(COLUMNS), load_rows=lambda: rows)
