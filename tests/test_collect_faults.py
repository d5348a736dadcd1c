"""Collection faults through the real path: simulator (its faults follow Graph's real answers) -> azure-identity and
msgraph-sdk -> collector -> Azurite -> check and health outputs. Each test names what the user sees."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import re

import pytest

from devtools.azurite import free_port
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.checks import clock
from shared.checks.service import answer
from shared.collect import collector, graph
from shared.collect.collector import COLLECTED, CollectionError, collect_all, collect_tenant
from shared.store import runs, snapshots, storage, tenants
from tests.support import use_simulator

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "s3cr3t-Value~with/odd+chars="
USERS = 300
SEEDS = iter(range(501, 560))


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    sample = [SampleTenant.generate(seed, USERS) for seed in range(501, 560)]
    return graph_simulator.serve(sample, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    yield sim
    sim.reset()


def register() -> SampleTenant:
    t = SampleTenant.generate(next(SEEDS), USERS)
    tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
    return t


@pytest.fixture
def sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    """Datasets one at a time: these tests say which dataset meets a fault first and which are not started yet
    (with several at once, the ones already running finish, and a one-time fault meets whichever asks first)."""
    monkeypatch.setenv("COLLECT_REPORT_CONCURRENCY", "1")


def collect(t: SampleTenant, schedule: str = "reports") -> runs.RunRecord:
    (run,) = asyncio.run(collect_all(t.tenant_id, schedule=schedule))
    return run


def outcome(run: runs.RunRecord, key: str) -> runs.ReportOutcome:
    return next(r for r in run.reports if r.report == key)


def check(t: SampleTenant, plugin: str, mode: str, **options: str) -> str:
    result, _ = answer(plugin, mode, {"tenant": t.domain, **options})
    return result.text()


def mailbox_count(t: SampleTenant) -> int:
    return snapshots.current(t.tenant_id, "mailbox_usage").rows


# ------------------------------------------------------------------ a cut report never replaces a good one


@pytest.mark.parametrize("kind", ["cut_line", "cut_cell", "header_only"])
def test_cut_report_is_held_back_and_the_previous_snapshot_stays(env: GraphSimulator, kind: str) -> None:
    t = register()
    assert collect(t).status == "success"
    before = check(t, "exchange", "mailbox-usage", **{"filter-mailbox": ".", "verbose": "1"})
    assert mailbox_count(t) == USERS
    env.add_fault(Fault(kind, tenant=t.tenant_id, path_contains="getMailboxUsageDetail", times=1))
    run = collect(t)
    held = outcome(run, "mailbox_usage")
    assert held.status == "suspect", held.error
    assert f"against {USERS} in the current snapshot" in held.error
    # Every check still answers on the 300 mailboxes, and the health plugin says what happened.
    assert check(t, "exchange", "mailbox-usage", **{"filter-mailbox": ".", "verbose": "1"}) == before
    assert mailbox_count(t) == USERS
    status = check(t, "health", "collection-status", **{"filter-report": "^mailbox_usage$"})
    assert status.startswith("WARNING: Report 'mailbox_usage' last collection: suspect at "), status
    assert "held back" in status
    # A good collection afterwards is simply stored: the anomaly is gone.
    assert outcome(collect(t), "mailbox_usage").status == "success"
    assert check(t, "health", "collection-status", **{"filter-report": "^mailbox_usage$"}).startswith("OK:")


def test_a_cut_d7_body_with_a_full_daily_form_is_held_back(env: GraphSimulator) -> None:
    t = register()
    assert collect(t).status == "success"
    before = check(t, "exchange", "email-activity")
    env.add_fault(Fault("cut_line", tenant=t.tenant_id, path_contains="getEmailActivityUserDetail(period", times=1))
    email = outcome(collect(t), "email_activity")
    assert email.status == "suspect", email.error
    assert "its daily form has" in email.error and "rows but its D7 form only" in email.error
    assert check(t, "exchange", "email-activity") == before


@pytest.mark.parametrize("kind", ["cut_line", "header_only"])
def test_a_second_collection_confirms_a_real_drop(env: GraphSimulator, kind: str) -> None:
    t = register()
    assert collect(t).status == "success"
    # The same smaller count twice in a row is what a real drop looks like: the second one is stored.
    env.add_fault(Fault(kind, tenant=t.tenant_id, path_contains="getMailboxUsageDetail", times=2))
    first = outcome(collect(t), "mailbox_usage")
    assert first.status == "suspect" and mailbox_count(t) == USERS
    second = outcome(collect(t), "mailbox_usage")
    assert second.status == "success", second.error
    assert mailbox_count(t) == first.held_rows < USERS


def test_connection_dropped_mid_body_is_named_and_stores_nothing(env: GraphSimulator) -> None:
    t = register()
    assert collect(t).status == "success"
    env.add_fault(Fault("dropped", tenant=t.tenant_id, path_contains="getMailboxUsageDetail", times=1))
    failed = outcome(collect(t), "mailbox_usage")
    assert failed.status == "failed"
    assert re.search(r"getMailboxUsageDetail: the download connection was dropped after \d+ of \d+ bytes", failed.error)
    assert "cannot reach" not in failed.error
    assert mailbox_count(t) == USERS


# ------------------------------------------------------------------ deadline, throttling, pages


def test_a_still_throttled_dataset_skips_the_tenants_other_datasets(sequential: None, env: GraphSimulator) -> None:
    t = register()
    env.add_fault(Fault("throttle", tenant=t.tenant_id, path_contains="getEmailActivityUserDetail", times=None))
    run = collect(t)
    email = outcome(run, "email_activity")
    assert email.status == "failed" and "still 429" in email.error
    others = [r for r in run.reports if r.report != "email_activity"]
    assert {r.status for r in others} == {"skipped"}
    assert all(r.error.startswith("skipped: throttled (Graph still answered 429 on email_activity") for r in others)
    assert run.requests == 4  # the first request and the SDK's three retries; nothing else waited on Graph
    # Throttling figures are per dataset, and only real waits count (three of 1 s, the fourth 429 not waited).
    assert (email.throttled, round(email.throttle_wait_s)) == (4, 3)
    status = check(t, "health", "collection-status", **{"filter-report": "^(email_activity|mailbox_usage)$"})
    assert "Report 'email_activity' last collection: failed at" in status
    assert "Report 'mailbox_usage' last collection: skipped: throttled" in status
    assert "'throttled_email_activity'=4;;;0;" in status and "'throttled_mailbox_usage'=0;;;0;" in status
    # The 5-minute service health run has its own figures: it leaves the report datasets' ones alone.
    env.clear_faults()
    assert collect(t, "health").status == "success"
    again = check(t, "health", "collection-status", **{"filter-report": "^email_activity$", "verbose": "1"})
    # The wait is measured (three sleeps of 1 s: 3.0 or, on a loaded machine, 3.1): the run's own figure.
    assert f"throttled responses: 4, throttle wait: {email.throttle_wait_s:.1f} s" in again


def test_the_tenant_deadline_stops_a_slow_collection(
    sequential: None, env: GraphSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = register()
    monkeypatch.setenv("COLLECT_TENANT_DEADLINE_S", "2")
    env.add_fault(Fault("slow", tenant=t.tenant_id, path_contains="getMailboxUsageDetail", delay=4))
    run = collect(t)
    mailbox = outcome(run, "mailbox_usage")
    assert outcome(run, "email_activity").status == "success"
    assert mailbox.status == "failed" and "collection deadline of 2 s (COLLECT_TENANT_DEADLINE_S)" in mailbox.error
    rest = run.reports[[r.report for r in run.reports].index("mailbox_usage") + 1 :]
    assert rest and {r.status for r in rest} == {"skipped"}


def test_an_endless_chain_of_next_links_is_capped(env: GraphSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    t = register()
    monkeypatch.setenv("COLLECT_MAX_PAGES", "5")
    env.add_fault(Fault("endless_pages", tenant=t.tenant_id, path_contains="healthOverviews", times=None))
    run = collect(t, "health")
    health = outcome(run, "service_health")
    assert health.status == "failed"
    assert "still a nextLink after 5 pages (COLLECT_MAX_PAGES)" in health.error
    assert run.requests == 5
    assert snapshots.current(t.tenant_id, "service_health") is None


def test_a_killed_run_shows_as_interrupted_not_the_previous_run(
    env: GraphSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "PROGRESS_INTERVAL_S", 1.0)  # a progress write while mailbox_usage (3 s) runs
    t = register()
    assert collect(t).status == "success"
    env.add_fault(Fault("slow", tenant=t.tenant_id, path_contains="getMailboxUsageDetail", delay=3))

    async def killed() -> None:
        (tenant,) = [x for x in tenants.list_all() if x.tenant_id == t.tenant_id]
        task = asyncio.create_task(collect_tenant(tenant))
        while True:
            newest = runs.recent(t.tenant_id, 1)[0]
            if newest["Status"] == "running" and '"status": "success"' in newest["Reports"]:
                break
            await asyncio.sleep(0.1)
        task.cancel()  # as the host does at functionTimeout: nothing after this point runs
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(killed())
    assert runs.recent(t.tenant_id, 1)[0]["Status"] == "running"
    env.clear_faults()
    # Newer runs of the other schedule (service health every 5 minutes) do not hide the interrupted one.
    assert collect(t, "health").status == "success"
    running = check(t, "health", "collection-status", **{"filter-report": "^mailbox_usage$"})
    assert "last collection: running since" in running, running
    later = clock.now() + dt.timedelta(seconds=600 + 61)
    monkeypatch.setattr(clock, "now", lambda: later)
    status = check(t, "health", "collection-status")
    # Every dataset the killed run had not finished is shown as interrupted; the one it finished is OK.
    assert status.startswith("CRITICAL: "), status
    assert "Report 'mailbox_usage' last collection: failed at " in status
    assert "interrupted: the collection started at" in status
    assert "Report 'email_activity'" not in status.split(" | ")[0]


# ------------------------------------------------------------------ tokens and reasons


@pytest.mark.parametrize("target", ["getTeamsUserActivityUserDetail", "subscribedSkus"])
def test_a_token_rejected_mid_run_is_renewed_once(env: GraphSimulator, target: str) -> None:
    t = register()
    # The server revokes the token early: every later request with it would get 401 InvalidAuthenticationToken.
    env.add_fault(Fault("expire_token", tenant=t.tenant_id, path_contains=target, times=1))
    run = collect(t)
    assert run.status == "success", run.error
    assert {r.status for r in run.reports} == {"success"}


def test_504_is_retried(env: GraphSimulator) -> None:
    t = register()
    env.add_fault(Fault("gateway_timeout", tenant=t.tenant_id, path_contains="subscribedSkus", times=1))
    run = collect(t)
    subs = outcome(run, "subscriptions")
    assert subs.status == "success", subs.error
    assert subs.requests == 2


@pytest.mark.parametrize(
    ("target", "permission"),
    [("getMailboxUsageDetail", "Reports.Read.All"), ("subscribedSkus", "Organization.Read.All")],
)
def test_403_names_the_missing_permission(env: GraphSimulator, target: str, permission: str) -> None:
    t = register()
    env.add_fault(Fault("forbidden", tenant=t.tenant_id, path_contains=target, times=1))
    run = collect(t)
    (failed,) = [r for r in run.reports if r.status == "failed"]
    assert "HTTP 403 S2SUnauthorized" in failed.error
    assert f"the app needs the Microsoft Graph application permission {permission}" in failed.error
    status = check(t, "health", "collection-status", **{"filter-report": f"^{failed.report}$"})
    assert permission in status


def test_read_timeout_names_the_url_and_the_limit(
    sequential: None, env: GraphSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph, "READ_TIMEOUT_S", 1.0)
    t = register()
    env.add_fault(Fault("slow", tenant=t.tenant_id, path_contains="subscribedSkus", delay=2))
    env.add_fault(Fault("slow", tenant=t.tenant_id, path_contains="/data/download/", delay=2))
    run = collect(t)
    subs, email = outcome(run, "subscriptions"), outcome(run, "email_activity")
    assert f"{env.graph_endpoint}/v1.0/subscribedSkus did not answer within 1 s (ReadTimeout)" in subs.error
    assert "cannot reach" not in subs.error
    # The download's URL is pre-authenticated: the report request that led to it is named instead.
    assert (
        f"{env.graph_endpoint}/v1.0/reports/getEmailActivityUserDetail(period='D7') (or the download it redirects "
        "to) did not answer within 1 s (ReadTimeout)" in email.error
    )
    assert "/data/download/" not in email.error and "?" not in email.error


def test_no_space_left_names_the_temp_dir(env: GraphSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    # The only stand-in: a disk that is full (writes to /dev/full fail with ENOSPC, as on a full temp dir).
    monkeypatch.setattr(graph, "_spool", lambda: open("/dev/full", "r+b", buffering=0))
    t = register()
    email = outcome(collect(t), "email_activity")
    assert email.status == "failed"
    assert f"no space left on the device of the temp dir {tempfile.gettempdir()}" in email.error
    assert errno.errorcode[errno.ENOSPC] not in email.error


@pytest.mark.parametrize(("kind", "code"), [("no_consent", "AADSTS65001"), ("no_service_principal", "AADSTS7000229")])
def test_missing_admin_consent_gives_the_consent_url(env: GraphSimulator, kind: str, code: str) -> None:
    t = register()
    env.add_fault(Fault(kind, tenant=t.tenant_id, times=None))
    run = collect(t)
    url = f"{env.login_endpoint}/{t.tenant_id}/adminconsent?client_id={CLIENT_ID}"
    assert run.status == "failed"
    assert f"the app has no admin consent in this tenant ({code})" in run.error and url in run.error
    result = check(t, "exchange", "mailbox-usage")
    assert result.startswith("UNKNOWN:") and url in result


def test_a_report_date_in_the_future_says_so(env: GraphSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    t = register()
    assert collect(t).status == "success"
    past = clock.now() - dt.timedelta(days=30)
    monkeypatch.setattr(clock, "now", lambda: past)
    text = check(t, "health", "data-freshness", **{"filter-report": "^mailbox_usage$"})
    # The age is out of the default 0:72 range, hence CRITICAL; the text says why.
    assert text.startswith("CRITICAL: Report 'mailbox_usage' last success: "), text
    assert re.search(r"report date \d{4}-\d\d-\d\d is \d+\.\d\d h in the future \(clock or data error\)", text)


def test_storage_dying_gives_one_line_per_tenant(
    env: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    caplog.set_level(logging.INFO)
    first, second = register(), register()
    listed = [x for x in tenants.list_all() if x.tenant_id in {first.tenant_id, second.tenant_id}]
    dead = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{free_port()}", storage_env.connection_string)
    monkeypatch.setenv("AzureWebJobsStorage", dead)
    storage.reset_caches()

    async def both() -> list[runs.RunRecord]:
        return list(await asyncio.gather(*(collect_tenant(x) for x in listed)))

    for run in asyncio.run(both()):
        assert run.status == "failed"
        assert run.error.startswith("storage unavailable: ") and "\n" not in run.error, run.error
        assert len(run.error) <= 300
    assert "Traceback" not in caplog.text
    with pytest.raises(CollectionError, match=r"^cannot list the tenants: storage unavailable: "):
        asyncio.run(collect_all())
    storage.reset_caches()


def test_report_download_urls_never_reach_the_logs(env: GraphSimulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    t = register()
    run = collect(t)
    assert run.status == "success", run.error
    # httpcore logs each 302's Location at DEBUG: shown without its pre-authenticated path.
    assert any("/<pre-authenticated download URL>" in r.getMessage() for r in caplog.records)
    assert not re.search(r"/data/download/[A-Za-z0-9_-]{8,}", caplog.text)
    assert len([k for k in COLLECTED if k]) == len(run.reports)


def test_storage_dying_mid_run_gives_one_line_and_skips_the_rest(
    sequential: None, env: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    import threading

    caplog.set_level(logging.INFO)
    monkeypatch.setattr(collector, "PROGRESS_INTERVAL_S", 1.0)  # a progress write while mailbox_usage (3 s) runs
    t = register()
    (tenant,) = [x for x in tenants.list_all() if x.tenant_id == t.tenant_id]
    env.add_fault(Fault("slow", tenant=t.tenant_id, path_contains="getMailboxUsageDetail", delay=3))
    result: list[runs.RunRecord] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(collect_tenant(tenant))))
    worker.start()
    while (runs.last_status(t.tenant_id, "email_activity") or {}).get("LastStatus") != "success":
        worker.join(0.1)
    # Storage goes away while the mailbox report is downloading.
    monkeypatch.setenv(
        "AzureWebJobsStorage", re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{free_port()}", storage_env.connection_string)
    )
    storage.reset_caches()
    worker.join(120)
    (run,) = result
    mailbox = outcome(run, "mailbox_usage")
    assert outcome(run, "email_activity").status == "success"
    assert mailbox.status == "failed" and mailbox.error.startswith("storage unavailable: ")
    rest = run.reports[[r.report for r in run.reports].index("mailbox_usage") + 1 :]
    assert {r.status for r in rest} == {"skipped"} and rest[0].error == f"skipped: {mailbox.error}"
    assert run.status == "failed" and "\n" not in run.error and "(this run could not be recorded)" in run.error
    assert "Traceback" not in caplog.text
    storage.reset_caches()


# ------------------------------------------------------------------ what the check and the CLI say afterwards


def test_a_first_collection_that_was_skipped_says_why_in_the_check(sequential: None, env: GraphSimulator) -> None:
    t = register()
    env.add_fault(Fault("throttle", tenant=t.tenant_id, path_contains="getEmailActivityUserDetail", times=None))
    collect(t)
    text = check(t, "exchange", "mailbox-usage")
    assert text.startswith(f"UNKNOWN: no data for tenant '{t.tenant_id}' report 'mailbox_usage': last collection ")
    assert "was skipped at " in text and "skipped: throttled (Graph still answered 429 on email_activity" in text


def test_cli_collect_on_dead_storage_prints_one_line(storage_env, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from shared.cli.main import main

    dead = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{free_port()}", storage_env.connection_string)
    monkeypatch.setenv("AzureWebJobsStorage", dead)
    storage.reset_caches()
    try:
        assert main(["collect", "--only", "reports"]) == 1
    finally:
        storage.reset_caches()
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("collection (reports) did not start: cannot list the tenants: storage unavailable: ")
    assert not any("Traceback" in line for line in err)
