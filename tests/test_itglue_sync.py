"""The sync into IT Glue (simulator) with the ledger on Azurite, through the real queue handler: exactly once under
every fault (commit-then-drop on bulk create and on organization create, the same message twice, two runs at
once, kill -9 between the create and the ledger write), no writes on a replay, IT Glue's field mapping, 422s
that stop nobody else, and the sync log's request figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from unittest.mock import ANY

import pytest

from devtools.itglue import ItGlueFault, ItGlueSimulator
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo
from shared.docs.itglue import ItGlueError
from shared.docs.itglue_licences import forget_licence_types
from shared.docs.ledger import DONE
from shared.matching import review, state
from shared.matching.run import handle_message
from tests.support.docs_backends import (
    Backend,
    assert_ledger_complete,
    assert_no_duplicates,
    itglue_backend,
    store_directory,
    sync,
    user,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sim() -> Iterator[ItGlueSimulator]:
    with ItGlueSimulator() as s:
        yield s


@pytest.fixture(autouse=True)
def fresh_account(sim) -> None:
    # Every test empties the simulator's account: the type the process cached belongs to the emptied one.
    sim.reset()
    forget_licence_types()


@pytest.fixture
def b(storage_env, sim, monkeypatch) -> Backend:
    monkeypatch.setenv("DOCS_BACKEND", "itglue")
    monkeypatch.setenv("ITGLUE_API_URL", sim.url)
    monkeypatch.setenv("ITGLUE_API_KEY", sim.api_key)
    return itglue_backend(sim)


def staff(n: int) -> list:
    return [user(f"u{i:05d}", f"First{i}", f"Last{i}", f"user{i}@contoso.com") for i in range(n)]


def contoso(b: Backend, tenant_id: str, n: int) -> str:
    org = b.add_org("Contoso")
    b.add_contact(org, "Paper", "Only", "paper@old.example")
    store_directory(tenant_id, "Contoso", staff(n))
    return org


@pytest.mark.parametrize(("users", "nth"), [(40, 1), (1200, 2)])  # the only chunk; the second of two
def test_commit_then_drop_on_the_bulk_create_creates_each_contact_once(b: Backend, tenant_id: str, users, nth) -> None:
    org = contoso(b, tenant_id, users)
    b.sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/relationships/contacts", nth=nth))
    log = sync(tenant_id, b.store)
    assert log.status == "success" and log.counts["created"] == users
    assert len(b.sim.contacts(organization_id=int(org))) == users + 1
    assert b.sim.request_counts()["POST /organizations/:id/relationships/contacts"] == nth  # read back, not re-sent
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)


def test_commit_then_drop_on_the_organization_create_creates_it_once(b: Backend, tenant_id: str) -> None:
    store_directory(tenant_id, "Northwind Traders", staff(3))
    sync(tenant_id, b.store)
    review.create_organization(tenant_id)
    b.sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/organizations"))
    log = sync(tenant_id, b.store)
    assert log.status == "success" and log.organization_status == "matched"
    assert [o["name"] for o in b.sim.organizations()] == ["Northwind Traders"]
    assert b.store.organization(log.organization_id).tenant_id == tenant_id
    review.create_organization(tenant_id)  # the reviewer clicks again: still one organization
    sync(tenant_id, b.store)
    assert [o["name"] for o in b.sim.organizations()] == ["Northwind Traders"]
    assert b.sim.request_counts()["POST /organizations"] == 1
    assert len(b.sim.contacts()) == 3
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)


def test_the_same_message_twice_creates_nothing_the_second_time(b: Backend, tenant_id: str) -> None:
    contoso(b, tenant_id, 25)
    body = json.dumps({"tenant_id": tenant_id, "trigger": "timer", "sync_started": "2026-01-01T00:00:00+00:00"})
    handle_message(body, store=b.store)
    b.sim.clear_request_counts()
    again = handle_message(body, store=b.store, attempt=2)
    assert again.counts["created"] == 0 and b.writes() == 0
    assert len(b.sim.contacts()) == 26
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)


def test_two_runs_at_once_for_one_tenant(b: Backend, tenant_id: str) -> None:
    contoso(b, tenant_id, 60)
    stores = [b.store, b.other_store()]  # two Function instances: their own clients, one ledger
    errors: list[BaseException] = []

    def one(store) -> None:
        try:
            sync(tenant_id, store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(b.sim.contacts()) == 61
    assert [r["status"] for r in state.recent_logs(tenant_id)] == ["success", "success"]
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)


KILLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from shared.docs import itglue
    from shared.docs.itglue_store import ItGlueDocumentationStore
    from shared.docs.ledger import Ledger
    from shared.matching.run import handle_message

    real = itglue.ItGlueClient.create_contacts

    def create_then_die(self, **kwargs):
        out = real(self, **kwargs)  # IT Glue committed and answered ...
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the worker dies before the ledger hears of it
        return out

    itglue.ItGlueClient.create_contacts = create_then_die  # test-only hook, injected by this script
    store = ItGlueDocumentationStore(ledger=Ledger(sys.argv[2]), terminated_type_id="")
    handle_message(json.dumps({"tenant_id": sys.argv[1], "trigger": "test"}), store=store)
    """
)


