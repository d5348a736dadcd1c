"""Licences into IT Glue against the IT Glue simulator: one "Microsoft Licenses" type for the account, one asset
per SKU and organization, read-merge-write (people's edits and fields survive), no write when nothing changed."""

from __future__ import annotations

import pytest

from devtools.itglue import ItGlueFault, ItGlueSimulator
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs.itglue import ItGlueClient, RateBudget
from shared.docs.itglue_licences import (
    FIELDS,
    TYPE_NAME,
    account_licence_type,
    forget_licence_types,
    sync_licences,
)

TENANT = "2b0f4c2e-0000-4000-8000-00000000abcd"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
BP = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
WRITES = ("POST", "PATCH", "DELETE")


@pytest.fixture
def sim():
    with ItGlueSimulator() as s:
        yield s


@pytest.fixture
def client(sim):
    forget_licence_types()
    with ItGlueClient(base_url=sim.url, api_key=sim.api_key, budget=RateBudget()) as c:
        yield c


def sku(sku_id: str, part: str, enabled: int, consumed: int, status: str = "Enabled") -> dict:
    return {"skuId": sku_id, "skuPartNumber": part, "capabilityStatus": status, "consumedUnits": consumed,
            "enabled": enabled}  # fmt: skip


def info(*skus: dict) -> DirectoryInfo:
    return DirectoryInfo(tenant_id=TENANT, display_name="Contoso", skus=list(skus))


USERS = [
    DirectoryUser(id="u1", given_name="Ann", surname="Lee", sku_ids=[E3]),
    DirectoryUser(id="u2", given_name="Bob", surname="Ray", sku_ids=[E3, BP]),
    DirectoryUser(id="u3", given_name="Cy", surname="Unsynced", sku_ids=[BP]),  # no IT Glue contact
]


def assets(sim, org: int) -> dict[str, dict]:
    """The organization's licence assets by SKU part number trait, as IT Glue shows them."""
    return {a["traits"]["sku-part-number"]: a for a in sim.flexible_assets() if a["organization-id"] == org}


def writes(sim) -> dict[str, int]:
    return {k: v for k, v in sim.request_counts().items() if k.startswith(WRITES)}


def test_type_is_created_once_and_one_asset_per_sku_with_counts_and_contact_tags(sim, client) -> None:
    org, other = sim.seed_organization("Contoso"), sim.seed_organization("Fabrikam")
    ann = sim.seed_contact(org, first_name="Ann", last_name="Lee")
    bob = sim.seed_contact(org, first_name="Bob", last_name="Ray")
    out = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 12)),
                        users=USERS, contact_ids={"u1": str(ann), "u2": bob})  # fmt: skip
    assert (out.created, out.updated, out.unchanged, out.errors, out.type_created) == (2, 0, 0, [], True)
    sync_licences(client, organization_id=other, info=info(sku(E3, "SPE_E3", 5, 0)), users=[], contact_ids={})
    assert sim.request_counts()["POST /flexible_asset_types"] == 1  # one type for the account
    assert [t for t in client.list_flexible_asset_types() if t.get("name") == TYPE_NAME][0].id == out.type_id
    e3, bp = assets(sim, org)["SPE_E3"], assets(sim, org)["SPB"]
    assert e3["name"] == "SPE_E3" and e3["flexible-asset-type-name"] == "Microsoft Licenses"
    assert {k: e3["traits"][k] for k in ("sku-id", "status", "total", "assigned", "available", "tenant-id")} == {
        "sku-id": E3, "status": "Enabled", "total": 25, "assigned": 2, "available": 23, "tenant-id": TENANT,
    }  # fmt: skip
    assert e3["traits"]["assigned-users"] == sorted([ann, bob])  # the contacts of the users holding it
    assert bp["traits"]["assigned-users"] == [bob] and bp["traits"]["available"] == -2  # Cy has no contact
    assert list(assets(sim, other)) == ["SPE_E3"]


def test_a_second_run_with_no_change_writes_nothing(sim, client) -> None:
    org = sim.seed_organization("Contoso")
    ann = sim.seed_contact(org, first_name="Ann", last_name="Lee")
    tenant = info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 1))
    sync_licences(client, organization_id=org, info=tenant, users=USERS, contact_ids={"u1": ann})
    sim.clear_request_counts()
    out = sync_licences(client, organization_id=org, info=tenant, users=USERS, contact_ids={"u1": ann})
    assert (out.created, out.updated, out.unchanged) == (0, 0, 2)
    assert writes(sim) == {}
    # the type is known to the process since the first run: only the organization's assets are read
    assert sim.request_counts() == {"GET /flexible_assets": 1}


