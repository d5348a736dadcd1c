"""Partner discovery (GDAP) end to end: simulator (real azure-identity + msgraph-sdk) -> graph.py -> Azurite."""

from __future__ import annotations

import asyncio

import pytest

from devtools.simulator.graph_json import gdap_relationship
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant, tenant_id_for_seed
from shared.cli.main import main
from shared.store import discovery, storage, tenants
from tests.support import use_simulator

CLIENT_ID = "dddddddd-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "partner-s3cr3t"
PARTNER = SampleTenant.generate(401, 5)
# Customer tenants need not be served: discovery only reads the partner tenant.
TWO, RENAMED, EXPIRED, PENDING, MLT_ONLY, MLT_AND_OWN = (tenant_id_for_seed(s) for s in range(411, 417))


def relationships() -> list[dict]:
    return [
        gdap_relationship(TWO, "Two Relationships Ltd", "active", "readers-two"),
        gdap_relationship(TWO, "Two Relationships Ltd", "active", "admins-two"),
        gdap_relationship(TWO, "Two Relationships Ltd", "expired", "old-two"),
        gdap_relationship(RENAMED, "Name At Creation Ltd", "active"),
        gdap_relationship(EXPIRED, "Expired Ltd", "expired"),
        gdap_relationship(PENDING, "Pending Ltd", "approvalPending"),
        gdap_relationship(PENDING, "Pending Ltd", "created", "created-pending"),
        gdap_relationship(PENDING, "Pending Ltd", "terminated", "terminated-pending"),
        gdap_relationship(MLT_ONLY, "Transition Only Ltd", "active", f"MLT_{MLT_ONLY[:8]}"),
        gdap_relationship(MLT_AND_OWN, "Both Ltd", "active", f"MLT_{MLT_AND_OWN[:8]}"),
        gdap_relationship(MLT_AND_OWN, "Both Ltd", "active", "own-both"),
    ]


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve([PARTNER], {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    sim.reset()
    sim.page_size = 2  # every collection takes several pages
    sim.set_relationships(PARTNER.tenant_id, relationships(), {RENAMED: "Renamed Today Ltd"})
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    monkeypatch.setenv("O365_TENANT_ID", PARTNER.tenant_id)
    # Tenants another test of this module added by discovery would show as gone.
    table = storage.table(tenants.TABLE)
    for e in list(table.query_entities("Source eq @s", parameters={"s": tenants.DISCOVERED})):
        table.delete_entity(partition_key=e["PartitionKey"], row_key=e["RowKey"])
    return sim


def discover_lines(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["tenants", "discover", *args]) == 0
    return capsys.readouterr().out.splitlines()


def stored(tenant_id: str) -> tenants.Tenant:
    tenant = tenants.load(tenant_id)
    assert tenant is not None, f"{tenant_id} is not stored"
    return tenant


def test_discovery_keeps_active_relationships_drops_mlt_and_groups_by_customer(env, capsys) -> None:
    tenants.add(tenants.Tenant(RENAMED, "Renamed By Hand"))
    found = {c.tenant_id: c for c in discovery.discover()}
    assert set(found) == {TWO, RENAMED, MLT_AND_OWN}
    assert (found[TWO].state, found[TWO].relationships, found[TWO].name) == ("new", 2, "Two Relationships Ltd")
    assert (found[MLT_AND_OWN].relationships, found[MLT_AND_OWN].name) == (1, "Both Ltd")
    # The name Graph keeps current (delegatedAdminCustomers), not the relationship's copy.
    assert (found[RENAMED].state, found[RENAMED].name) == ("known", "Renamed Today Ltd")
    lines = discover_lines(capsys)
    assert lines == [
        f"{MLT_AND_OWN}  new    Both Ltd",
        f"{TWO}  new    Two Relationships Ltd",
        f"{RENAMED}  known  Renamed Today Ltd",
        "2 new, 1 known, 0 gone; --add to add the new ones",
    ]
    # Both collections were read page by page.
    # 11 relationships and 3 customers at 2 per page, read twice (discover(), then the CLI).
    assert env.request_count("/delegatedAdminRelationships") == 2 * 6
    assert env.request_count("/delegatedAdminCustomers") == 2 * 2


def test_dry_run_writes_nothing(env, capsys) -> None:
    before = [t.to_entity() for t in tenants.list_all()]
    lines = discover_lines(capsys, "--add", "--dry-run")
    assert f"would add {TWO} (Two Relationships Ltd), disabled" in lines
    assert f"would add {MLT_AND_OWN} (Both Ltd), disabled" in lines
    assert [t.to_entity() for t in tenants.list_all()] == before
    assert tenants.load(TWO) is None


def test_add_adds_disabled_and_gone_ones_are_marked_never_deleted(env, capsys) -> None:
    lines = discover_lines(capsys, "--add")
    assert f"add {TWO} (Two Relationships Ltd), disabled" in lines
    two = stored(TWO)
    assert (two.enabled, two.source, two.name, two.removed) == (
        False,
        tenants.DISCOVERED,
        "Two Relationships Ltd",
        "",
    )
    assert discover_lines(capsys, "--add")[-1] == "nothing to change"
    # TWO's active relationships end: it is gone, marked, and kept.
    env.set_relationships(PARTNER.tenant_id, [r for r in relationships() if r["customer"]["tenantId"] != TWO])
    lines = discover_lines(capsys, "--add")
    assert f"{TWO}  gone   Two Relationships Ltd" in lines
    assert f"mark {TWO} (Two Relationships Ltd) removed" in lines
    two = stored(TWO)
    assert two.removed.endswith("Z") and not two.enabled
    assert main(["tenants", "list"]) == 0
    assert f"(GDAP)  (removed {two.removed})" in capsys.readouterr().out
    # It comes back: the mark is cleared.
    env.set_relationships(PARTNER.tenant_id, relationships())
    assert f"clear the removed mark of {TWO} (Two Relationships Ltd)" in discover_lines(capsys, "--add")
    assert stored(TWO).removed == ""


def test_add_enabled_and_partner_option(env, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("O365_TENANT_ID")
    assert main(["tenants", "discover"]) == 2
    assert "O365_TENANT_ID or give --partner" in capsys.readouterr().err
    lines = discover_lines(capsys, "--add", "--enabled", "--partner", PARTNER.domain)
    assert f"add {MLT_AND_OWN} (Both Ltd), enabled" in lines
    assert stored(MLT_AND_OWN).enabled


def test_missing_permission_is_reported(env, capsys) -> None:
    env.add_fault(Fault(kind="forbidden", path_contains="delegatedAdminRelationships"))
    assert main(["tenants", "discover", "--add"]) == 2
    err = capsys.readouterr().err
    assert "delegatedAdminRelationships" in err and "403" in err
    assert tenants.load(TWO) is None


def test_timer_adds_by_policy(env, monkeypatch: pytest.MonkeyPatch) -> None:
    from devtools.runner import LocalTimerRequest
    from functions.collect import discover_tenants

    monkeypatch.setenv("DISCOVER_ADD_ENABLED", "true")
    discover_tenants(LocalTimerRequest())
    assert stored(TWO).enabled and stored(TWO).source == tenants.DISCOVERED
    env.set_relationships(PARTNER.tenant_id, [])
    discover_tenants(LocalTimerRequest())
    assert stored(TWO).removed


def test_timer_is_registered_only_when_scheduled(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import azure.functions as func

    import functions.collect as module

    def timers() -> set[str]:
        importlib.reload(module)
        app = func.FunctionApp()
        app.register_functions(module.bp)
        return {f.get_function_name() for f in app.get_functions()}

    monkeypatch.delenv("DISCOVER_SCHEDULE", raising=False)
    assert "discover_tenants" not in timers()
    monkeypatch.setenv("DISCOVER_SCHEDULE", "0 0 3 * * *")
    assert "discover_tenants" in timers()
    monkeypatch.delenv("DISCOVER_SCHEDULE")
    importlib.reload(module)


def test_tenants_list_shows_a_missing_admin_consent(env, capsys) -> None:
    from shared.collect.collector import collect_all

    env.page_size = 100
    tenants.add(tenants.Tenant(PARTNER.tenant_id, "Partner"))
    env.add_fault(Fault("no_consent", tenant=PARTNER.tenant_id, times=None))
    asyncio.run(collect_all(PARTNER.tenant_id, schedule="health"))
    assert main(["tenants", "list"]) == 0
    url = f"{env.login_endpoint}/{PARTNER.tenant_id}/adminconsent?client_id={CLIENT_ID}"
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(PARTNER.tenant_id))
    assert line.endswith(f"  (no admin consent: {url})")
    env.clear_faults()
    asyncio.run(collect_all(PARTNER.tenant_id, schedule="health"))
    assert main(["tenants", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(PARTNER.tenant_id))
    assert "no admin consent" not in line
