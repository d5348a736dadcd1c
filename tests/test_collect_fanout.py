"""Fan-out collection through the real queue path: the timer function enqueues `collect` messages on Azurite and
the local runner drives the `collect` queue trigger (Base64 messages, batchSize + newBatchThreshold, retries,
`collect-poison`), against the Graph simulator (real azure-identity + msgraph-sdk)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import function_app
from devtools.azurite import free_port
from devtools.runner import LocalRunner, LocalTimerRequest
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.checks.service import answer
from shared.collect import fanout
from shared.collect.catalog import DATASETS
from shared.matching import messages
from shared.store import runs, snapshots, storage, tenants
from shared.store.lease import Lease
from tests.support import use_simulator

CLIENT_ID = "f0f0f0f0-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "fan-out-secret"
SEEDS = iter(range(7001, 7100))  # seeds no other test uses: a seed is a tenant
SHARED_POOL_SEEDS = (7101, 7102)


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    sample = [SampleTenant.generate(seed, 40) for seed in (*range(7001, 7040), *SHARED_POOL_SEEDS)]
    return graph_simulator.serve(sample, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphSimulator]:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    sim.reset()
    # Tests share one Azurite: messages another test left would be collected here.
    for name in (fanout.QUEUE, fanout.POISON_QUEUE):
        storage.queue(name).clear_messages()
    yield sim
    sim.reset()


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Callable[[], LocalRunner]]:
    host = json.loads(Path(function_app.__file__).with_name("host.json").read_text())
    host["extensions"]["queues"].update(visibilityTimeout="00:00:01", maxPollingInterval="00:00:00.200")
    (tmp_path / "host.json").write_text(json.dumps(host))
    started: list[LocalRunner] = []

    def start() -> LocalRunner:
        r = LocalRunner(
            function_app.app, tmp_path / "host.json", port=free_port(), function_key="f", master_key="m",
            enable_timers=False,
        )  # fmt: skip
        started.append(r.start())
        return r

    yield start
    for r in started:
        r.stop(timeout=60)


def register(*, enabled: bool = True) -> SampleTenant:
    t = SampleTenant.generate(next(SEEDS), 40)
    tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain], enabled=enabled))
    return t


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def queue_empty(name: str = fanout.QUEUE) -> bool:
    props = storage.queue(name).get_queue_properties()
    return props.approximate_message_count == 0


def finished_runs(t: SampleTenant) -> list[dict]:
    return [r for r in runs.recent(t.tenant_id) if r["Status"] != "running"]


def check(t: SampleTenant, **options: str) -> str:
    result, _ = answer("health", "collection-status", {"tenant": t.domain, **options})
    return result.text()


def keep_only(tenant_ids: set[str]) -> list[dict]:
    """The queued messages for these tenants (left on the queue); the others are deleted: the Tenants table is
    shared by the whole test run, so the timer also enqueued the enabled tenants of other tests."""
    q = storage.queue(fanout.QUEUE)
    kept: list[dict] = []
    while batch := list(q.receive_messages(max_messages=32, visibility_timeout=30)):
        for m in batch:
            body = json.loads(m.content)
            if body["tenant_id"] in tenant_ids:
                kept.append(body)
            q.delete_message(m)
    for body in kept:
        q.send_message(json.dumps(body))
    return kept


def send(t: SampleTenant, schedule: str = "reports", enqueued: str = "") -> dict:
    body = {"tenant_id": t.tenant_id, "schedule": schedule, "round": "test", "enqueued": enqueued or storage.now_iso()}
    storage.queue(fanout.QUEUE).send_message(json.dumps(body))
    return body


def test_the_timer_enqueues_one_message_per_enabled_tenant_and_the_queue_collects_each(env, runner) -> None:
    from functions.collect import collect_health, collect_reports

    a, b, off = register(), register(), register(enabled=False)
    collect_reports(LocalTimerRequest())
    collect_health(LocalTimerRequest())
    queued = keep_only({a.tenant_id, b.tenant_id, off.tenant_id})
    assert sorted((m["tenant_id"], m["schedule"]) for m in queued) == sorted(
        (t.tenant_id, s) for t in (a, b) for s in ("health", "reports")
    )
    assert not runs.recent(a.tenant_id), "the timer itself collects nothing"
    runner()
    wait_until(lambda: queue_empty() and all(len(finished_runs(t)) == 2 for t in (a, b)), 120)
    for t in (a, b):
        assert sorted(r["Schedule"] for r in finished_runs(t)) == ["health", "reports"]
        assert all(r["Status"] == "success" for r in finished_runs(t))
        assert check(t).startswith("OK: All collections are ok")
    assert not runs.recent(off.tenant_id)


def test_a_message_delivered_twice_collects_the_tenant_once(env, runner) -> None:
    t = register()
    body = send(t)
    storage.queue(fanout.QUEUE).send_message(json.dumps(body))  # the same message again (at-least-once)
    runner()
    wait_until(lambda: queue_empty() and len(finished_runs(t)) >= 1)
    time.sleep(1.5)  # a second collection, if one were started, would show by now
    assert [r["Status"] for r in runs.recent(t.tenant_id)] == ["success"]
    assert queue_empty(fanout.POISON_QUEUE)


def test_a_message_for_a_tenant_being_collected_completes_as_skipped(env, runner) -> None:
    t = register()
    held = Lease(fanout.LEASES, "reports", t.tenant_id, ttl=120).acquire()  # another instance collecting it
    send(t)
    runner()
    wait_until(queue_empty)
    time.sleep(1.5)
    # Not collected, not retried, not poisoned: the running collection delivers what the message asked for.
    assert runs.recent(t.tenant_id) == []
    assert queue_empty(fanout.POISON_QUEUE)
    held.release(LastStarted=storage.now_iso(), LastStatus="success")
    # A message queued after that collection started is collected.
    time.sleep(0.01)
    send(t)
    wait_until(lambda: len(finished_runs(t)) == 1)


def test_overlapping_rounds_collect_each_tenant_once(env, runner) -> None:
    a, b = register(), register()
    first = storage.now_iso(timespec="microseconds")
    for t in (a, b):
        send(t, enqueued=first)
    time.sleep(0.01)
    # The next round's timer fires while the first round's messages still wait (a backlog).
    second = storage.now_iso(timespec="microseconds")
    for t in (a, b):
        send(t, enqueued=second)
    runner()
    wait_until(lambda: queue_empty() and all(finished_runs(t) for t in (a, b)))
    time.sleep(1.5)
    for t in (a, b):
        assert [r["Status"] for r in runs.recent(t.tenant_id)] == ["success"]


def test_a_message_that_keeps_failing_lands_in_collect_poison_and_collection_status_says_why(env, runner) -> None:
    t = register()
    env.add_fault(Fault("unavailable", tenant=t.tenant_id, path_contains="healthOverviews", times=None))
    send(t, "health")
    runner()
    poison = storage.queue(fanout.POISON_QUEUE)
    wait_until(lambda: any(t.tenant_id in m.content for m in poison.peek_messages(max_messages=32)), 150)
    assert len(finished_runs(t)) == messages.MAX_ATTEMPTS  # every attempt is a recorded run
    status = check(t)
    assert status.startswith("CRITICAL:"), status
    assert "Report 'collect_message_health' last collection: failed at" in status
    assert f"failed {messages.MAX_ATTEMPTS} times and was moved to collect-poison: " in status
    assert "service_health: healthOverviews: Graph returned HTTP 503 serviceNotAvailable" in status
    # Once Graph answers again, the next round's collection clears it.
    env.clear_faults()
    send(t, "health")
    wait_until(lambda: "collect_message_health" not in check(t))
    assert check(t).startswith("OK:")


def test_a_tenant_without_admin_consent_says_so_with_its_consent_url(env, runner) -> None:
    t = register()
    env.add_fault(Fault("no_consent", tenant=t.tenant_id, times=None))
    send(t)
    runner()
    wait_until(lambda: queue_empty() and finished_runs(t))
    time.sleep(1.5)
    assert len(runs.recent(t.tenant_id)) == 1, "no admin consent is not retried: only an administrator can fix it"
    assert queue_empty(fanout.POISON_QUEUE)
    url = f"{env.login_endpoint}/{t.tenant_id}/adminconsent?client_id={CLIENT_ID}"
    status = check(t, **{"filter-report": "^email_activity$"})
    assert status.startswith("CRITICAL: Report 'email_activity' last collection: failed at "), status
    reason = "the app has no admin consent in this tenant (AADSTS65001): an administrator of the tenant must grant"
    assert f"{reason} it once at {url}" in status


def test_an_app_unknown_in_the_tenant_is_a_missing_consent_too(env) -> None:
    import asyncio

    from shared.collect.collector import collect_all

    t = register()
    env.apps = {CLIENT_ID: AppCredential(secret=SECRET, tenants=frozenset())}  # installed in no tenant
    try:
        (run,) = asyncio.run(collect_all(t.tenant_id))
    finally:
        env.apps = {CLIENT_ID: AppCredential(secret=SECRET)}
    url = f"{env.login_endpoint}/{t.tenant_id}/adminconsent?client_id={CLIENT_ID}"
    assert "has no admin consent in this tenant (AADSTS700016)" in run.error and url in run.error


def test_a_missing_permission_is_named_and_the_other_datasets_still_collect(env, runner) -> None:
    t = register()
    env.set_roles(t.tenant_id, {"ServiceHealth.Read.All", "Organization.Read.All", "Application.Read.All",
                                "ReportSettings.Read.All"})  # fmt: skip
    send(t)
    runner()
    wait_until(lambda: queue_empty() and finished_runs(t))
    (run,) = finished_runs(t)
    assert run["Status"] == "partial"
    reports = {r["report"]: r for r in json.loads(run["Reports"])}
    csv = [k for k, d in DATASETS.items() if d.source == "csv"]
    for key in csv:
        assert reports[key]["status"] == "failed"
        assert reports[key]["error"].startswith(
            "Reports.Read.All missing: grant it (Microsoft Graph, application "
            "permission) and admin-consent it in this tenant at "
        )
        assert reports[key]["requests"] == 0
    assert all(reports[k]["status"] == "success" for k in ("subscriptions", "app_credentials", "organization",
                                                           "report_settings"))  # fmt: skip
    # No report was asked for: Graph's report budget is not spent on calls bound to fail.
    assert env.request_count("/v1.0/reports/") == 0
    status = check(t, **{"filter-report": "^mailbox_usage$"})
    assert status.startswith("CRITICAL: Report 'mailbox_usage' last collection: failed at "), status
    assert "Reports.Read.All missing" in status
    assert check(t, **{"filter-report": "^organization$"}).startswith("OK:")


def test_tenants_collected_by_one_worker_process_each_get_their_own_data(env, runner) -> None:
    """The worker's tenants share one HTTP connection pool; each request still carries its own tenant's token (the
    simulator answers with the data of the tenant the token was issued for)."""
    pair = [SampleTenant.generate(seed, 40) for seed in SHARED_POOL_SEEDS]
    for t in pair:
        tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
        send(t)
    runner()
    wait_until(lambda: queue_empty() and all(finished_runs(t) for t in pair), 120)
    for t, other in (pair, pair[::-1]):
        assert finished_runs(t)[0]["Status"] == "success"
        email = snapshots.current(t.tenant_id, "email_activity")
        assert email is not None
        upn = email.columns.index("User Principal Name")
        domains = {row[upn].rsplit("@", 1)[1] for row in snapshots.load_rows(email)}
        assert domains == {t.domain} and other.domain not in domains
        org = snapshots.current(t.tenant_id, "organization")
        assert org is not None and [row[0] for row in snapshots.load_rows(org)] == [t.tenant_id]
