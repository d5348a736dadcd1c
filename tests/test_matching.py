# ruff: noqa: E501 - sample data tables read better on one line
"""Matching rules (IT Glue's, plus the peers' safety rules): pure decisions first, then whole runs on Azurite
with the simulator's directory data (guests, a namesake, accents and case, a disabled unlicensed account)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid

import pytest

from devtools.simulator import directory as simdir
from devtools.simulator.tenants import SampleTenant
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs import transfer
from shared.docs.model import CREATED, LINKED, Contact, Organization, contact_id_for
from shared.docs.tables import TableDocumentationStore
from shared.matching import contacts, messages, orgs, state
from shared.matching.lock import LockBusy, TenantLock
from shared.matching.normalize import organization_name, person_name
from shared.matching.policy import Policy
from shared.matching.run import handle_message

T = "11111111-1111-1111-1111-111111111111"


def user(uid: str, first: str, last: str, mail: str = "", **kw) -> DirectoryUser:
    upn = kw.pop("upn", mail or f"{first}.{last}@contoso.com".lower())
    return DirectoryUser(
        id=uid, given_name=first, surname=last, display_name=f"{first} {last}", upn=upn, mail=mail,
        proxy_addresses=kw.pop("proxy", [f"SMTP:{mail}"] if mail else []), sku_ids=kw.pop("skus", ["sku"]), **kw,
    )  # fmt: skip


def contact(cid: str, first: str, last: str, *emails: str, **kw) -> Contact:
    return Contact(organization_id="org", id=cid, first_name=first, last_name=last, emails=list(emails), **kw)


def outcome(p: contacts.Plan, uid: str) -> contacts.Outcome:
    return next(o for o in p.outcomes if o.user_id == uid)


# -- normalization and organizations ----------------------------------------------------------------------
def test_organization_names_normalize_case_accents_punctuation_and_legal_suffixes() -> None:
    assert organization_name("CONTOSO, Ltd.") == organization_name("Contoso Limited") == "contoso"
    assert organization_name("Société Générale S.A.R.L.") == "societe generale"
    assert organization_name("Fabrikam GmbH") == organization_name("fabrikam inc") == "fabrikam"
    assert organization_name("Contoso Pty Ltd") == "contoso"
    assert person_name("José", "García") == person_name("JOSE", "garcia") == "jose garcia"
    assert person_name("Cher", "") == ""  # a lone first name matches nobody


def test_organization_order_link_then_exact_name_then_suggestions_then_unmatched() -> None:
    docs = [
        Organization("o1", "Contoso Pharmaceuticals"),
        Organization("o2", "Contoso Ltd"),
        Organization("o3", "Fabrikham Inc"),
        Organization("o4", "Northwind", tenant_id="other-tenant"),
        Organization("o5", "Litware", tenant_id=T),
    ]
    assert orgs.match_organization(T, "Anything", docs) == orgs.OrgDecision("matched", "o5", "link")
    rest = docs[:4]
    assert orgs.match_organization(T, "CONTOSO LIMITED", rest).org_id == "o2"  # exact once normalized
    d = orgs.match_organization(T, "Fabrikam", rest)
    assert d.status == "suggested" and d.suggestions[0]["org_id"] == "o3" and not d.org_id  # never auto-linked
    assert orgs.match_organization(T, "Northwind", rest).status == "unmatched"  # linked to another tenant
    assert orgs.match_organization(T, "Tailspin Toys", rest).status == "unmatched"
    assert orgs.match_organization(T, "Contoso", rest, ignored=True).status == "ignored"
    many = [Organization(f"x{i}", f"Wingtip Toys {i}") for i in range(6)]
    assert len(orgs.match_organization(T, "Wingtip Toys", many).suggestions) == 3
    twins = [Organization("a", "Adventure Works"), Organization("b", "Adventure Works LLC")]
    assert orgs.match_organization(T, "Adventure Works", twins).status == "ambiguous"


# -- contacts: each rule ------------------------------------------------------------------------------------
def test_alias_rule_strips_smtp_prefix_and_ignores_case() -> None:
    u = user("u1", "Ana", "Silva", "ana@contoso.com", proxy=["SMTP:ana@contoso.com", "smtp:A.Silva@Contoso.com"])
    docs = [contact("c1", "Someone", "Else", "a.silva@contoso.com")]
    p = contacts.plan(T, "org", [u], docs, Policy())
    assert (outcome(p, "u1").status, outcome(p, "u1").rule, outcome(p, "u1").contact_id) == ("matched", "alias", "c1")
    w = p.writes[0]
    assert (w.link_tenant, w.link_user, w.link_source, w.link_rule) == (T, "u1", LINKED, "alias")
    assert (w.first_name, w.last_name) == ("Ana", "Silva") and "ana@contoso.com" in w.emails


def test_other_mails_count_as_aliases_but_sip_addresses_do_not() -> None:
    u = user("u1", "Ana", "Silva", "ana@contoso.com", other_mails=["ana.home@gmail.com"])
    u.proxy_addresses.append("SIP:sip-ana@contoso.com")
    p = contacts.plan(T, "org", [u], [contact("c1", "A", "S", "ANA.HOME@gmail.com")], Policy())
    assert outcome(p, "u1").rule == "alias"
    p = contacts.plan(T, "org", [u], [contact("c1", "A", "S", "sip-ana@contoso.com")], Policy())
    assert outcome(p, "u1").status == "created"


def test_upn_rule_matches_the_onmicrosoft_user_name() -> None:
    u = user("u1", "Scan", "Ner", "", upn="svc-scanner@contoso.onmicrosoft.com")
    p = contacts.plan(
        T, "org", [u], [contact("c1", "Scanner", "Account", "SVC-Scanner@contoso.onmicrosoft.com")], Policy()
    )
    assert (outcome(p, "u1").status, outcome(p, "u1").rule) == ("matched", "upn")


def test_name_rule_ignores_accents_and_case() -> None:
    u = user("u1", "José", "García", "jose.garcia@contoso.com")
    p = contacts.plan(T, "org", [u], [contact("c1", "JOSE", "garcia", "jg@oldcompany.example")], Policy())
    assert (outcome(p, "u1").status, outcome(p, "u1").rule) == ("matched", "name")
    assert p.writes[0].first_name == "José" and p.writes[0].emails == [
        "jg@oldcompany.example",
        "jose.garcia@contoso.com",
    ]


def test_alias_wins_over_name_and_an_earlier_rule_decides() -> None:
    u = user("u1", "Emma", "Brown", "emma@contoso.com")
    docs = [contact("byname", "Emma", "Brown"), contact("bymail", "E.", "B.", "emma@contoso.com")]
    assert outcome(contacts.plan(T, "org", [u], docs, Policy()), "u1").contact_id == "bymail"


def test_two_candidates_at_one_step_is_ambiguous_and_nothing_is_written_or_created() -> None:
    u = user("u1", "Liam", "Smith", "liam@contoso.com")
    docs = [contact("c1", "L", "S", "liam@contoso.com"), contact("c2", "Li", "Sm", "LIAM@contoso.com")]
    p = contacts.plan(T, "org", [u], docs, Policy())
    assert outcome(p, "u1").status == "ambiguous" and p.writes == [] and p.counts["ambiguous"] == 1


def test_one_contact_claimed_by_two_users_is_ambiguous_for_both() -> None:
    users = [user("u1", "Noah", "Kim", "noah@contoso.com"), user("u2", "Noah", "Kim", "noah.kim2@contoso.com")]
    p = contacts.plan(T, "org", users, [contact("c1", "Noah", "Kim", "noah@old.example")], Policy())
    assert {o.status for o in p.outcomes} == {"ambiguous"} and p.writes == []


def test_no_candidate_creates_a_linked_contact_with_a_deterministic_id() -> None:
    u = user("u1", "Mia", "Rossi", "mia@contoso.com", job_title="Engineer", business_phones=["+1 1"])
    p = contacts.plan(T, "org", [u], [], Policy())
    c = p.writes[0]
    assert c.id == contact_id_for(T, "u1") and c.link_source == CREATED and c.emails == ["mia@contoso.com"]
    assert (c.title, c.phones, c.active) == ("Engineer", ["+1 1"], True)


def test_policy_guests_skipped_disabled_and_unlicensed_never_created_but_still_matched() -> None:
    guest = user("g", "Ana", "Guest", "ana@gmail.com", upn="ana_gmail.com#EXT#@contoso.onmicrosoft.com")
    disabled = user("d", "Dee", "Sabled", "dee@contoso.com", account_enabled=False)
    unlicensed = user("n", "No", "Licence", "no@contoso.com", skus=[])
    known = user("k", "Kay", "Known", "kay@contoso.com", account_enabled=False, skus=[])
    p = contacts.plan(
        T, "org", [guest, disabled, unlicensed, known], [contact("c", "K", "K", "kay@contoso.com")], Policy()
    )
    assert [(o.user_id, o.status, o.rule) for o in sorted(p.outcomes, key=lambda o: o.user_id)] == [
        ("d", "skipped", "disabled"), ("g", "skipped", "guest"), ("k", "matched", "alias"), ("n", "skipped", "unlicensed"),
    ]  # fmt: skip
    assert p.writes[0].active is False and p.writes[0].deactivated_by_sync  # matched + disabled: deactivated
    p = contacts.plan(T, "org", [guest], [], Policy(include_guests=True, only_licensed=False))
    assert outcome(p, "g").status == "created"


def test_blank_fields_never_overwrite_and_unchanged_contacts_are_not_written() -> None:
    u = user("u1", "Omar", "Khan", "omar@contoso.com", job_title="")
    c = contact("c1", "Omar", "Khan", "omar@contoso.com", title="CFO", phones=["+44 20"], link_tenant=T, link_user="u1")
    c.link_source = LINKED
    p = contacts.plan(T, "org", [u], [c], Policy())
    assert outcome(p, "u1").rule == "link" and p.writes == [] and p.counts == {**p.counts, "updated": 0, "matched": 1}


def test_link_wins_even_when_emails_and_names_changed() -> None:
    u = user("u1", "Olivia", "Newname", "olivia.new@contoso.com")
    linked = contact("c1", "Olivia", "Oldname", "olivia.old@contoso.com", link_tenant=T, link_user="u1")
    decoy = contact("c2", "Olivia", "Newname", "olivia.new@contoso.com")
    p = contacts.plan(T, "org", [u], [linked, decoy], Policy())
    assert outcome(p, "u1").contact_id == "c1" and outcome(p, "u1").rule == "link"


def test_only_linked_or_created_contacts_are_deactivated_and_reactivated() -> None:
    gone = contact("c1", "Gone", "User", "gone@contoso.com", link_tenant=T, link_user="left", link_source=CREATED)
    unlinked = contact("c2", "Paper", "Only", "paper@contoso.com")
    back = user("u3", "Back", "Again", "back@contoso.com")
    was_off = contact(
        "c3", "Back", "Again", "back@contoso.com", link_tenant=T, link_user="u3", active=False, deactivated_by_sync=True
    )
    human_off = contact("c4", "Off", "ByHand", "off@contoso.com", link_tenant=T, link_user="u4", active=False)
    p = contacts.plan(
        T, "org", [back, user("u4", "Off", "ByHand", "off@contoso.com")], [gone, unlinked, was_off, human_off], Policy()
    )
    written = {c.id: c for c in p.writes}
    assert written["c1"].active is False and written["c1"].deactivated_by_sync
    assert written["c3"].active is True and "c2" not in written and "c4" not in written


def test_duplicates_are_created_when_documented_contacts_do_not_follow_the_logic() -> None:
    """The seed's warning: a contact documented as 'Bob' with an old address is not found; a duplicate appears."""
    u = user("u1", "Robert", "Smith", "robert.smith@contoso.com")
    p = contacts.plan(T, "org", [u], [contact("c1", "Bob", "Smith", "bob@oldmail.example")], Policy())
    assert outcome(p, "u1").status == "created" and len(p.writes) == 1 and p.writes[0].id != "c1"