def test_kill_9_between_the_create_and_the_ledger_write(b: Backend, tenant_id: str, tmp_path) -> None:
    org = contoso(b, tenant_id, 30)
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MATCH_LOCK_SECONDS": "1"}
    proc = subprocess.run(
        [sys.executable, str(script), tenant_id, b.ledger.table], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert len(b.sim.contacts(organization_id=int(org))) == 31  # created in IT Glue ...
    assert {e.state for e in b.ledger.contacts(tenant_id).values()} == {"pending"}  # ... the ledger never knew
    b.sim.clear_request_counts()
    log = sync(tenant_id, b.store, attempt=2)  # the retry, once the dead run's lock expired
    assert log.status == "success" and log.counts["created"] == 0
    assert b.writes() == 0  # resolved by reading IT Glue
    assert len(b.sim.contacts(organization_id=int(org))) == 31
    assert {r["contact_id"] for r in state.load_results(tenant_id)} <= {c["id"] for c in b.sim.contacts()}
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)


def test_initial_sync_uses_bulk_create_and_a_replay_writes_nothing(b: Backend, tenant_id: str) -> None:
    store_directory(tenant_id, "Contoso", staff(2500))
    b.add_org("Contoso")
    log = sync(tenant_id, b.store)
    counts = b.sim.request_counts()
    assert log.counts["created"] == 2500
    assert counts["POST /organizations/:id/relationships/contacts"] == 3  # chunks of 1,000
    assert log.doc_requests == b.sim.total_requests() <= 10
    b.sim.clear_request_counts()
    again = sync(tenant_id, b.store)
    assert b.writes() == 0 and again.counts["updated"] == 0
    # ... and the licence type looked up (the tenant has no subscriptions: nothing is created for it)
    assert b.sim.request_counts() == {"GET /organizations": 1, "GET /contacts": 3, "GET /flexible_asset_types": 1}
    saved = state.recent_logs(tenant_id, 1)[0]
    assert saved["doc_requests"] == 5 and saved["rejections"] == []


