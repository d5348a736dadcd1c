"""Every catalog dataset, collected from the simulator (real azure-identity + msgraph-sdk) into Azurite."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterator

import pytest

from devtools.azurite import free_port
from devtools.simulator import directory
from devtools.simulator.health import UNKNOWN_ENUM_VALUE, centreon_mock_health, render
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant, report_csv
from shared.checks.service import answer
from shared.collect.catalog import DATASETS, TEAMS_DEVICE_USAGE, Kind
from shared.collect.collector import COLLECTED, collect_all, datasets
from shared.collect.csv_stream import ParsedReport
from shared.store import runs, snapshots, tenants
from tests.support import use_simulator

CLIENT_ID = "dddddddd-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "another~secret"
SEEDS = iter(range(301, 400))
JSON_KEYS = [k for k in COLLECTED if DATASETS[k].source == "json"]
CSV_KEYS = [k for k in COLLECTED if DATASETS[k].source == "csv"]
# 2 x (D7 + daily where `daily`): every report call is a 302 plus its download.
CSV_REQUESTS = 2 * sum(2 if DATASETS[k].daily else 1 for k in CSV_KEYS)


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    sample = [SampleTenant.generate(seed, 30) for seed in range(301, 321)]
    sample.append(SampleTenant.generate(390, 20, concealed=True))
    return graph_simulator.serve(sample, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphSimulator]:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    yield sim
    sim.reset()


def register(seed: int | None = None) -> SampleTenant:
    seed = seed if seed is not None else next(SEEDS)
    t = SampleTenant.generate(seed, 20 if seed == 390 else 30, concealed=seed == 390)
    tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
    return t


def collect(t: SampleTenant, schedule: str = "reports") -> runs.RunRecord:
    (run,) = asyncio.run(collect_all(t.tenant_id, schedule=schedule))
    return run


def stored(t: SampleTenant, key: str) -> list[dict]:
    pointer = snapshots.current(t.tenant_id, key)
    assert pointer is not None, key
    assert pointer.columns == list(DATASETS[key].columns)
    return [dict(zip(pointer.columns, row, strict=True)) for row in snapshots.load_rows(pointer)]


def expected_csv_rows(t: SampleTenant, key: str) -> list[dict]:
    """The simulator's own CSV (D7 + daily where `daily`), reduced to the catalog columns and kinds."""
    report = DATASETS[key]
    d7 = list(csv.DictReader(io.StringIO("".join(report_csv(t, report.function, "D7")))))
    rows = d7
    if report.daily and d7:
        rows = d7 + list(csv.DictReader(io.StringIO("".join(report_csv(t, report.function, t.report_refresh_date)))))

    def value(row: dict, col: str) -> object:
        raw = row[col].strip()
        if report.columns[col] is Kind.INT:
            return int(raw) if raw else None
        return raw

    return [{c: value(r, c) for c in report.columns} for r in rows]


def iso(value: str | None) -> str:
    return value or ""


def expected_health_rows(items: list[dict]) -> list[dict]:
    out = []
    for s in items:
        head = {"service_id": s["id"], "service": s["service"], "status": s["status"]}
        issues = s.get("issues") or []
        if not issues:
            blank = dict.fromkeys(DATASETS["service_health"].columns, "")
            out.append({**blank, **head, "is_resolved": None})
        for i in issues:
            out.append(
                {
                    **head,
                    "issue_id": i["id"],
                    # Kept as Graph sent it (Centreon prints the raw value: the upstream mock's "Incident").
                    "classification": i["classification"],
                    "title": i["title"],
                    "start": iso(i["startDateTime"]),
                    "end": iso(i["endDateTime"]),
                    "last_modified": iso(i["lastModifiedDateTime"]),
                    "issue_status": i["status"],
                    "is_resolved": i["isResolved"],
                    "feature": i["feature"],
                    "feature_group": i["featureGroup"],
                    "impact": i["impactDescription"],
                }
            )
    return out


