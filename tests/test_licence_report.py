"""The licence report across tenants: current SKUs from the summaries, the change since the previous month from
the history, as JSON rows and as a CSV a spreadsheet reads back unchanged."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import pytest

from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.collect.collector import collect_all
from shared.insights import licences
from shared.store import history, snapshots, tenants
from tests.support import use_simulator

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-0000000075cc"
SECRET = "licence-secret"
PLAIN = SampleTenant.generate(7521, 40)
AWKWARD = SampleTenant.generate(7522, 40, display_name='=Fabrikam, "Retail"')


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve([PLAIN, AWKWARD], {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    sim.reset()
    return sim


def last_day_of_previous_month() -> str:
    return (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).isoformat()


def test_report_rows_with_the_change_since_the_previous_month_and_the_csv_reads_back(env) -> None:
    for t in (PLAIN, AWKWARD):
        tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
    asyncio.run(collect_all(PLAIN.tenant_id))  # a first collection: no previous month yet
    first = [r for r in licences.rows() if r["tenant_id"] == PLAIN.tenant_id]
    assert first and all(r["consumed_change"] is None and r["previous_month_date"] == "" for r in first)
    skus = {r[1]: r for r in snapshots.load_rows(snapshots.current(PLAIN.tenant_id, "subscriptions"))}
    sku = sorted(skus)[0]
    enabled, consumed = skus[sku][4], skus[sku][8]
    # Last month ended with 3 seats fewer consumed and 5 fewer enabled.
    history.record(
        PLAIN.tenant_id,
        {last_day_of_previous_month(): {history.LICENCES: json.dumps({sku: [enabled - 5, consumed - 3]})}},
    )
    for t in (PLAIN, AWKWARD):
        asyncio.run(collect_all(t.tenant_id))
    report = [r for r in licences.rows() if r["tenant_id"] in (PLAIN.tenant_id, AWKWARD.tenant_id)]
    row = next(r for r in report if r["tenant_id"] == PLAIN.tenant_id and r["sku"] == sku)
    assert (row["enabled"], row["consumed"], row["free"]) == (enabled, consumed, enabled - consumed)
    assert (row["enabled_change"], row["consumed_change"]) == (5, 3)
    assert row["previous_month_date"] == last_day_of_previous_month()
    assert {r["sku"] for r in report if r["tenant_id"] == PLAIN.tenant_id} == set(skus)
    # Stable order: by tenant name, tenant id, then SKU.
    keys = [(r["tenant"].casefold(), r["tenant_id"], r["sku"]) for r in licences.rows()]
    assert keys == sorted(keys)

    text = licences.to_csv(report)
    assert text.startswith(",".join(licences.COLUMNS) + "\r\n")
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(back) == len(report)
    awkward = [b for b in back if b["tenant_id"] == AWKWARD.tenant_id]
    assert awkward and all(b["tenant"] == "'" + AWKWARD.display_name for b in awkward)  # quoted, not a formula
    assert '"\'=Fabrikam, ""Retail"""' in text
    plain = next(b for b in back if b["tenant_id"] == PLAIN.tenant_id and b["sku"] == sku)
    assert plain["consumed_change"] == "3" and plain["free"] == str(enabled - consumed)
