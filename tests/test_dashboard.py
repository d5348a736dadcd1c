"""The console's dashboard: summaries written at the end of each real collection (simulator -> collector ->
Azurite), computed by the same engine as a poller's check, read back in one query, sorted and filtered."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.checks.service import answer
from shared.collect.collector import collect_all
from shared.insights import dashboard, summary
from shared.store import summaries, tenants
from tests.support import use_simulator

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-0000000075aa"
SECRET = "dashboard-secret"
GOOD = [SampleTenant.generate(seed, 60) for seed in (7501, 7502)]
WRONG_SECRET = SampleTenant.generate(7503, 30)
NO_CONSENT = SampleTenant.generate(7504, 30)
NO_HEALTH_PERMISSION = SampleTenant.generate(7505, 30)
ALL = [*GOOD, WRONG_SECRET, NO_CONSENT, NO_HEALTH_PERMISSION]


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve(ALL, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture(scope="module")
def collected(sim: GraphSimulator, azurite) -> dict[str, SampleTenant]:
    """Every tenant collected once on both schedules (module-wide: the tests only read)."""
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("AzureWebJobsStorage", azurite.connection_string)
        use_simulator(mp, sim, CLIENT_ID, SECRET)
        mp.setenv("DASHWRONG_CLIENT_ID", CLIENT_ID)
        mp.setenv("DASHWRONG_CLIENT_SECRET", "not-the-secret")
        from shared.store import storage

        storage.reset_caches()
        sim.reset()
        sim.add_fault(Fault("no_consent", tenant=NO_CONSENT.tenant_id, times=None))
        sim.set_roles(NO_HEALTH_PERMISSION.tenant_id, {"Reports.Read.All", "Organization.Read.All"})
        for t in ALL:
            prefix = "DASHWRONG" if t is WRONG_SECRET else ""
            tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain], credential_prefix=prefix))
        for t in ALL:
            asyncio.run(collect_all(t.tenant_id))
            asyncio.run(collect_all(t.tenant_id, schedule="health"))
        yield {t.tenant_id: t for t in ALL}
    finally:
        sim.reset()
        mp.undo()


def mine(board: dict) -> dict[str, dict]:
    return {r["tenant_id"]: r for r in board["rows"] if r["tenant_id"] in {t.tenant_id for t in ALL}}


def test_each_check_on_the_dashboard_is_what_a_poller_gets_and_the_failing_tenants_say_why(
    collected, storage_env
) -> None:
    rows = mine(dashboard.build(dashboard.Query.from_params({})))
    assert set(rows) == set(collected)
    for t in GOOD:
        row, page = rows[t.tenant_id], dashboard.tenant_page(t.tenant_id)
        assert page is not None
        assert row["name"] == t.display_name and t.domain in row["domains"]
        assert row["consent"] == "granted" and row["last_success"] and 0 <= row["age_s"] < 600
        for check in summary.CHECKS:
            if check.check_id == "data-freshness":
                continue  # ages move between the collection and this answer
            poller, _ = answer(check.plugin, check.mode, {"tenant": t.domain, **check.options})
            shown, full = row["checks"][check.check_id], page["checks"][check.check_id]
            assert (full["status"], full["output"]) == (poller.status, poller.short.rstrip(" "))
            assert shown["status"] == poller.status and full["output"].startswith(shown["output"])
    wrong = rows[WRONG_SECRET.tenant_id]
    assert wrong["worst"] == "CRITICAL" and wrong["last_success"] == "" and wrong["age_s"] is None
    status = wrong["checks"]["collection-status"]
    assert status["status"] == "CRITICAL" and "authentication failed" in status["output"]
    assert wrong["checks"]["licences"]["status"] == "UNKNOWN"
    assert "no data" in wrong["checks"]["licences"]["output"] and "authentication failed" in wrong["last_error"]
    assert wrong["consent"] == "unknown"
    no_consent = rows[NO_CONSENT.tenant_id]
    assert no_consent["consent"] == "missing" and "AADSTS65001" in no_consent["consent_detail"]
    partial = rows[NO_HEALTH_PERMISSION.tenant_id]
    assert partial["consent"] == "partial" and "ServiceHealth.Read.All" in partial["consent_detail"]
    assert partial["checks"]["service-status"]["status"] == "UNKNOWN"


def test_worst_status_over_the_chosen_checks_filter_and_sort(collected, storage_env) -> None:
    everything = mine(dashboard.build(dashboard.Query.from_params({})))
    only_licences = mine(dashboard.build(dashboard.Query.from_params({"checks": "licences,service-status"})))
    for tenant_id, row in only_licences.items():
        assert set(row["checks"]) == {"licences", "service-status"}
        expected = [everything[tenant_id]["checks"][c]["status"] for c in ("licences", "service-status")]
        assert row["worst"] == max(expected, key=lambda s: ("OK", "WARNING", "UNKNOWN", "CRITICAL").index(s))
    problems = mine(dashboard.build(dashboard.Query.from_params({"problems": "1"})))
    assert set(problems) == {t for t, r in everything.items() if r["worst"] != "OK"}
    assert WRONG_SECRET.tenant_id in problems
    by_status = [r for r in dashboard.build(dashboard.Query.from_params({"sort": "status"}))["rows"]]
    order = ("CRITICAL", "UNKNOWN", "WARNING", "OK")
    ranks = [order.index(r["worst"]) for r in by_status]
    assert ranks == sorted(ranks)
    names = [r["name"].casefold() for r in dashboard.build(dashboard.Query.from_params({"order": "desc"}))["rows"]]
    assert names == sorted(names, reverse=True)
    with pytest.raises(Exception, match="unknown check 'nope'"):
        dashboard.Query.from_params({"checks": "nope"})


def test_freshness_ages_at_render_when_collections_stop(collected, storage_env) -> None:
    t = GOOD[0]
    now = dt.datetime.now(dt.UTC)
    row = mine(dashboard.build(dashboard.Query.from_params({"checks": "data-freshness"}), now=now))[t.tenant_id]
    stored = summaries.read(t.tenant_id)
    head = summaries.board(stored or {})["head"]
    assert head["data_as_of"]
    as_of = dt.datetime.fromisoformat(head["data_as_of"]).replace(tzinfo=dt.UTC)
    later = as_of + dt.timedelta(hours=121)  # past the default critical report age (120 h)
    aged = mine(dashboard.build(dashboard.Query.from_params({"checks": "data-freshness"}), now=later))[t.tenant_id]
    assert aged["checks"]["data-freshness"]["status"] == "CRITICAL"
    assert "121.00 h old" in aged["checks"]["data-freshness"]["output"]
    assert aged["age_s"] > row["age_s"]


def test_a_health_run_updates_only_the_checks_of_what_it_collected(collected, storage_env) -> None:
    t = GOOD[1]
    before = summaries.read(t.tenant_id)
    time.sleep(1.1)  # timestamps are kept to the second
    asyncio.run(collect_all(t.tenant_id, schedule="health"))
    after = summaries.read(t.tenant_id)
    assert before is not None and after is not None

    def at(entity: dict, check_id: str) -> str:
        stored = summaries.check(entity, check_id)
        assert stored is not None
        return stored[2]

    for untouched in ("licences", "mailbox-quota", "app-credentials"):
        assert at(after, untouched) == at(before, untouched)
    for recomputed in ("service-status", "collection-status", "data-freshness"):
        assert at(after, recomputed) > at(before, recomputed)
    last_before, last_after = summaries.board(before)["last_success"], summaries.board(after)["last_success"]
    assert last_after["reports"] == last_before["reports"] and last_after["health"] > last_before["health"]


def test_tenant_page_has_every_check_with_its_long_output(collected, storage_env) -> None:
    t = GOOD[0]
    page = dashboard.tenant_page(t.tenant_id)
    assert page is not None
    assert [c for c in page["checks"]] == [c.check_id for c in summary.CHECKS]
    quota = page["checks"]["mailbox-quota"]
    poller, _ = answer(
        "exchange", "mailbox-usage", {"tenant": t.tenant_id, "filter-counters": "status", "verbose": "1"}
    )
    assert quota["long_output"].splitlines() == poller.long_lines and len(poller.long_lines) > 10
    assert {m["id"] for m in page["metrics"]} >= {"active-users", "licences", "mailbox-storage"}
    assert dashboard.tenant_page("00000000-0000-4000-8000-000000000000") is None


def _call(fn, url: str, route_params: dict | None = None, params: dict | None = None, role: str = "reader"):
    import azure.functions as func

    from devtools.dev_sign_in import principal_header

    headers = {"x-ms-client-principal": principal_header("Rita Reader", role)} if role else {}
    req = func.HttpRequest("GET", url, headers=headers, params=params or {}, route_params=route_params or {}, body=b"")
    return fn(req)


def test_json_routes_answer_readers_and_say_why_otherwise(collected, storage_env, monkeypatch) -> None:
    import json

    from functions import insights

    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    board = _call(insights.console_data_dashboard, "/api/console/data/dashboard", params={"problems": "1"})
    assert board.status_code == 200
    assert WRONG_SECRET.tenant_id in {r["tenant_id"] for r in json.loads(board.get_body())["rows"]}
    assert _call(insights.console_data_dashboard, "/api/console/data/dashboard", role="").status_code == 401
    bad = _call(insights.console_data_dashboard, "/api/console/data/dashboard", params={"checks": "nope"})
    assert bad.status_code == 400 and "unknown check" in json.loads(bad.get_body())["error"]
    t = GOOD[0]
    page = _call(insights.console_tenant, f"/api/console/tenants/{t.tenant_id}", {"tenant": t.tenant_id})
    assert page.status_code == 200 and t.display_name in page.get_body().decode()
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = _call(insights.console_data_tenant, f"/api/console/data/tenants/{unknown}", {"tenant": unknown})
    assert missing.status_code == 404 and "no summary" in json.loads(missing.get_body())["error"]
    hostile = _call(insights.console_data_tenant, "/api/console/data/tenants/a%2Fb", {"tenant": "a/b"})
    assert hostile.status_code == 400
    route = {"tenant": t.tenant_id, "metric": "active-users"}
    series = _call(insights.console_data_history, "/api/console/data/history/x/active-users", route)
    assert series.status_code == 200 and json.loads(series.get_body())["series"][0]["label"] == "Exchange"
    route["metric"] = "nope"
    assert _call(insights.console_data_history, "/api/console/data/history/x/nope", route).status_code == 404
    listing = _call(insights.console_data_licences, "/api/console/data/licences", params={"format": "csv"})
    assert listing.status_code == 200 and listing.mimetype == "text/csv"
    assert "attachment" in listing.headers["Content-Disposition"]
    assert (
        _call(insights.console_data_licences, "/api/console/data/licences", params={"format": "x"}).status_code == 400
    )


def test_a_poisoned_collection_message_shows_on_the_dashboard_with_its_reason(collected, storage_env) -> None:
    from shared.collect import fanout

    t = NO_HEALTH_PERMISSION
    fanout.record_poison(t.tenant_id, "reports", "Graph unreachable: connection refused", 5)
    row = mine(dashboard.build(dashboard.Query.from_params({"checks": "collection-status"})))[t.tenant_id]
    assert row["checks"]["collection-status"]["status"] == "CRITICAL"
    page = dashboard.tenant_page(t.tenant_id)
    assert page is not None and "moved to collect-poison" in page["checks"]["collection-status"]["output"]
    assert row["last_run_status"] == "failed" and "connection refused" in row["last_error"]
    assert row["name"] == t.display_name  # the rest of the summary stays
    fanout.clear_poison(t.tenant_id, "reports")