def test_a_persons_edits_and_fields_survive_while_microsoft_figures_are_updated(sim, client) -> None:
    # A person added a field to the type before the first sync (fields cannot be added through the API).
    extra = {"order": 20, "name": "Renewal date", "kind": "Date"}
    type_id = sim.seed_flexible_asset_type(TYPE_NAME, [*FIELDS, extra])
    org = sim.seed_organization("Contoso")
    sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 2)), users=[], contact_ids={})
    asset = assets(sim, org)["SPE_E3"]
    assert int(asset["flexible-asset-type-id"]) == type_id  # the person's type, found by name, not a second one
    client.merge_flexible_asset_traits(  # the person, in IT Glue: a friendly name and the renewal date
        flexible_asset_id=asset["id"], changes={"license-name": "Microsoft 365 E3", "renewal-date": "2027-03-01"}
    )
    out = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 30, 3)), users=[], contact_ids={})
    assert (out.updated, out.unchanged) == (1, 0)
    traits = assets(sim, org)["SPE_E3"]["traits"]
    assert (traits["license-name"], traits["renewal-date"]) == ("Microsoft 365 E3", "2027-03-01")
    assert (traits["total"], traits["assigned"], traits["available"]) == (30, 3, 27)
    assert "POST /flexible_asset_types" not in sim.request_counts()


def test_contact_tags_follow_assignments_and_a_vanished_sku_is_kept_with_zero_counts(sim, client) -> None:
    org = sim.seed_organization("Contoso")
    ann, bob = sim.seed_contact(org, first_name="Ann"), sim.seed_contact(org, first_name="Bob")
    ids = {"u1": ann, "u2": bob}
    sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 1)),
                  users=USERS, contact_ids=ids)  # fmt: skip
    moved = [DirectoryUser(id="u1", sku_ids=[]), DirectoryUser(id="u2", sku_ids=[E3])]
    out = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 1)), users=moved,
                        contact_ids=ids)  # fmt: skip
    assert (out.updated, out.vanished) == (2, [BP.lower()])
    now = assets(sim, org)
    assert now["SPE_E3"]["traits"]["assigned-users"] == [bob]
    gone = now["SPB"]["traits"]
    assert (gone["status"], gone["total"], gone["assigned"], gone["available"]) == ("Not in tenant", 0, 0, 0)
    assert gone["assigned-users"] == []  # nobody holds it any more
    again = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 1)), users=moved,
                          contact_ids=ids)  # fmt: skip
    assert (again.updated, again.unchanged, again.vanished) == (0, 2, [])


def test_a_refused_write_is_recorded_with_its_pointer_and_the_other_skus_go_on(sim, client) -> None:
    # A person made a field of the type required that the sync does not fill: IT Glue refuses the create.
    type_id = sim.seed_flexible_asset_type(
        TYPE_NAME, [*FIELDS, {"order": 20, "name": "Cost centre", "kind": "Text", "required": True}]
    )
    org = sim.seed_organization("Contoso")
    synced = sim.seed_flexible_asset(  # an asset IT Glue's own integration keeps: writes to it answer 422
        org, type_id, {"sku-id": BP, "sku-part-number": "SPB", "cost-centre": "IT", "total": 1}, synced=True
    )
    out = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 1)),
                        users=[], contact_ids={})  # fmt: skip
    assert (out.created, out.updated) == (0, 0)
    by_sku = {e.sku_id: e for e in out.errors}
    assert by_sku[E3].status == 422 and by_sku[E3].pointer == "/data/attributes/traits/cost-centre"
    assert by_sku[BP].status == 422 and by_sku[BP].pointer
    assert "licence SPE_E3: 422" in by_sku[E3].text() and "cost-centre" in by_sku[E3].text()
    assert [a["id"] for a in sim.flexible_assets()] == [str(synced)]


def test_a_type_without_a_sku_id_field_is_not_used_and_says_why(sim, client) -> None:
    sim.seed_flexible_asset_type(TYPE_NAME, [{"order": 1, "name": "License", "kind": "Text", "show_in_list": True}])
    org = sim.seed_organization("Contoso")
    out = sync_licences(client, organization_id=org, info=info(sku(E3, "SPE_E3", 1, 1)), users=[], contact_ids={})
    assert out.created == 0 and "has no 'SKU id' field" in out.errors[0].text()
    assert writes(sim) == {}


def test_lost_answers_to_creates_never_make_a_second_type_or_asset(sim, client) -> None:
    org = sim.seed_organization("Contoso")
    tenant = info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 1))
    # IT Glue commits both creates, then the connection drops before the answer (the crash that duplicates).
    sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/flexible_asset_types"))
    sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/flexible_assets"))
    first = sync_licences(client, organization_id=org, info=tenant, users=[], contact_ids={})
    assert first.created == 1 and [e.status for e in first.errors] == [0]  # the lost one: outcome unknown
    assert "may have been applied" in first.errors[0].text()
    second = sync_licences(client, organization_id=org, info=tenant, users=[], contact_ids={})
    assert (second.created, second.unchanged, second.errors) == (0, 2, [])  # found by its SKU id, not re-created
    assert sorted(a["traits"]["sku-part-number"] for a in sim.flexible_assets()) == ["SPB", "SPE_E3"]
    assert len(client.list_flexible_asset_types(name=TYPE_NAME)) == 1
    assert sim.request_counts()["POST /flexible_asset_types"] == 1  # the lost create was looked up, not re-sent


