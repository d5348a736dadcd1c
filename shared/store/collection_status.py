"""The `collection_status` pseudo-dataset the `health` checks read: one row per dataset of a tenant, built
from the last outcome per dataset (`ReportStatus`, with that dataset's own throttling figures), the current
snapshot pointers (and a collection message the queue moved to collect-poison, as a failed
"collect_message_<schedule>" row): a dataset a run marked "running" shows as running, or as interrupted (failed)
once that run is older than the tenant's deadline plus a minute (the host killed it, or the process died)."""

from __future__ import annotations

from shared import settings
from shared.checks import clock
from shared.checks.data import ReportData
from shared.collect.catalog import DATASETS
from shared.store import runs, snapshots, storage

DATASET = "collection_status"
COLUMNS = [
    "report", "last_attempt", "last_status", "last_error", "last_success", "refresh_date", "collected_at",
    "concealed", "rows", "throttled", "throttle_wait_s",
]  # fmt: skip


def rows_for(tenant_id: str) -> list[list]:
    where = "PartitionKey eq @t"
    params = {"t": tenant_id}
    status = {e["RowKey"]: e for e in storage.table(runs.STATUS).query_entities(where, parameters=params)}
    pointers: dict[str, dict] = {
        e["RowKey"]: e
        for e in storage.table(snapshots.POINTERS).query_entities(
            where, parameters=params, select=["RowKey", "RefreshDate", "CollectedAt", "Rows", "Concealed"]
        )
    }
    rows = []
    for key in DATASETS:
        s, p = _interrupted(status.get(key, {})), pointers.get(key, {})
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
                int(s.get("LastThrottled", 0) or 0),
                float(s.get("LastThrottleWaitSeconds", 0.0) or 0.0),
            ]
        )
    # A collection message the queue gave up on (collect-poison): its reason, as one more failed row.
    for key, e in sorted(status.items()):
        if key.startswith("poison-"):
            name = f"collect_message_{key.removeprefix('poison-')}"
            rows.append(
                [name, e.get("LastAttempt", ""), "failed", e.get("LastError", ""), "", "", "", False, 0, 0, 0.0]
            )
    return rows


def _interrupted(s: dict) -> dict:
    """A dataset still marked running by a run older than the tenant's deadline (plus a minute for the final
    writes) will never finish: the host stopped that run, or its process died."""
    if s.get("LastStatus") != "running":
        return s
    limit = settings.number("COLLECT_TENANT_DEADLINE_S")
    started = clock.parse_iso(str(s.get("LastAttempt", "")))
    if started is None or (clock.now() - started).total_seconds() <= limit + 60:
        return {**s, "LastError": ""}
    error = (f"interrupted: the collection started at {s.get('LastAttempt')} never finished (stopped by the host?); "
             "the previous snapshot stays")  # fmt: skip
    return {**s, "LastStatus": "failed", "LastError": error}


def report_data(tenant_id: str) -> ReportData:
    rows = rows_for(tenant_id)
    return ReportData(report=DATASET, refresh_date="", columns=list(COLUMNS), load_rows=lambda: rows)