def test_field_mapping_as_it_glues_own_integration(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    u = user(
        "u1", "Eli", "Fox", "eli.fox@contoso.com", upn="eli@contoso.com", job_title="Engineer",
        proxy=["SMTP:eli.fox@contoso.com", "smtp:ef@contoso.com", "smtp:eli@contoso.onmicrosoft.com"],
        other_mails=["eli@gmail.com"], business_phones=["+1 555 0100"], mobile_phone="+1 555 0199",
    )  # fmt: skip
    store_directory(tenant_id, "Contoso", [u])
    sync(tenant_id, b.store)
    (c,) = b.sim.contacts(organization_id=int(org))
    assert (c["name"], c["first-name"], c["last-name"], c["title"]) == ("Eli Fox", "Eli", "Fox", "Engineer")
    assert c["contact-emails"] == [
        {"value": "eli@contoso.com", "primary": True, "label-name": "Work"},  # the user name (ITGLUE_PRIMARY_EMAIL=upn)
        {"value": "ef@contoso.com", "primary": False, "label-name": "Alias"},
        {"value": "eli.fox@contoso.com", "primary": False, "label-name": "Alias"},
        {"value": "eli@gmail.com", "primary": False, "label-name": "Alias"},
    ]
    assert [(p["value"], p["label-name"]) for p in c["contact-phones"]] == [
        ("+15550100", "Work"),
        ("+15550199", "Mobile"),
    ]


def test_blank_values_never_overwrite_and_lists_are_merged(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    phones = [{"value": "+44 20 9", "label_name": "Office", "extension": "12"}]
    cid = b.add_contact(org, "Ana", "Silva", "Ana@Contoso.com", "ana@home.example", title="CFO", contact_phones=phones)
    u = user("u1", "Ana", "Silva", "ana@contoso.com", job_title="", business_phones=["+44 20 1"],
             mobile_phone="+44 20 9", other_mails=["ana.s@contoso.com"])  # fmt: skip
    store_directory(tenant_id, "Contoso", [u])
    sync(tenant_id, b.store)
    c = next(c for c in b.sim.contacts() if c["id"] == cid)
    assert c["title"] == "CFO"  # blank job title: the documented title is kept
    assert [(e["value"], e["primary"]) for e in c["contact-emails"]] == [
        ("Ana@Contoso.com", True),
        ("ana@home.example", False),
    ]  # the primary address was there already (case aside): nothing added, nothing removed
    assert [(p["value"], p["label-name"], p["extension"]) for p in c["contact-phones"]] == [
        ("+44209", "Office", "12"),  # documented, kept as it was (the mobile is the same number)
        ("+44201", "Work", None),
    ]


def test_a_422_on_one_contact_stops_nobody_else_and_is_logged_with_its_pointer(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    psa = b.add_contact(org, "Ann", "Lee", "ann@contoso.com", title="Old", synced=True)  # synced from a PSA
    mine = b.add_contact(org, "Bo", "Chen", "bo@contoso.com", title="Old")
    users = [
        user("u1", "Ann", "Lee", "ann@contoso.com", job_title="CEO"),
        user("u2", "Bo", "Chen", "bo@contoso.com", job_title="CTO"),
        user("u3", "Cy", "Dee", "cy@contoso.com", other_mails=["cy@intranet"]),  # IT Glue refuses that address
        user("u4", "Di", "Eve", "di@contoso.com"),
    ]
    store_directory(tenant_id, "Contoso", users)
    log = sync(tenant_id, b.store)
    assert log.status == "success"
    titles = {c["id"]: c["title"] for c in b.sim.contacts()}
    assert titles[psa] == "Old" and titles[mine] == "CTO"
    assert sorted(c["first-name"] for c in b.sim.contacts()) == ["Ann", "Bo", "Di"]
    saved = state.recent_logs(tenant_id, 1)[0]
    assert len(saved["rejections"]) == 2
    patch = next(x for x in saved["rejections"] if x.startswith("contact "))
    create = next(x for x in saved["rejections"] if x.startswith("new contact "))
    assert f"contact {psa} (Ann Lee): 422 Unprocessable Entity" in patch and "(/data/0/attributes)" in patch
    assert create.startswith("new contact Cy Dee (user u3): 422") and "/contact-emails/1/value" in create
    r = {x["user_id"]: x for x in state.load_results(tenant_id)}
    assert (r["u3"]["status"], r["u3"]["rule"]) == ("skipped", "refused") and r["u4"]["status"] == "created"
    assert b.ledger.contacts(tenant_id)["u3"].state == "rejected"
    assert b.ledger.contacts(tenant_id)["u1"].contact_id == psa  # the link is o365mon's: kept


def test_disabled_user_gets_the_terminated_type_and_the_previous_one_back(sim, storage_env, tenant_id) -> None:
    b = itglue_backend(sim, terminated_type_id="99")
    org = b.add_org("Contoso")
    cid = b.add_contact(org, "Ana", "Silva", "ana@contoso.com", contact_type_id=5)
    u = user("u1", "Ana", "Silva", "ana@contoso.com")
    store_directory(tenant_id, "Contoso", [u])
    sync(tenant_id, b.store)

    def contact_type() -> object:
        return next(c for c in sim.contacts() if c["id"] == cid)["contact-type-id"]

    assert contact_type() == 5
    u.account_enabled = False
    store_directory(tenant_id, "Contoso", [u])
    sync(tenant_id, b.store)
    assert contact_type() == 99 and b.ledger.contacts(tenant_id)["u1"].previous_type_id == "5"
    assert b.store.contact(org, cid).active is False
    u.account_enabled = True
    store_directory(tenant_id, "Contoso", [u])
    sync(tenant_id, b.store)
    assert contact_type() == 5 and b.store.contact(org, cid).active is True
    assert len(sim.contacts()) == 1


def test_without_a_terminated_type_a_dated_note_is_appended(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    cid = b.add_contact(org, "Ana", "Silva", "ana@contoso.com", notes="VIP")
    store_directory(tenant_id, "Contoso", [user("u1", "Ana", "Silva", "ana@contoso.com")])
    sync(tenant_id, b.store)
    store_directory(tenant_id, "Contoso", [])  # the user left the tenant
    sync(tenant_id, b.store)
    notes = next(c for c in b.sim.contacts() if c["id"] == cid)["notes"]
    assert notes.startswith("VIP\nDisabled in Microsoft 365 (o365mon) on 20")
    assert b.store.contact(org, cid).active is False
    b.sim.clear_request_counts()
    sync(tenant_id, b.store)
    assert b.writes() == 0  # marked once
    assert [e.state for e in b.ledger.contacts(tenant_id).values()] == [DONE]


def test_a_link_only_change_writes_only_the_ledger(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    cid = b.add_contact(org, "Ana", "Silva", "ana@contoso.com", title="CFO")
    store_directory(tenant_id, "Contoso", [user("u1", "Ana", "Silva", "ana@contoso.com", job_title="CFO")])
    log = sync(tenant_id, b.store)
    assert log.counts["matched"] == 1 and b.writes() == 0  # nothing of IT Glue's changed
    entry = b.ledger.contacts(tenant_id)["u1"]
    assert (entry.state, entry.contact_id, entry.source, entry.rule) == (DONE, cid, "linked", "alias")
    assert b.store.contact(org, cid).link_user == "u1"


def test_primary_email_can_be_the_mail_address(b: Backend, tenant_id: str, monkeypatch) -> None:
    monkeypatch.setenv("ITGLUE_PRIMARY_EMAIL", "mail")
    org = b.add_org("Contoso")
    store_directory(tenant_id, "Contoso", [user("u1", "Eli", "Fox", "eli.fox@contoso.com", upn="eli@contoso.com")])
    sync(tenant_id, b.store)
    (c,) = b.sim.contacts(organization_id=int(org))
    assert [(e["value"], e["primary"]) for e in c["contact-emails"]] == [("eli.fox@contoso.com", True)]


def test_the_configured_backend_serves_the_admin_api_and_refuses_imports(b: Backend, tenant_id: str) -> None:
    import azure.functions as func

    from functions import review as http
    from shared import docs

    b.add_org("Contoso")
    store_directory(tenant_id, "Contoso", staff(2))
    handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "test"}))  # DOCS_BACKEND=itglue, default ledger
    assert len(b.sim.contacts()) == 2
    req = func.HttpRequest("GET", "/api/review/items", params={"tenant": tenant_id}, body=b"")
    items = json.loads(http.review_items(req).get_body())
    assert [(i["status"], i["organization_name"]) for i in items] == [("matched", "Contoso")]
    exported = json.loads(http.docs_export(func.HttpRequest("GET", "/x", body=b"")).get_body())
    assert {c["first_name"] for o in exported["organizations"] for c in o["contacts"]} == {"First0", "First1"}
    resp = http.docs_import(func.HttpRequest("POST", "/x", body=b'{"organizations": []}'))
    assert resp.status_code == 400 and "DOCS_BACKEND=itglue" in resp.get_body().decode()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCS_BACKEND", "itglu")
        with pytest.raises(ValueError, match="DOCS_BACKEND must be one of tables, itglue"):
            docs.documentation_store()


def test_the_sync_log_counts_requests_and_429_waits(b: Backend, tenant_id: str, capsys) -> None:
    import argparse

    from shared.cli import sync as sync_cli

    contoso(b, tenant_id, 5)
    b.sim.add_fault(ItGlueFault("throttle", method="GET", path_contains="/contacts", retry_after=1))
    log = sync(tenant_id, b.store)
    saved = state.recent_logs(tenant_id, 1)[0]
    assert (log.doc_throttled, saved["doc_throttled"]) == (1, 1) and saved["doc_throttle_wait_seconds"] == 1.0
    # organizations, contacts twice (429), bulk create, the licence type lookup
    assert saved["doc_requests"] == b.sim.total_requests() == 5
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    assert sync_cli.handle(parser.parse_args(["sync", "logs", "--tenant", tenant_id])) == 0
    assert "requests=5 throttled=1 (1 s)" in capsys.readouterr().out


def test_a_user_whose_create_was_refused_can_be_linked_later(b: Backend, tenant_id: str) -> None:
    org = b.add_org("Contoso")
    cy = user("u3", "Cy", "Dee", "cy@contoso.com", other_mails=["cy@intranet"])
    store_directory(tenant_id, "Contoso", [cy])
    sync(tenant_id, b.store)
    assert b.ledger.contacts(tenant_id)["u3"].state == "rejected" and b.sim.contacts() == []
    cid = b.add_contact(org, "Cy", "Dee", "cy@contoso.com")  # documented by hand meanwhile
    sync(tenant_id, b.store)
    entry = b.ledger.contacts(tenant_id)["u3"]
    assert (entry.state, entry.contact_id, entry.source, entry.rule) == (DONE, cid, "linked", "alias")
    assert len(b.sim.contacts()) == 1


def test_the_sync_documents_the_tenants_licences_once(b: Backend, tenant_id: str) -> None:
    skus = [{"skuId": "sku-e3", "skuPartNumber": "ENTERPRISEPACK", "enabled": 10, "consumed": 2}]
    users = [user("u1", "Ann", "Lee", "ann@contoso.com", skus=["sku-e3"]), user("u2", "Bob", "Ray", skus=["sku-e3"])]
    directory.save(
        DirectoryInfo(tenant_id=tenant_id, display_name="Contoso", domains=["contoso.com"], skus=skus), users
    )
    org = b.add_org("Contoso")
    log = sync(tenant_id, b.store)
    assert any(n.startswith("licences: 1 created") for n in log.notes), log.notes
    (asset,) = [a for a in b.sim.flexible_assets() if str(a["organization-id"]) == org]
    tagged = {str(t) for t in asset["traits"]["assigned-users"]}
    assert tagged == {c["id"] for c in b.sim.contacts(organization_id=int(org))}  # both created contacts
    b.sim.clear_request_counts()
    again = sync(tenant_id, b.store)
    assert b.writes() == 0 and any(n.startswith("licences: 0 created, 0 updated, 1 unchanged") for n in again.notes)


# ---------------------------------------------------------------- the packed ledger (many entries per entity)
def ledger_rows(b: Backend, tenant_id: str) -> list[dict]:
    from shared.store import storage

    assert b.ledger is not None
    return list(storage.table(b.ledger.table).query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id}))


