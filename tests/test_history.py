"""History: each real collection appends the day's aggregates per tenant, once per report day, within retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.collect.collector import collect_all
from shared.store import history, snapshots, storage, tenants
from tests.support import use_simulator

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-0000000075bb"
SECRET = "history-secret"
SAMPLE = [SampleTenant.generate(seed, 80) for seed in (7511, 7512, 7513)]


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve(SAMPLE, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    sim.reset()
    return sim


def collect(t: SampleTenant, schedule: str = "reports") -> None:
    if tenants.load(t.tenant_id) is None:
        tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
    asyncio.run(collect_all(t.tenant_id, schedule=schedule))


def test_a_collection_records_the_days_figures_from_what_it_stored(env) -> None:
    t = SAMPLE[0]
    collect(t)
    collect(t, "health")
    rows = {r["RowKey"]: r for r in history.rows(t.tenant_id)}
    pointers = snapshots.current_all(t.tenant_id)
    email = pointers["email_activity"]
    report_day = rows[email.refresh_date]
    assert report_day["ActiveExchange"] == email.summaries["exchange:email-activity"]["active"] > 0
    assert report_day["ActiveTeams"] == pointers["teams_user_activity"].summaries["teams:users-activity"]["active"]
    used = sum(pointers["mailbox_usage"].summaries["exchange:mailbox-usage"]["sums"].values())
    assert report_day["MailboxStorageBytes"] == used > 2**31  # an Int64 property
    today = rows[pointers["subscriptions"].collected_at[:10]]
    skus = list(snapshots.load_rows(pointers["subscriptions"]))
    assert history.licences_of(today) == {r[1]: [r[4], r[8]] for r in skus}
    assert today["DirectoryObjects"] > 0 and "OpenIncidents" in today and "OpenAdvisories" in today


def test_nothing_is_written_when_the_refresh_date_did_not_move(env) -> None:
    t = SAMPLE[1]
    collect(t)
    first = {r["RowKey"]: r["Timestamp"] for r in _entities(t.tenant_id)}
    collect(t)  # same simulated report day, same licences
    again = {r["RowKey"]: r["Timestamp"] for r in _entities(t.tenant_id)}
    assert again == first and len(first) >= 1


def _entities(tenant_id: str) -> list[dict]:
    found = storage.table(history.TABLE).query_entities("PartitionKey eq @t", parameters={"t": tenant_id})
    return [{"RowKey": e["RowKey"], "Timestamp": e.metadata["timestamp"]} for e in found]


def test_rows_past_the_retention_are_removed_when_a_new_day_is_written(env, monkeypatch, tenant_id) -> None:
    monkeypatch.setenv("HISTORY_RETENTION_DAYS", "30")
    today = dt.datetime.now(dt.UTC).date()
    old, kept = (today - dt.timedelta(days=45)).isoformat(), (today - dt.timedelta(days=10)).isoformat()
    assert history.record(tenant_id, {old: {"DirectoryObjects": 1}, kept: {"DirectoryObjects": 2}}) == 2
    assert [r["RowKey"] for r in history.rows(tenant_id)] == [kept]  # the 45-day-old one went at once
    assert history.record(tenant_id, {kept: {"DirectoryObjects": 2}}) == 0
    assert history.record(tenant_id, {today.isoformat(): {"DirectoryObjects": 3, "OpenIncidents": 0}}) == 1
    series = history.series(tenant_id, "directory-objects")
    assert series["dates"] == [kept, today.isoformat()] and series["series"][0]["values"] == [2, 3]
    assert series["x"][1] - series["x"][0] == 10 * 86400


def test_licence_series_have_one_line_per_sku_and_figure(env, tenant_id) -> None:
    days = {
        "2026-10-31": {history.LICENCES: json.dumps({"E3": [10, 7]})},
        "2026-11-30": {history.LICENCES: json.dumps({"E3": [12, 11], "E5": [5, 1]})},
    }
    history.record(tenant_id, days)
    series = history.series(tenant_id, "licences")
    assert {s["label"]: s["values"] for s in series["series"]} == {
        "E3 enabled": [10, 12], "E3 consumed": [7, 11], "E5 enabled": [None, 5], "E5 consumed": [None, 1],
    }  # fmt: skip
