"""Collection-run records: newest first, and pruned after RUNS_RETENTION_DAYS (health alone adds 288 a day)."""

from __future__ import annotations

import time

from shared.store import runs, storage


def test_old_run_records_are_pruned_and_recent_ones_kept(storage_env, tenant_id, monkeypatch) -> None:
    table = storage.table(runs.RUNS)
    day = 86400 * 10**9
    for age_days in (45, 31, 2):
        key = storage.newest_first_key(time.time_ns() - age_days * day)
        table.upsert_entity({"PartitionKey": tenant_id, "RowKey": key, "Started": f"{age_days} days ago"})
    monkeypatch.setenv("RUNS_RETENTION_DAYS", "30")
    run = runs.RunRecord(tenant_id=tenant_id)
    run.finish()
    runs.save(run)  # saving a run prunes the tenant's expired ones
    kept = [r["Started"] for r in runs.recent(tenant_id)]
    assert kept == [run.started, "2 days ago"]