@pytest.fixture
def small_packs(monkeypatch) -> int:
    monkeypatch.setattr("shared.docs.ledger.PACK_ROWS", 10)  # 25 users span three packs
    return 10


def test_a_crash_between_the_intents_and_the_create_creates_each_contact_once(b: Backend, tenant_id, small_packs):
    org = contoso(b, tenant_id, 25)
    # The bulk create is refused outright (as if the worker died before sending it): only the intents exist.
    b.sim.add_fault(ItGlueFault("error", status=403, method="POST", path_contains="/relationships/contacts"))
    with pytest.raises(ItGlueError):
        sync(tenant_id, b.store)
    rows = ledger_rows(b, tenant_id)
    assert [(r["RowKey"], r["Count"]) for r in rows] == [("~pack-0000", 10), ("~pack-0001", 10), ("~pack-0002", 5)]
    assert {e.state for e in b.ledger.contacts(tenant_id).values()} == {"pending"}
    assert sync(tenant_id, b.store).counts["created"] == 25
    assert len(b.sim.contacts(organization_id=int(org))) == 26
    assert_no_duplicates(b.sim)
    assert_ledger_complete(b, tenant_id)
    assert len(ledger_rows(b, tenant_id)) == 3  # the done entries replaced the intents in their packs


def test_entries_of_the_older_one_row_layout_are_read_and_moved_when_written(b: Backend, tenant_id, small_packs):
    from shared.docs.ledger import PENDING
    from shared.store import storage

    org = contoso(b, tenant_id, 12)
    sync(tenant_id, b.store)
    entries = b.ledger.contacts(tenant_id)
    # Rewrite the ledger as the older release left it: one row per user, two answers lost (pending intents
    # of contacts IT Glue committed).
    table = storage.table(b.ledger.table)
    for r in ledger_rows(b, tenant_id):
        table.delete_entity(partition_key=tenant_id, row_key=r["RowKey"])
    lost = {"u00003", "u00007"}
    for e in entries.values():
        old = e if e.user_id not in lost else replace(e, state=PENDING, contact_id="")
        table.upsert_entity(old.entity())
    b.sim.clear_request_counts()
    again = sync(tenant_id, b.store)
    assert again.counts["created"] == 0 and b.writes() == 0  # the lost answers were found in IT Glue
    assert len(b.sim.contacts(organization_id=int(org))) == 13
    assert_ledger_complete(b, tenant_id)
    assert b.ledger.contacts(tenant_id) == {u: replace(e, updated=ANY) for u, e in entries.items()}
    keys = sorted(r["RowKey"] for r in ledger_rows(b, tenant_id))
    assert keys == sorted([*(set(entries) - lost), "~pack-0000"])  # the two written were moved into a pack


def test_two_writers_of_one_tenants_ledger_lose_no_entry(b: Backend, tenant_id, small_packs) -> None:
    from shared.docs.ledger import ContactEntry, Ledger

    assert b.ledger is not None
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        ledger = Ledger(b.ledger.table)  # another run: its own reads, no shared state but the table
        try:
            for i in range(12):
                ledger.save_contacts([ContactEntry(tenant_id, f"{name}{i:02d}-{j}", contact_id=name) for j in range(3)])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = b.ledger.contacts(tenant_id)
    assert len(entries) == 72 and {e.contact_id for e in entries.values()} == {"a", "b"}
    assert sum(r["Count"] for r in ledger_rows(b, tenant_id)) == 72  # each entry in exactly one pack