def test_every_dataset_is_collected_with_the_simulators_data(env: GraphSimulator) -> None:
    t = register()
    run = collect(t)
    assert run.status == "success", run.error
    assert {r.report for r in run.reports} == set(COLLECTED) == set(DATASETS) - {"service_health"}
    for key in CSV_KEYS:
        assert stored(t, key) == expected_csv_rows(t, key), key
        assert runs.last_status(t.tenant_id, key)["Concealed"] is False

    skus = {r["sku_part_number"]: r for r in stored(t, "subscriptions")}
    for sku in directory.subscribed_skus(t):
        row = skus.pop(sku["skuPartNumber"])
        units = sku["prepaidUnits"]
        assert row == {
            "sku_id": sku["skuId"],
            "sku_part_number": sku["skuPartNumber"],
            "capability_status": sku["capabilityStatus"],
            "applies_to": "User",
            "enabled": units["enabled"],
            "warning": units["warning"],
            "suspended": units["suspended"],
            "locked_out": units["lockedOut"],
            "consumed": sku["consumedUnits"],
        }
    assert skus == {}
    assert {r["capability_status"] for r in stored(t, "subscriptions")} == {"Enabled", "Warning", "Suspended"}

    expected_creds = [
        [a["appId"], a["displayName"], kind, c["keyId"], c["displayName"], c["startDateTime"], c["endDateTime"]]
        for a in directory.applications(t)
        for kind, field in (("password", "passwordCredentials"), ("key", "keyCredentials"))
        for c in a[field]
    ]
    assert [list(r.values()) for r in stored(t, "app_credentials")] == expected_creds

    org = directory.organization(t)
    assert stored(t, "organization") == [
        {
            "tenant_id": t.tenant_id,
            "display_name": t.display_name,
            "directory_used": org["directorySizeQuota"]["used"],
            "directory_total": org["directorySizeQuota"]["total"],
            "verified_domains": json.dumps([t.domain, f"{t.domain.split('.')[0]}.onmicrosoft.com"]),
            "default_domain": t.domain,
            "initial_domain": f"{t.domain.split('.')[0]}.onmicrosoft.com",
        }
    ]
    assert stored(t, "report_settings") == [{"display_concealed_names": False}]
    assert env.request_count("/beta/organization") == 1


