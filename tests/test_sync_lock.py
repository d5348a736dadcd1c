"""A matching run killed while it holds the tenant lock: its sync log says "started", the lock names its owner
and expiry, and the next run says so instead of "another sync holds the lock"; the CLI, which nothing retries,
does not promise a retry."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared.cli import sync as sync_cli
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.matching import lock, state
from shared.matching.lock import LockBusy
from shared.matching.run import handle_message
from shared.store import storage, tenants

ROOT = Path(__file__).resolve().parent.parent

CRASH = """
import os, sys
import shared.matching.run as run
run.match_tenant = lambda *a, **k: os._exit(9)  # the host kills the worker mid-run
run.handle_message('{"tenant_id": "%s", "trigger": "timer"}')
"""


@pytest.fixture
def crashed(storage_env, tenant_id, monkeypatch) -> tuple[str, int]:
    user = DirectoryUser(id="u1", given_name="Ana", surname="Silva", upn="ana@x.com", mail="ana@x.com")
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name="Crashy"), [user])
    env = {**os.environ, "AzureWebJobsStorage": storage_env.connection_string}
    proc = subprocess.run([sys.executable, "-c", CRASH % tenant_id], env=env, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    monkeypatch.setenv("MATCH_LOCK_WAIT", "0.3")
    return tenant_id, proc


def test_a_crashed_run_leaves_a_started_log_and_a_named_lock(crashed) -> None:
    tenant_id, _ = crashed
    (log,) = state.recent_logs(tenant_id, 5)
    assert (log["status"], log["ended"], log["trigger"]) == ("started", "", "timer")
    held = storage.table(lock.TABLE).get_entity(lock.PARTITION, tenant_id)
    assert re.fullmatch(r"[^:]+:\d+:[0-9a-f]{8}", held["Owner"]) and held["Taken"] < held["Expires"]


def test_a_rerun_says_a_previous_run_has_not_finished(crashed) -> None:
    tenant_id, _ = crashed
    held = storage.table(lock.TABLE).get_entity(lock.PARTITION, tenant_id)
    with pytest.raises(LockBusy) as info:
        handle_message(json.dumps({"tenant_id": tenant_id}), attempt=2)
    until = held["Expires"][11:19]
    assert str(info.value) == (
        f"tenant {tenant_id}: a previous run holding the lock until {until} UTC has not finished (crashed or still "
        f"running; owner {held['Owner']} since {held['Taken'][11:19]}, waited 0.3 s)"
    )
    failed, started = state.recent_logs(tenant_id, 5)
    assert started["status"] == "started"
    assert failed["status"] == "failed" and failed["attempt"] == 2
    assert failed["errors_text"] == [f"LockBusy: {info.value} (attempt 2/5, will be retried)"]
    assert "another sync holds the lock" not in failed["errors_text"][0]


def test_the_cli_does_not_promise_a_retry(crashed, monkeypatch, capsys) -> None:
    tenant_id, _ = crashed
    domain = f"{tenant_id[:8]}.crashy.example"
    tenants.add(tenants.Tenant(tenant_id, domains=[domain]))

    async def stored_directory(tid: str, trigger: str, *a, **k):  # the Graph part is not what is tested here
        return directory.load_info(tid)

    monkeypatch.setattr("shared.directory.sync.sync_tenant", stored_directory)
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    assert sync_cli.handle(parser.parse_args(["sync", "run", "--inline", "--tenant", domain])) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{tenant_id}: matching failed: tenant {tenant_id}: a previous run holding the lock until ")
    assert "retried" not in out
    failed = state.recent_logs(tenant_id, 1)[0]
    assert failed["errors_text"][0].endswith("(not retried: run it again)")
    assert "will be retried" not in failed["errors_text"][0]


def test_the_lock_is_free_again_after_its_expiry(storage_env, tenant_id) -> None:
    held = lock.TenantLock(tenant_id, ttl=0.2).acquire()  # never released, as after a crash
    with lock.TenantLock(tenant_id, wait=5) as taker:
        assert storage.table(lock.TABLE).get_entity(lock.PARTITION, tenant_id)["Owner"] == taker.owner
    assert held.owner != taker.owner


def test_a_lock_row_left_by_the_previous_release_expires_as_before(storage_env, tenant_id) -> None:
    # As the lock wrote its rows before it used the general lease: a crashed holder's row, long expired.
    storage.table(lock.TABLE).upsert_entity(
        {"PartitionKey": lock.PARTITION, "RowKey": tenant_id, "Owner": "old-host:1:deadbeef",
         "Taken": "2026-01-01T00:00:00+00:00", "Expires": "2026-01-01T00:05:00+00:00"}
    )  # fmt: skip
    with lock.TenantLock(tenant_id, wait=0) as taker:
        held = storage.table(lock.TABLE).get_entity(lock.PARTITION, tenant_id)
        assert (held["Owner"], set(held) - {"PartitionKey", "RowKey"}) == (taker.owner, {"Owner", "Taken", "Expires"})
    with pytest.raises(ResourceNotFoundError):  # released: nothing left to block the next run
        storage.table(lock.TABLE).get_entity(lock.PARTITION, tenant_id)
