"""One contract, two documentation backends: o365mon's own tables (Azurite) and IT Glue (the simulator, with
the ledger on Azurite). Every matching rule and every review action, through the real matcher run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.itglue import ItGlueSimulator
from shared.matching import contacts, review, state
from shared.matching.contacts import phone_key
from shared.store import tenants
from tests.support.docs_backends import Backend, itglue_backend, store_directory, sync, tables_backend, user


@pytest.fixture(scope="module")
def sim() -> Iterator[ItGlueSimulator]:
    with ItGlueSimulator() as s:
        yield s


@pytest.fixture(params=["tables", "itglue"])
def backend(request, storage_env, sim, monkeypatch) -> Backend:
    if request.param == "itglue":
        sim.reset()
        monkeypatch.setenv("DOCS_BACKEND", "itglue")
        return itglue_backend(sim)
    monkeypatch.delenv("DOCS_BACKEND", raising=False)
    return tables_backend()


def results(tenant_id: str) -> dict[str, dict]:
    return {r["user_id"]: r for r in state.load_results(tenant_id)}


def by_id(b: Backend, org_id: str) -> dict:
    return {c.id: c for c in b.store.contacts(org_id)}


def test_every_matching_rule(backend: Backend, tenant_id: str) -> None:
    b = backend
    org = b.add_org("Contoso Ltd")
    other = b.add_org("Contoso Pharmaceuticals")
    alias = b.add_contact(org, "A", "S", "asilva@contoso.com")
    upn = b.add_contact(org, "Robert", "Chen", "bo@contoso.com")
    name = b.add_contact(org, "CARA", "díaz", "cara@old.example", title="CFO")
    twins = [b.add_contact(org, "Dan", "Eve", f"dan{i}@old.example") for i in range(2)]
    foreign = b.add_contact(org, "Zed", "Zulu", "zed@other.example", title="Owner")
    users = [
        user("u-alias", "Ana", "Silva", "ana@contoso.com", proxy=["SMTP:ana@contoso.com", "smtp:ASilva@contoso.com"]),
        user("u-upn", "Bo", "Chen", upn="bo@contoso.com"),
        user("u-name", "Cara", "Diaz", "cara@contoso.com"),  # no job title: CFO stays
        user("u-amb", "Dan", "Eve", "dan@contoso.com"),
        user(
            "u-new",
            "Eli",
            "Fox",
            "eli@contoso.com",
            job_title="Engineer",
            business_phones=["+1 555 0100"],
            mobile_phone="+1 555 0199",
        ),  # fmt: skip
        user("u-gone", "Gil", "Hart", "gil@contoso.com"),
        user("u-guest", "Gus", "Tee", "gus@fabrikam.com", user_type="Guest"),
        user("u-nolic", "Ned", "Nolic", "ned@contoso.com", skus=[]),
    ]
    store_directory(tenant_id, "CONTOSO Limited", users)
    log = sync(tenant_id, b.store)
    assert (log.status, log.organization_status, log.organization_id) == ("success", "matched", org)
    assert b.store.organization(org).tenant_id == tenant_id and b.store.organization(other).tenant_id == ""
    r = results(tenant_id)
    assert {u: (r[u]["status"], r[u]["rule"]) for u in r} == {
        "u-alias": ("matched", "alias"),
        "u-upn": ("matched", "upn"),
        "u-name": ("matched", "name"),
        "u-amb": ("ambiguous", "name"),
        "u-new": ("created", ""),
        "u-gone": ("created", ""),
        "u-guest": ("skipped", "guest"),
        "u-nolic": ("skipped", "unlicensed"),
    }
    assert (r["u-alias"]["contact_id"], r["u-upn"]["contact_id"], r["u-name"]["contact_id"]) == (alias, upn, name)
    got = by_id(b, org)
    assert got[alias].link_user == "u-alias" and got[alias].link_rule == "alias"
    assert [e.lower() for e in got[alias].emails] == ["asilva@contoso.com", "ana@contoso.com"]  # merged, kept
    assert (got[name].first_name, got[name].last_name, got[name].title) == ("Cara", "Diaz", "CFO")
    assert all(got[t].link_user == "" for t in twins)  # ambiguous: nothing written
    new = got[r["u-new"]["contact_id"]]
    assert (new.first_name, new.last_name, new.title, new.link_source) == ("Eli", "Fox", "Engineer", "created")
    assert new.emails == ["eli@contoso.com"] and sorted(map(phone_key, new.phones)) == ["+15550100", "+15550199"]
    foreign_before = got[foreign]
    assert (log.counts["created"], log.counts["matched"], log.counts["ambiguous"]) == (2, 3, 1)

    # Nothing changed: the replay writes nothing and every record stays as it was.
    snapshot = by_id(b, org)
    if b.sim is not None:
        b.sim.clear_request_counts()
    again = sync(tenant_id, b.store)
    assert again.counts["created"] == again.counts["updated"] == 0
    assert by_id(b, org) == snapshot
    if b.sim is not None:
        assert b.writes() == 0

    # Disabled and removed users: their contacts are marked inactive, never deleted; the others untouched.
    users = [u for u in users if u.id != "u-gone"]
    next(u for u in users if u.id == "u-name").account_enabled = False
    store_directory(tenant_id, "CONTOSO Limited", users)
    log = sync(tenant_id, b.store)
    r = results(tenant_id)
    gone_id = next(c.id for c in snapshot.values() if c.link_user == "u-gone")
    assert r["u-gone"]["status"] == contacts.REMOVED and r["u-gone"]["contact_id"] == gone_id
    got = by_id(b, org)
    assert got[gone_id].active is False and got[name].active is False and got[name].deactivated_by_sync
    assert got[foreign] == foreign_before and got[foreign].active  # not created or linked: never changed
    assert len(got) == len(snapshot)

    # Enabled again: the integration reactivates what it deactivated.
    next(u for u in users if u.id == "u-name").account_enabled = True
    store_directory(tenant_id, "CONTOSO Limited", users)
    sync(tenant_id, b.store)
    got = by_id(b, org)
    assert got[name].active is True and not got[name].deactivated_by_sync and got[gone_id].active is False


@pytest.fixture
def reviewed(backend: Backend, tenant_id: str) -> tuple[Backend, str, str, str]:
    fab = backend.add_org("Fabrikham Inc")
    other = backend.add_org("Other Corp")
    c1 = backend.add_contact(fab, "Ana", "Silva", "ana@fab.com", title="Boss")
    users = [user("u1", "Ana", "Silva", "ana@fab.com", job_title="CEO", business_phones=["+1 1"])]
    store_directory(tenant_id, "Fabrikam", users)
    tenants.add(tenants.Tenant(tenant_id=tenant_id, display_name="Fabrikam"))
    return backend, fab, other, c1


def org_item(tenant_id: str, b: Backend) -> dict:
    return next(i for i in review.list_items(tenant_id=tenant_id, store=b.store) if i["kind"] == "organization")


def test_every_review_action(reviewed, tenant_id: str) -> None:
    b, fab, other, c1 = reviewed
    t = tenant_id
    sync(t, b.store)
    item = org_item(t, b)
    best = item["suggestions"][0]
    assert item["status"] == "suggested" and (best["org_id"], best["name"]) == (fab, "Fabrikham Inc")
    # accept the suggestion
    review.accept(t)
    sync(t, b.store)
    item = org_item(t, b)
    assert (item["status"], item["org_id"], item["rule"], item["organization_name"]) == (
        "matched", fab, "link", "Fabrikham Inc"
    )  # fmt: skip
    # compare a contact with its user: the sync brought the title over, nothing differs any more
    out = review.compare(t, c1, store=b.store)
    assert out["differences"] == [] and out["contact"]["title"] == "CEO" and out["user"]["id"] == "u1"
    # match to another organization: the old link goes
    review.match_to(t, other, store=b.store)
    sync(t, b.store)
    assert org_item(t, b)["org_id"] == other and b.store.organization(fab).tenant_id == ""
    assert b.store.organization(other).tenant_id == t
    with pytest.raises(review.ReviewError):
        review.match_to(t, "999999" if b.sim else "nope", store=b.store)
    # ignore (kept across syncs), then unignore
    review.ignore(t)
    sync(t, b.store)
    sync(t, b.store)
    assert org_item(t, b)["status"] == "ignored"
    review.unignore(t)
    sync(t, b.store)
    assert org_item(t, b)["status"] == "matched"
    # create the organization: exactly once, whatever the replays
    review.create_organization(t)
    sync(t, b.store)
    review.create_organization(t)
    sync(t, b.store)
    sync(t, b.store, attempt=2)
    item = org_item(t, b)
    created = b.store.organization(item["org_id"])
    assert created.name == "Fabrikam" and created.tenant_id == t and created.link_source == "created"
    assert [o.name for o in b.store.organizations()].count("Fabrikam") == 1
    assert [o.tenant_id for o in b.store.organizations()].count(t) == 1
    if b.sim is not None:
        assert [o["name"] for o in b.sim.organizations()].count("Fabrikam") == 1
    new_contacts = b.store.contacts(created.id)
    assert [(c.first_name, c.link_user, c.link_source) for c in new_contacts] == [("Ana", "u1", "created")]
    # manual sync: a directory sync is queued for the tenant
    assert review.manual_sync(t)["enqueued"] == [t]