# -- whole runs on Azurite with the simulator's directory --------------------------------------------------
def sim_users(seed: int, n: int) -> tuple[SampleTenant, list[DirectoryUser]]:
    tenant = SampleTenant.generate(seed, n)
    return tenant, [DirectoryUser.from_graph(dataclasses.asdict(u)) for u in simdir.directory_users(tenant)]


def store_directory(tenant_id: str, name: str, users: list[DirectoryUser]) -> None:
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name=name, domains=["contoso.com"]), users)


@pytest.fixture
def docs(storage_env) -> TableDocumentationStore:
    return TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])


def sample_documentation(users: list[DirectoryUser]) -> dict:
    """A documentation set exercising every rule against the simulator's users."""
    by_name = {u.display_name: u for u in users}
    members = [u for u in users if u.user_type == "Member" and u.mail and u.account_enabled and u.sku_ids]

    def extra(u: DirectoryUser) -> list[str]:
        return sorted(a for a in u.aliases() if a not in (u.mail.lower(), u.upn.lower()) and "onmicrosoft" not in a)

    extra_alias = extra(next(u for u in members[10:] if extra(u)))[0]
    twin = users[0]
    dup_user = members[5]
    return {
        "organizations": [
            {"id": "org-contoso", "name": "CONTOSO, Ltd.", "contacts": [
                {"id": "alias", "first_name": "X", "last_name": "Y", "emails": [extra_alias.upper(), "x@elsewhere.example"]},
                {"id": "upn", "first_name": "Scanner", "last_name": "Svc", "emails": [by_name["Scanner Service Account"].upn]},
                {"id": "accent", "first_name": "JOSE", "last_name": "garcia", "emails": ["jg@old.example"], "title": "CFO"},
                {"id": "namesake", "first_name": twin.given_name, "last_name": twin.surname, "emails": ["n@old.example"]},
                {"id": "dup", "first_name": dup_user.given_name[:2] + "x", "last_name": dup_user.surname, "emails": ["d@old.example"]},
                {"id": "paper", "first_name": "Paper", "last_name": "Only", "emails": ["paper@old.example"], "active": False},
            ]},
            {"id": "org-other", "name": "Contoso Pharmaceuticals"},
        ]
    }  # fmt: skip


