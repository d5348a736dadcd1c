"""`DocumentationStore` on Azure Table Storage.

- `DocOrganizations`: PartitionKey "org", RowKey organization id (an MSP documents hundreds to a few
  thousand organizations: one small partition, read whole by the matcher).
- `DocContacts`: PartitionKey organization id, RowKey contact id; e-mails and phones as JSON lists. The
  matcher reads one organization's partition per tenant, and writes it in transactions of up to 100.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared import storage
from shared.docstore.model import Contact, Organization

ORGS = "DocOrganizations"
CONTACTS = "DocContacts"
ORG_PARTITION = "org"
BATCH = 100


def _org_entity(o: Organization) -> dict:
    return {
        "PartitionKey": ORG_PARTITION,
        "RowKey": o.id,
        "Name": o.name,
        "TenantId": o.tenant_id,
        "LinkSource": o.link_source,
        "Notes": o.notes,
    }


def _org(e: dict) -> Organization:
    return Organization(
        id=e["RowKey"],
        name=e.get("Name", ""),
        tenant_id=e.get("TenantId", ""),
        link_source=e.get("LinkSource", ""),
        notes=e.get("Notes", ""),
    )


def _contact_entity(c: Contact) -> dict:
    return {
        "PartitionKey": c.organization_id,
        "RowKey": c.id,
        "FirstName": c.first_name,
        "LastName": c.last_name,
        "Title": c.title,
        "Emails": json.dumps(c.emails, ensure_ascii=False),
        "Phones": json.dumps(c.phones, ensure_ascii=False),
        "Active": c.active,
        "LinkTenant": c.link_tenant,
        "LinkUser": c.link_user,
        "LinkSource": c.link_source,
        "LinkRule": c.link_rule,
        "DeactivatedBySync": c.deactivated_by_sync,
        "Notes": c.notes,
    }


def _contact(e: dict) -> Contact:
    return Contact(
        organization_id=e["PartitionKey"],
        id=e["RowKey"],
        first_name=e.get("FirstName", ""),
        last_name=e.get("LastName", ""),
        title=e.get("Title", ""),
        emails=json.loads(e.get("Emails") or "[]"),
        phones=json.loads(e.get("Phones") or "[]"),
        active=bool(e.get("Active", True)),
        link_tenant=e.get("LinkTenant", ""),
        link_user=e.get("LinkUser", ""),
        link_source=e.get("LinkSource", ""),
        link_rule=e.get("LinkRule", ""),
        deactivated_by_sync=bool(e.get("DeactivatedBySync", False)),
        notes=e.get("Notes", ""),
    )


def _escape(value: str) -> str:
    return value.replace("'", "''")


class TableDocumentationStore:
    """`prefix` names a separate pair of tables (tests, or a second documentation set)."""

    def __init__(self, prefix: str = "") -> None:
        self.orgs_table, self.contacts_table = f"{prefix}{ORGS}", f"{prefix}{CONTACTS}"

    def organizations(self) -> list[Organization]:
        entities = storage.table(self.orgs_table).query_entities(f"PartitionKey eq '{ORG_PARTITION}'")
        return sorted((_org(e) for e in entities), key=lambda o: (o.name.lower(), o.id))

    def organization(self, org_id: str) -> Organization | None:
        try:
            return _org(storage.table(self.orgs_table).get_entity(ORG_PARTITION, org_id))
        except ResourceNotFoundError:
            return None

    def save_organization(self, org: Organization) -> None:
        storage.table(self.orgs_table).upsert_entity(_org_entity(org), mode=UpdateMode.REPLACE)

    def save_organizations(self, orgs: Iterable[Organization]) -> int:
        """Upsert organizations in transactions of up to 100 (they share one partition)."""
        entities = list({o.id: _org_entity(o) for o in orgs}.values())
        table = storage.table(self.orgs_table)
        for i in range(0, len(entities), BATCH):
            table.submit_transaction([("upsert", e, {"mode": UpdateMode.REPLACE}) for e in entities[i : i + BATCH]])
        return len(entities)

    def contacts(self, org_id: str) -> list[Contact]:
        entities = storage.table(self.contacts_table).query_entities(f"PartitionKey eq '{_escape(org_id)}'")
        return [_contact(e) for e in entities]

    def contact(self, org_id: str, contact_id: str) -> Contact | None:
        try:
            return _contact(storage.table(self.contacts_table).get_entity(org_id, contact_id))
        except ResourceNotFoundError:
            return None

    def save_contacts(self, contacts: Iterable[Contact]) -> int:
        by_org: dict[str, dict[str, dict]] = defaultdict(dict)
        for c in contacts:  # one entity per key: a transaction refuses the same row twice
            by_org[c.organization_id][c.id] = _contact_entity(c)
        table = storage.table(self.contacts_table)
        written = 0
        for by_id in by_org.values():
            entities = list(by_id.values())
            for i in range(0, len(entities), BATCH):
                chunk = entities[i : i + BATCH]
                table.submit_transaction([("upsert", e, {"mode": UpdateMode.REPLACE}) for e in chunk])
                written += len(chunk)
        return written