def test_full_collection_request_count_is_exact_with_paging(env: GraphSimulator) -> None:
    t = register()
    env.page_size = 2
    env.clear_request_log()
    run = collect(t)
    assert run.status == "success", run.error
    pages = {
        "subscriptions": -(-len(directory.subscribed_skus(t)) // 2),
        "app_credentials": -(-len(directory.applications(t)) // 2),
        "organization": 1,
        "report_settings": 1,  # one entity, never paged
    }
    assert set(pages) == set(JSON_KEYS)
    assert pages["subscriptions"] >= 2 and pages["app_credentials"] == 4
    assert run.requests == CSV_REQUESTS + sum(pages.values()) == 38 + sum(pages.values())
    # Every page after the first came from the nextLink, with no query option re-applied or lost.
    assert env.request_count("/v1.0/applications") == pages["app_credentials"]
    assert len(stored(t, "app_credentials")) == sum(
        len(a["keyCredentials"]) + len(a["passwordCredentials"]) for a in directory.applications(t)
    )


def test_health_timer_collects_only_service_health_across_pages(env: GraphSimulator) -> None:
    t = register()
    env.page_size = 2
    env.clear_request_log()
    run = collect(t, "health")
    assert run.status == "success", run.error
    assert run.schedule == "health"
    assert [r.report for r in run.reports] == list(datasets("health")) == ["service_health"]
    items = env.service_health(t.tenant_id)
    assert run.requests == -(-len(items) // 2) == 4
    paths = [r.path for r in env.request_log if r.method == "GET" and "/v1.0/" in r.path]
    assert paths == ["/v1.0/admin/serviceAnnouncement/healthOverviews"] * 4
    rows = stored(t, "service_health")
    assert rows == expected_health_rows(items)
    assert {r["classification"] for r in rows} >= {"incident", "advisory"}
    assert {r["is_resolved"] for r in rows} >= {True, False}
    assert snapshots.current(t.tenant_id, "email_activity") is None
    assert runs.recent(t.tenant_id)[0]["Schedule"] == "health"


def test_centreon_upstream_mock_is_stored_as_expected_rows(env: GraphSimulator) -> None:
    t = register()
    env.set_service_health(t.tenant_id, centreon_mock_health())
    assert collect(t, "health").status == "success"
    rows = stored(t, "service_health")
    assert rows == expected_health_rows(centreon_mock_health())
    assert [(r["service"], r["status"], r["issue_id"], r["classification"]) for r in rows] == [
        ("Exchange Online", "serviceRestored", "", ""),
        ("Microsoft Teams", "serviceDegradation", "ABCDEF-01", "Incident"),
        ("Microsoft Teams", "serviceDegradation", "ABCDEF-02", "advisory"),
        ("SharePoint Online", "serviceOperational", "", ""),
    ]
    assert rows[1]["title"] == " \U0001f600 \u6f22 with special fields"
    assert rows[1]["start"] == "2025-09-30T07:15:00Z" and rows[1]["end"] == "" and rows[1]["is_resolved"] is False


# centreon-plugins tests/cloud/microsoft/office365/management/servicestatus.robot: extra options -> expected regexp
UPSTREAM_CASES = [
    ({}, r"^CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation'"),
    (
        {"warning-status": "%{status} =~ /serviceDegradation/i", "critical-status": ""},
        r"^WARNING: Service 'Microsoft Teams' status is 'serviceDegradation'",
    ),
    ({"include-service-name": "SharePoint"}, r"OK: Service 'SharePoint Online' status is 'serviceOperational'"),
    ({"exclude-service-name": "Teams"}, r"OK: All services are ok"),
    ({"include-classification": "Unknown"}, r"UNKNOWN: No services found\."),
    (
        {"exclude-classification": "Incident"},
        r"CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' "
        r"\[issue: advisory, ABCDEF-02, 2025-09-30T07:15:00Z, un deuxieme\]",
    ),
]


def test_upstream_service_status_cases_through_simulator_collector_and_storage(env: GraphSimulator) -> None:
    t = register()
    env.set_service_health(t.tenant_id, centreon_mock_health())
    assert collect(t, "health").status == "success"
    for options, expected in UPSTREAM_CASES:
        result, _ = answer("management", "service-status", {"tenant": t.tenant_id, **options})
        assert re.search(expected, result.text().strip()), (options, result.text())
    # And the output Centreon was seen to print for this data, byte for byte (the raw "Incident" and the
    # emoji/CJK title included).
    result, _ = answer("cloud::microsoft::office365::management::plugin", "service-status", {"tenant": t.tenant_id})
    assert result.text() == (
        "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, ABCDEF-01, "
        "2025-09-30T07:15:00Z,  \U0001f600 \u6f22 with special fields] - Service 'Microsoft Teams' status is "
        "'serviceDegradation' [issue: advisory, ABCDEF-02, 2025-09-30T07:15:00Z, un deuxieme] \n"
    )


def test_pascal_case_and_unknown_enum_values(env: GraphSimulator) -> None:
    t = register()
    env.pascal_case_enums, env.unknown_enum_value = True, True
    try:
        assert collect(t, "health").status == "success"
    finally:
        env.pascal_case_enums, env.unknown_enum_value = False, False
    rows = stored(t, "service_health")
    # Stored as served: PascalCase stays PascalCase, and an enum value newer than the SDK stays readable
    # (the SDK's models would have turned it into None).
    served = render(env.service_health(t.tenant_id), expand_issues=True, pascal_case=True, unknown_enum=True)
    assert rows == expected_health_rows(served)
    assert rows[-1]["status"] == UNKNOWN_ENUM_VALUE


def test_repeated_next_link_fails_instead_of_looping(env: GraphSimulator) -> None:
    t = register()
    env.page_size, env.repeat_next_link = 2, True
    run = collect(t, "health")
    health = run.reports[0]
    assert health.status == "failed" and "same @odata.nextLink twice" in health.error
    assert run.requests == 2  # page 1, then page 2 whose nextLink is itself
    assert snapshots.current(t.tenant_id, "service_health") is None


def test_429_on_page_two_fails_the_dataset_and_keeps_the_previous_snapshot(env: GraphSimulator) -> None:
    t = register()
    env.page_size = 2
    assert collect(t, "health").status == "success"
    before = stored(t, "service_health")
    # Four 429s outlast the SDK's three retries; only page 2 is targeted.
    env.add_fault(Fault("throttle", tenant=t.tenant_id, path_contains="healthOverviews", page=2, times=4))
    run = collect(t, "health")
    health = run.reports[0]
    assert health.status == "failed" and "throttled" in health.error and "429" in health.error
    # Three real waits of 1 s before the SDK's three retries; the fourth 429 was never waited.
    assert run.requests == 1 + 4 and run.throttled == 4 and round(run.throttle_wait_s) == 3
    assert stored(t, "service_health") == before
    assert runs.last_status(t.tenant_id, "service_health")["LastStatus"] == "failed"


def test_skiptoken_fault_hits_json_pages_after_the_first(env: GraphSimulator) -> None:
    t = register()
    env.page_size = 2
    env.add_fault(Fault("throttle", tenant=t.tenant_id, path_contains="$skiptoken", times=1))
    run = collect(t, "health")
    assert run.status == "success", run.error
    assert run.throttled == 1 and run.requests == 4 + 1


def test_concealed_names_detected_for_every_workload(env: GraphSimulator) -> None:
    t = register(390)
    run = collect(t)
    assert run.status == "success", run.error
    for key in CSV_KEYS:
        assert runs.last_status(t.tenant_id, key)["Concealed"] is True, key
    sites = stored(t, "sharepoint_usage")
    assert {r["Site Id"] for r in sites} == {"00000000-0000-0000-0000-000000000000"}
    assert {r["Site URL"] for r in sites} == {""}
    onedrive = stored(t, "onedrive_usage")
    assert all(len(r["Site URL"]) == 32 and len(r["Owner Principal Name"]) == 32 for r in onedrive)
    assert stored(t, "report_settings") == [{"display_concealed_names": True}]


def test_used_chrome_os_with_its_double_space_is_parsed() -> None:
    t = SampleTenant.generate(301, 60)
    body = ("\ufeff" + "".join(report_csv(t, TEAMS_DEVICE_USAGE.function, "D7"))).encode()
    assert b"Used  Chrome OS" in body
    columns = {**TEAMS_DEVICE_USAGE.columns, "Used Chrome OS": Kind.TEXT}
    parsed = ParsedReport(dataclasses.replace(TEAMS_DEVICE_USAGE, columns=columns), body)
    values = [row[-1] for row in parsed]
    raw = [r["Used  Chrome OS"] for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]
    assert values == raw and set(values) <= {"Yes", "No"}


def moving(output: str) -> str:
    """Perfdata in seconds from now (credential expiry, data age) moves on between two calls a second apart."""
    return re.sub(r"=\d+s;", "=Ns;", output)


def test_every_mode_answers_over_http_and_cli_from_collected_data(
    env: GraphSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    import azure.functions as func

    from functions.checks import check
    from shared.checks.modes import MODES
    from shared.cli.main import main

    t = register()
    assert collect(t).status == collect(t, "health").status == "success"
    for plugin, mode in sorted(MODES):
        req = func.HttpRequest(
            "GET", f"/api/checks/{plugin}/{mode}", params={"tenant": t.domain},
            route_params={"plugin": plugin, "mode": mode}, body=b"",
        )  # fmt: skip
        resp = check(req)
        body = resp.get_body().decode()
        assert resp.status_code == 200, (plugin, mode, body)
        assert resp.headers["X-Nagios-Exit-Code"] in {"0", "1", "2"}, (plugin, mode, body)
        assert re.match(r"^(OK|WARNING|CRITICAL): |^List ", body), (plugin, mode, body)
        # The CLI with Centreon's spelling gives the same answer from the same data.
        full = "o365mon::health::plugin" if plugin == "health" else f"cloud::microsoft::office365::{plugin}::plugin"
        code = main(["check", f"--plugin={full}", f"--mode={mode}", f"--tenant={t.domain}"])
        assert (code, moving(capsys.readouterr().out)) == (int(resp.headers["X-Nagios-Exit-Code"]), moving(body))


def test_non_json_page_and_unreachable_graph_are_named_as_what_they_are(
    env: GraphSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = register()
    env.add_fault(Fault("not_csv", tenant=t.tenant_id, path_contains="subscribedSkus", times=1))
    run = collect(t)
    subs = next(r for r in run.reports if r.report == "subscriptions")
    assert subs.status == "failed" and "not JSON" in subs.error and "Bad gateway" in subs.error
    assert run.status == "partial"  # the other datasets were collected

    monkeypatch.setenv("GRAPH_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    run = collect(t)
    assert run.status == "failed"
    assert all("cannot reach Graph" in r.error for r in run.reports), [r.error for r in run.reports]