def run(tenant_id: str, docs: TableDocumentationStore) -> state.SyncLog:
    return handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "test"}), store=docs)


def canonical(docs: TableDocumentationStore) -> str:
    return transfer.export_json(docs)


def test_a_whole_run_walks_every_rule_and_reruns_change_nothing(docs, tenant_id) -> None:
    sample, users = sim_users(401, 40)
    store_directory(tenant_id, "Contoso", users)
    transfer.import_json(docs, json.dumps(sample_documentation(users)))
    log = run(tenant_id, docs)
    assert log.status == "success" and log.organization_status == "matched" and log.organization_id == "org-contoso"
    assert docs.organization("org-contoso").tenant_id == tenant_id  # the name match became a link
    results = {r["user_id"]: r for r in state.load_results(tenant_id)}
    by_contact = {r["contact_id"]: r for r in results.values() if r["status"] == "matched"}
    assert by_contact["alias"]["rule"] == "alias" and by_contact["upn"]["rule"] == "upn"
    assert by_contact["accent"]["rule"] == "name"
    assert docs.contact("org-contoso", "accent").title == "CFO"  # José has no job title: CFO stays
    assert docs.contact("org-contoso", "upn").active is False  # the disabled service account was linked
    ambiguous = [r for r in results.values() if r["status"] == "ambiguous"]
    assert len(ambiguous) == 2 and {r["contact_id"] for r in ambiguous} == {"namesake"}  # user 0 and namesake
    assert docs.contact("org-contoso", "namesake").link_user == ""  # nothing written
    guests = [r for r in results.values() if r["rule"] == "guest"]
    assert len(guests) == 3 and log.counts["ignored"] >= 3
    assert docs.contact("org-contoso", "paper").active is False and docs.contact("org-contoso", "dup").link_user == ""
    created = [c for c in docs.contacts("org-contoso") if c.link_source == CREATED]
    assert log.counts["created"] == len(created) > 0 and log.counts["ambiguous"] == 2
    assert any(n.startswith("ambiguous (name)") for n in log.notes)
    before = canonical(docs)
    again = run(tenant_id, docs)
    assert again.counts["created"] == again.counts["updated"] == 0 and canonical(docs) == before
    assert [r["status"] for r in state.recent_logs(tenant_id)] == ["success", "success"]