def test_a_blanked_licence_name_is_filled_again_and_a_renamed_one_kept(sim, client) -> None:
    org = sim.seed_organization("Contoso")
    tenant = info(sku(E3, "SPE_E3", 25, 2), sku(BP, "SPB", 10, 1))
    sync_licences(client, organization_id=org, info=tenant, users=[], contact_ids={})
    now = assets(sim, org)
    client.merge_flexible_asset_traits(flexible_asset_id=now["SPE_E3"]["id"], changes={}, remove=["license-name"])
    client.merge_flexible_asset_traits(flexible_asset_id=now["SPB"]["id"], changes={"license-name": "Business Premium"})
    out = sync_licences(client, organization_id=org, info=tenant, users=[], contact_ids={})
    assert (out.updated, out.unchanged) == (1, 1)
    assert {p: a["name"] for p, a in assets(sim, org).items()} == {"SPE_E3": "SPE_E3", "SPB": "Business Premium"}


def tenant_sync(sim, org: int, *skus: dict) -> dict[str, int]:
    """One tenant's licence sync as a matcher run makes it (its own client, the process's type cache); the IT Glue
    requests it made by endpoint."""
    sim.clear_request_counts()
    with ItGlueClient(base_url=sim.url, api_key=sim.api_key, budget=RateBudget()) as own:
        ltype = account_licence_type(own, create=True)
        out = sync_licences(own, organization_id=org, info=info(*skus), users=[], contact_ids={}, licence_type=ltype)
    assert out.errors == [] and out.created == len(skus)
    return sim.request_counts()


def test_the_type_is_read_once_per_process_not_once_per_tenant(sim, client) -> None:
    sim.seed_flexible_asset_type(TYPE_NAME, list(FIELDS))  # the account has the type already
    first = tenant_sync(sim, sim.seed_organization("Contoso"), sku(E3, "SPE_E3", 25, 2))
    second = tenant_sync(sim, sim.seed_organization("Fabrikam"), sku(E3, "SPE_E3", 5, 1))
    assert sum(first.values()) - sum(second.values()) == 2
    assert second == {"GET /flexible_assets": 1, "POST /flexible_assets": 1}


def test_a_type_deleted_between_two_syncs_is_created_again_exactly_once(sim, client) -> None:
    contoso, fabrikam = sim.seed_organization("Contoso"), sim.seed_organization("Fabrikam")
    tenant_sync(sim, contoso, sku(E3, "SPE_E3", 25, 2))
    (old,) = client.list_flexible_asset_types(name=TYPE_NAME)
    sim.delete_flexible_asset_type(int(old.id))  # a person deletes it in IT Glue; the process still has it cached
    used = tenant_sync(sim, fabrikam, sku(E3, "SPE_E3", 5, 1), sku(BP, "SPB", 3, 0))
    assert used["POST /flexible_asset_types"] == 1
    (new,) = client.list_flexible_asset_types(name=TYPE_NAME)
    assert new.id != old.id and {a["flexible-asset-type-id"] for a in sim.flexible_assets()} == {int(new.id)}
    assert sorted(assets(sim, fabrikam)) == ["SPB", "SPE_E3"]
    # The new type is cached in turn: the next tenant neither reads nor creates a type.
    again = tenant_sync(sim, contoso, sku(E3, "SPE_E3", 25, 2))
    assert again == {"GET /flexible_assets": 1, "POST /flexible_assets": 1}
    assert len(client.list_flexible_asset_types(name=TYPE_NAME)) == 1


def test_a_type_a_person_replaced_is_found_by_name_not_created_beside_it(sim, client) -> None:
    org = sim.seed_organization("Contoso")
    tenant_sync(sim, org, sku(E3, "SPE_E3", 25, 2))
    (old,) = client.list_flexible_asset_types(name=TYPE_NAME)
    sim.delete_flexible_asset_type(int(old.id))
    extra = {"order": 20, "name": "Renewal date", "kind": "Date"}
    theirs = sim.seed_flexible_asset_type(TYPE_NAME, [*FIELDS, extra])  # rebuilt by hand with one more field
    used = tenant_sync(sim, org, sku(E3, "SPE_E3", 25, 2))
    assert "POST /flexible_asset_types" not in used
    assert [a["flexible-asset-type-id"] for a in sim.flexible_assets()] == [theirs]
