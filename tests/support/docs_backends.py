"""The two documentation backends behind one test face: o365mon's own tables on Azurite, and IT Glue (the
simulator) with its ledger on Azurite. Tests seed documented records the way each system gets them (an
import for the tables, IT Glue's own data for the simulator) and then go through the real matcher."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field

from devtools.itglue import ItGlueSimulator
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs.base import DocumentationStore
from shared.docs.itglue import ItGlueClient, RateBudget
from shared.docs.itglue_store import ItGlueDocumentationStore
from shared.docs.ledger import DONE, Ledger
from shared.docs.model import Contact, Organization
from shared.docs.tables import TableDocumentationStore
from shared.matching import state
from shared.matching.run import handle_message


def user(uid: str, first: str, last: str, mail: str = "", **kw) -> DirectoryUser:
    upn = kw.pop("upn", mail or f"{first}.{last}@contoso.com".lower())
    return DirectoryUser(
        id=uid,
        given_name=first,
        surname=last,
        display_name=f"{first} {last}",
        upn=upn,
        mail=mail,
        proxy_addresses=kw.pop("proxy", [f"SMTP:{mail}"] if mail else []),
        sku_ids=kw.pop("skus", ["sku"]),
        **kw,
    )


def store_directory(tenant_id: str, name: str, users: list[DirectoryUser]) -> None:
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name=name, domains=["contoso.com"]), users)


def sync(tenant_id: str, store: DocumentationStore, attempt: int = 1) -> state.SyncLog:
    return handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "test"}), store=store, attempt=attempt)


@dataclass
class Backend:
    name: str
    store: DocumentationStore
    sim: ItGlueSimulator | None = None
    ledger: Ledger | None = None
    seeded: set[str] = field(default_factory=set)  # contact ids documented before any sync

    def add_org(self, name: str) -> str:
        if self.sim is not None:
            return str(self.sim.seed_organization(name))
        assert isinstance(self.store, TableDocumentationStore)
        org_id = "o" + uuid.uuid4().hex[:12]
        self.store.save_organization(Organization(org_id, name))
        return org_id

    def add_contact(self, org_id: str, first: str, last: str, *emails: str, title: str = "", **kw) -> str:
        if self.sim is not None:
            items = [{"value": e, "primary": i == 0, "label_name": "Work"} for i, e in enumerate(emails)]
            cid = str(
                self.sim.seed_contact(
                    int(org_id), first_name=first, last_name=last, title=title or None, contact_emails=items, **kw
                )
            )
        else:
            assert isinstance(self.store, TableDocumentationStore)
            cid = "c" + uuid.uuid4().hex[:12]
            self.store.save_contacts([Contact(org_id, cid, first, last, title, list(emails))])
        self.seeded.add(cid)
        return cid

    def other_store(self) -> DocumentationStore:
        """A second store on the same data (another Function instance)."""
        if self.sim is not None:
            client = ItGlueClient(base_url=self.sim.url, api_key=self.sim.api_key, budget=RateBudget())
            return ItGlueDocumentationStore(client, self.ledger, terminated_type_id="")
        assert isinstance(self.store, TableDocumentationStore)
        return TableDocumentationStore(prefix=self.store.orgs_table.removesuffix("DocOrganizations"))

    def writes(self) -> int:
        """Writes sent to the documentation system since the counts were cleared (IT Glue only)."""
        assert self.sim is not None
        return sum(n for k, n in self.sim.request_counts().items() if not k.startswith("GET"))


def itglue_backend(sim: ItGlueSimulator, *, terminated_type_id: str = "") -> Backend:
    ledger = Ledger(table="t" + uuid.uuid4().hex[:10] + "DocLedger")
    client = ItGlueClient(base_url=sim.url, api_key=sim.api_key, budget=RateBudget())
    store = ItGlueDocumentationStore(client, ledger, terminated_type_id=terminated_type_id)
    return Backend("itglue", store, sim, ledger)


def tables_backend() -> Backend:
    return Backend("tables", TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10]))


def assert_no_duplicates(sim: ItGlueSimulator) -> None:
    """No two contacts of an organization share primary e-mail and name: nothing was created twice."""
    keys = Counter(
        (
            c["organization-id"],
            next((e["value"].lower() for e in c["contact-emails"] if e["primary"]), ""),
            c["name"],
        )
        for c in sim.contacts()
    )
    assert [k for k, n in keys.items() if n > 1] == []


def assert_ledger_complete(b: Backend, tenant_id: str) -> None:
    """Every contact the sync created in IT Glue has a done ledger entry naming it, and nothing is pending."""
    assert b.sim is not None and b.ledger is not None
    entries = b.ledger.contacts(tenant_id)
    assert [e.user_id for e in entries.values() if e.state != DONE] == []
    created = {c["id"] for c in b.sim.contacts()} - b.seeded
    assert created == {e.contact_id for e in entries.values() if e.source == "created"}