def test_replaying_the_same_message_changes_nothing(docs, tenant_id) -> None:
    _, users = sim_users(402, 30)
    store_directory(tenant_id, "Contoso", users)
    transfer.import_json(docs, json.dumps(sample_documentation(users)))
    body = json.dumps({"tenant_id": tenant_id, "trigger": "timer", "sync_started": "2026-01-01T00:00:00+00:00"})
    handle_message(body, store=docs)
    after_first = canonical(docs)
    handle_message(body, store=docs, attempt=2)  # at-least-once delivery: the same message again
    assert canonical(docs) == after_first
    ids = [c.link_user for c in docs.contacts("org-contoso") if c.link_user]
    assert len(ids) == len(set(ids))


def test_two_runs_at_once_are_serialized_and_end_in_the_same_state(storage_env, tenant_id) -> None:
    _, users = sim_users(403, 60)
    store_directory(tenant_id, "Contoso", users)
    reference, concurrent = (TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10]) for _ in range(2))
    for d in (reference, concurrent):
        transfer.import_json(d, json.dumps(sample_documentation(users)))
    run(tenant_id, reference)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            run(tenant_id, concurrent)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert canonical(concurrent) == canonical(reference)
    links = [c.link_user for c in concurrent.contacts("org-contoso") if c.link_user]
    assert len(links) == len(set(links))


