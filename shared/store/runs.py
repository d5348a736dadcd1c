"""Collection-run records (one per tenant and run, newest first) and the last outcome per tenant and report.

A run record is written when the run starts (Status "running", and every dataset's `ReportStatus` marked
"running") and again as datasets finish (the collector coalesces these progress writes), so a run the host kills
leaves a trace: `collection_status` shows its unfinished datasets as interrupted once the tenant's deadline has
passed. Each dataset's `ReportStatus` has its own throttling figures (per dataset, hence per schedule)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from azure.core.exceptions import ResourceNotFoundError

from shared import settings
from shared.store import storage

RUNS = "CollectionRuns"
STATUS = "ReportStatus"


@dataclass
class ReportOutcome:
    report: str
    status: str = "pending"  # success | failed | suspect (held back, previous snapshot kept) | skipped
    rows: int = 0
    refresh_date: str = ""
    concealed: bool = False
    entities: int = 0
    error: str = ""
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0
    held_rows: int = 0  # suspect: the row count of the snapshot held back, confirmed by an equal next one
    finished: str = ""


@dataclass
class RunRecord:
    tenant_id: str
    schedule: str = "reports"  # which timer: "reports" (COLLECT_SCHEDULE) or "health" (HEALTH_SCHEDULE)
    started: str = field(default_factory=storage.now_iso)
    ended: str = ""
    status: str = "running"  # success | partial | failed
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0
    error: str = ""
    reports: list[ReportOutcome] = field(default_factory=list)
    row_key: str = field(default_factory=lambda: storage.newest_first_key(time.time_ns()))

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.reports)

    def finish(self) -> None:
        self.ended = storage.now_iso()
        failed = [r for r in self.reports if r.status != "success"]
        for r in self.reports:
            if r.status == "pending":
                r.status = "failed"
        if self.error or (failed and len(failed) == len(self.reports)):
            self.status = "failed"
        elif failed:
            self.status = "partial"
        else:
            self.status = "success"
        if not self.error and failed:
            # Datasets that failed for the same reason (skipped after a throttled one...) share one mention.
            by_reason: dict[str, list[str]] = {}
            for r in failed:
                by_reason.setdefault(r.error, []).append(r.report)
            self.error = "; ".join(f"{', '.join(keys)}: {reason}" for reason, keys in by_reason.items())


def prune(tenant_id: str, days: float) -> int:
    """Delete the tenant's run records older than `days`: service health alone adds 288 a day per tenant."""
    cutoff = storage.newest_first_key(time.time_ns() - int(days * 86400e9))
    table = storage.table(RUNS)
    old = table.query_entities(
        "PartitionKey eq @t and RowKey gt @cutoff", parameters={"t": tenant_id, "cutoff": cutoff}, select=["RowKey"]
    )
    return storage.delete_rows(table, tenant_id, [e["RowKey"] for e in old])


def save_run(run: RunRecord) -> None:
    """Write the run record as it stands (a "running" one at the start and after each dataset, then the final)."""
    storage.table(RUNS).upsert_entity(
        entity={
            "PartitionKey": run.tenant_id,
            "RowKey": run.row_key,
            "Started": run.started,
            "Ended": run.ended,
            "Status": run.status,
            "Schedule": run.schedule,
            "Rows": run.rows,
            "Requests": run.requests,
            "Throttled": run.throttled,
            "ThrottleWaitSeconds": float(run.throttle_wait_s),
            "Error": run.error[:8000],
            "Reports": json.dumps([asdict(r) for r in run.reports]),
        }
    )


def start(run: RunRecord) -> None:
    """The "running" run record, and every dataset of the run marked running (one transaction: one partition)."""
    save_run(run)
    marks = [
        (
            "upsert",
            {"PartitionKey": run.tenant_id, "RowKey": r.report, "LastStatus": "running", "LastAttempt": run.started},
        )  # fmt: skip
        for r in run.reports
    ]
    if marks:
        storage.table(STATUS).submit_transaction(marks)  # merge: the other properties stay


def save_outcomes(tenant_id: str, outcomes: list[ReportOutcome]) -> None:
    """The last outcomes of datasets (one partition: one transaction when there are several)."""
    entities = [_outcome_entity(tenant_id, r) for r in outcomes]
    table = storage.table(STATUS)
    if len(entities) == 1:
        table.upsert_entity(entity=entities[0])  # merge: LastSuccess survives a failed run
    elif entities:
        # A transaction costs more CPU than one upsert (multipart body), far less than one upsert each.
        for i in range(0, len(entities), storage.BATCH):
            table.submit_transaction([("upsert", e) for e in entities[i : i + storage.BATCH]])  # merge too


def _outcome_entity(tenant_id: str, r: ReportOutcome) -> dict:
    when = r.finished or storage.now_iso()
    entity = {
        "PartitionKey": tenant_id,
        "RowKey": r.report,
        "LastAttempt": when,
        "LastStatus": r.status,
        "LastError": r.error[:8000],
        "Concealed": r.concealed,
        "LastThrottled": r.throttled,
        "LastThrottleWaitSeconds": float(r.throttle_wait_s),
        "Held": r.status == "suspect",
        "HeldRows": r.held_rows,
    }
    if r.status == "success":
        entity["LastSuccess"] = when
    return entity


def save(run: RunRecord) -> None:
    """The final record of a run, and every dataset outcome not written yet."""
    save_run(run)
    save_outcomes(run.tenant_id, [r for r in run.reports if not r.finished])
    prune(run.tenant_id, settings.number("RUNS_RETENTION_DAYS"))


def recent(tenant_id: str, limit: int = 20) -> list[dict]:
    entities = storage.table(RUNS).query_entities(
        "PartitionKey eq @pk", parameters={"pk": tenant_id}, results_per_page=limit
    )
    out = []
    for e in entities:
        out.append({k: v for k, v in e.items()})
        if len(out) >= limit:
            break
    return out


def last_status(tenant_id: str, report: str) -> dict | None:
    try:
        return dict(storage.table(STATUS).get_entity(partition_key=tenant_id, row_key=report))
    except ResourceNotFoundError:
        return None
