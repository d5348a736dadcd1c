"""Collection end to end: simulator (real azure-identity + msgraph-sdk) -> collector -> Azurite -> checks."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re

import pytest

from devtools.simulator.certs import make_client_certificate
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.checks.service import answer
from shared.collect.catalog import DATASETS
from shared.collect.collector import COLLECTED, collect_all
from shared.store import runs, tenants
from tests.support import use_simulator

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "s3cr3t-Value~with/odd+chars="
CERT_CLIENT_ID = "cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee"
SEEDS = iter(range(101, 200))
# Graph requests of a full report collection: every CSV report call (D7, plus the daily form where the catalog
# says `daily`) is a 302 plus its download; every JSON dataset is one page at the simulator's default page size.
CSV_REQUESTS = 2 * sum(2 if DATASETS[k].daily else 1 for k in COLLECTED if DATASETS[k].source == "csv")
JSON_REQUESTS = sum(1 for k in COLLECTED if DATASETS[k].source == "json")
FULL_REQUESTS = CSV_REQUESTS + JSON_REQUESTS  # 2 x 19 + 4 = 42


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    # One simulator for the module, many tenants: each test takes fresh seeds so stored data never collides.
    sample = [SampleTenant.generate(seed, 120) for seed in range(101, 131)]
    sample.append(SampleTenant.generate(190, 40, header_only=True))
    sample.append(SampleTenant.generate(191, 60, concealed=True))
    state = graph_simulator.state_dir
    make_client_certificate(state / "client.pem")
    # The async credential identifies its key by SHA-256 (x5t#S256): register the certificate itself.
    cert = AppCredential(certificate_pem=(state / "client.pem").read_bytes())
    apps = {CLIENT_ID: AppCredential(secret=SECRET), CERT_CLIENT_ID: cert}
    return graph_simulator.serve(sample, apps)


@pytest.fixture
def graph_env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    monkeypatch.setenv("BAD_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("BAD_CLIENT_SECRET", "wrong-" + SECRET)
    monkeypatch.setenv("CERT_CLIENT_ID", CERT_CLIENT_ID)
    monkeypatch.setenv("CERT_CLIENT_CERTIFICATE_PATH", str(sim.ca_path.parent / "client.pem"))
    return sim


def register(seed: int | None = None, prefix: str = "") -> SampleTenant:
    t = SampleTenant.generate(seed if seed is not None else next(SEEDS), 120)
    tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain], credential_prefix=prefix))
    return t


def collect(name: str) -> runs.RunRecord:
    (run,) = asyncio.run(collect_all(name))
    return run


def expected_email_activity(sim: GraphSimulator, tenant: SampleTenant) -> str:
    """Centreon's numbers computed independently from the simulator's own CSV."""
    from devtools.simulator.tenants import email_activity_csv

    d7 = list(csv.DictReader(io.StringIO("".join(email_activity_csv(tenant, "D7")))))
    refresh = d7[0]["Report Refresh Date"]
    daily = list(csv.DictReader(io.StringIO("".join(email_activity_csv(tenant, refresh)))))

    def total(col: str) -> int:
        return sum(int(r[col] or 0) for r in daily)

    pct = 100 * len(daily) / len(d7)
    return (
        f"OK: Active users on {refresh} : {len(daily)}/{len(d7)} ({pct:.2f}%) - Total (active users) "
        f"Send Count: {total('Send Count')}, Receive Count: {total('Receive Count')}, "
        f"Read Count: {total('Read Count')} |"
    )


def test_collection_stores_what_checks_answer(graph_env: GraphSimulator) -> None:
    t = register()
    run = collect(t.domain)
    assert run.status == "success", run.error
    # Every dataset of the report timer (see FULL_REQUESTS), whatever the tenant size.
    assert (CSV_REQUESTS, JSON_REQUESTS) == (38, 4)
    assert run.requests == FULL_REQUESTS
    result, status = answer("exchange", "email-activity", {"tenant": t.domain})
    assert status == 200
    assert result.text().startswith(expected_email_activity(graph_env, t))
    # The same check by tenant id, and the filtered path, agree with the unfiltered one on everything.
    by_id, _ = answer("exchange", "email-activity", {"tenant": t.tenant_id, "filter-user": "."})
    assert by_id.text() == result.text()


def test_certificate_credential_collects(graph_env: GraphSimulator) -> None:
    t = register(prefix="CERT")
    run = collect(t.tenant_id)
    assert run.status == "success", run.error


def test_certificate_from_a_setting_collects(graph_env: GraphSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = (graph_env.ca_path.parent / "client.pem").read_text()
    monkeypatch.setenv("PEM_CLIENT_ID", CERT_CLIENT_ID)
    monkeypatch.setenv("PEM_CLIENT_CERTIFICATE", pem)
    t = register(prefix="PEM")
    run = collect(t.tenant_id)
    assert run.status == "success", run.error


def test_throttled_report_waits_for_retry_after_then_succeeds(graph_env: GraphSimulator) -> None:
    t = register()
    graph_env.add_fault(Fault("throttle", tenant=t.tenant_id, path_contains="getMailboxUsageDetail", times=1))
    run = collect(t.tenant_id)
    assert run.status == "success", run.error
    # The wait really spent before the retry (Retry-After: 1), not an advertised figure.
    assert run.throttled == 1 and round(run.throttle_wait_s) == 1
    assert run.requests == FULL_REQUESTS + 1  # the one retried request


def test_wrong_secret_is_recorded_and_check_says_why(graph_env: GraphSimulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    t = register(prefix="BAD")
    run = collect(t.tenant_id)
    assert run.status == "failed"
    assert "AADSTS7000215" in run.error
    result, _ = answer("exchange", "mailbox-usage", {"tenant": t.domain})
    assert result.exit_code == 3
    assert "last collection failed" in result.short and "AADSTS7000215" in result.short
    stored = runs.recent(t.tenant_id)[0]
    assert stored["Status"] == "failed" and "AADSTS7000215" in stored["Error"]
    for text in (caplog.text, run.error, result.text(), str(stored)):
        assert SECRET not in text and "wrong-" not in text


def test_one_tenant_failing_never_stops_the_others(graph_env: GraphSimulator) -> None:
    good, bad = register(), register(prefix="BAD")
    only = {good.tenant_id, bad.tenant_id}
    results = {r.tenant_id: r for r in asyncio.run(collect_all()) if r.tenant_id in only}
    assert results[good.tenant_id].status == "success"
    assert results[bad.tenant_id].status == "failed"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("truncated", "truncated"),
        ("not_csv", "not the expected CSV report"),
        ("forbidden", "S2SUnauthorized"),
        ("unavailable", "503"),
    ],
)
def test_failed_report_keeps_previous_snapshot(graph_env: GraphSimulator, fault: str, reason: str) -> None:
    t = register()
    assert collect(t.tenant_id).status == "success"
    before, _ = answer("exchange", "email-activity", {"tenant": t.tenant_id, "verbose": "1"})
    # 503 is retried by the SDK 3 times: make the fault outlast the retries.
    graph_env.add_fault(Fault(fault, tenant=t.tenant_id, path_contains="EmailActivity", times=4, retry_after=1))
    run = collect(t.tenant_id)
    email = next(r for r in run.reports if r.report == "email_activity")
    assert run.status == "partial" and email.status == "failed"
    assert reason in email.error
    after, _ = answer("exchange", "email-activity", {"tenant": t.tenant_id, "verbose": "1"})
    assert after.text() == before.text()
    assert runs.last_status(t.tenant_id, "email_activity")["LastStatus"] == "failed"


def test_header_only_report(graph_env: GraphSimulator) -> None:
    t = register(190)
    assert collect(t.tenant_id).status == "success"
    result, _ = answer("exchange", "email-activity", {"tenant": t.tenant_id})
    assert result.text().startswith("OK: Active users on  : 0/0 (0.00%) - Total (active users) Send Count: 0")
    assert "perfdate" not in result.text()


def test_concealed_names_are_recorded(graph_env: GraphSimulator) -> None:
    t = register(191)
    run = collect(t.tenant_id)
    assert all(r.concealed for r in run.reports if DATASETS[r.report].source == "csv")
    settings = next(r for r in run.reports if r.report == "report_settings")
    assert settings.concealed is True  # the tenant's displayConcealedNames
    assert runs.last_status(t.tenant_id, "mailbox_usage")["Concealed"] is True


def test_check_before_any_collection_is_unknown(graph_env: GraphSimulator) -> None:
    t = register()
    result, status = answer("exchange", "email-activity", {"tenant": t.tenant_id})
    assert (result.exit_code, status) == (3, 200)
    assert re.search(r"no data collected yet", result.short)


def test_endpoint_settings_redirect_everything_as_for_a_national_cloud(
    graph_env: GraphSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A national cloud is only other endpoints (e.g. graph.microsoft.us / login.microsoftonline.us): point both
    # settings at other host names and the token must be asked for that Graph (scope <GRAPH_ENDPOINT>/.default).
    graph = graph_env.graph_endpoint.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("GRAPH_ENDPOINT", graph)
    monkeypatch.setenv("LOGIN_ENDPOINT", graph_env.login_endpoint.replace("127.0.0.1", "localhost"))
    t = register()
    assert collect(t.tenant_id).status == "success"
    assert graph_env.granted_resources(t.tenant_id) == {graph}