def test_a_crash_mid_run_then_the_retry_ends_in_the_same_state(storage_env, tenant_id, monkeypatch) -> None:
    _, users = sim_users(404, 60)
    store_directory(tenant_id, "Contoso", users)
    reference, crashing = (TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10]) for _ in range(2))
    for d in (reference, crashing):
        transfer.import_json(d, json.dumps(sample_documentation(users)))
    run(tenant_id, reference)

    real = TableDocumentationStore.save_contacts

    def half_then_crash(self, items):
        items = list(items)
        real(self, items[: len(items) // 2])
        raise ConnectionError("storage went away")

    monkeypatch.setattr(TableDocumentationStore, "save_contacts", half_then_crash)
    with pytest.raises(ConnectionError):
        run(tenant_id, crashing)
    assert state.recent_logs(tenant_id, 1)[0]["status"] == "failed"
    monkeypatch.setattr(TableDocumentationStore, "save_contacts", real)
    handle_message(json.dumps({"tenant_id": tenant_id}), store=crashing, attempt=2)
    assert canonical(crashing) == canonical(reference)


def test_a_message_that_keeps_failing_says_why_in_the_sync_log(storage_env, tenant_id, monkeypatch) -> None:
    _, users = sim_users(405, 5)
    store_directory(tenant_id, "Contoso", users)
    docs = TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])
    monkeypatch.setattr(TableDocumentationStore, "organizations", lambda self: 1 / 0)
    for attempt in (1, messages.MAX_ATTEMPTS):
        with pytest.raises(ZeroDivisionError):
            handle_message(json.dumps({"tenant_id": tenant_id}), store=docs, attempt=attempt)
    last, first = state.recent_logs(tenant_id, 2)
    assert "will be retried" in first["errors_text"][0]
    assert last["status"] == "failed" and "ZeroDivisionError" in last["errors_text"][0]
    assert "moved to contact-match-poison" in last["errors_text"][0]
    with pytest.raises(ValueError):
        handle_message(b"not json")


def test_max_attempts_matches_host_json() -> None:
    from pathlib import Path

    host = json.loads((Path(__file__).resolve().parent.parent / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == messages.MAX_ATTEMPTS


def test_tenant_lock_excludes_a_second_holder_and_expires(storage_env, tenant_id) -> None:
    with TenantLock(tenant_id, ttl=30):
        with pytest.raises(LockBusy):
            TenantLock(tenant_id, wait=0.3).acquire()
    crashed = TenantLock(tenant_id, ttl=0.2).acquire()  # never released, as after a crash
    with TenantLock(tenant_id, wait=5) as taker:
        with pytest.raises(LockBusy):
            crashed.renew()  # the crashed holder lost it
        taker.renew()
