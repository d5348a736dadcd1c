"""o365mon's ledger of what it created or linked in IT Glue, in Table Storage (`DocLedger`).

IT Glue has no idempotency keys and no external-id field, so the links (tenant -> organization, (tenant, user)
-> contact) and the creations in flight are kept here:

- PartitionKey tenant id, RowKey user object id: one contact entry (state, contact id, organization id,
  how it was linked, what was sent). A tenant's entries share a partition, so they are written in transactions
  of 100 (10,000 users: 100 transactions per state change).
- PartitionKey `~orgs`, RowKey tenant id: the tenant's organization (state, id, name sent). One partition, read
  whole: `organizations()` needs every link at once, and an MSP has hundreds to a few thousand tenants.

A creation writes a `pending` entry (with what it sends) before the POST and `done` with the id after it. A
`pending` entry found later means the answer was lost (dropped connection, crash, kill): the creator reads
IT Glue and adopts the record that matches what was sent before it creates anything again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.store import storage

TABLE = "DocLedger"
ORGS_PARTITION = "~orgs"  # '~' never starts a tenant id (a GUID)
PENDING, DONE, REJECTED = "pending", "done", "rejected"


@dataclass
class ContactEntry:
    tenant_id: str
    user_id: str
    state: str = PENDING
    contact_id: str = ""
    org_id: str = ""
    source: str = ""  # created | linked
    rule: str = ""  # alias | upn | name (linked)
    # What the create sent, to recognise the record if the answer was lost: fingerprint of the whole body, and
    # the fields IT Glue lets us compare (primary e-mail, first and last name).
    fingerprint: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    deactivated_by_sync: bool = False
    # Contact type the contact had before the sync marked it terminated ("" = none), restored on re-enabling.
    previous_type_id: str = ""
    error: str = ""  # why IT Glue refused it (state rejected)
    updated: str = field(default_factory=storage.now_iso)

    def entity(self) -> dict:
        return {
            "PartitionKey": self.tenant_id,
            "RowKey": self.user_id,
            "State": self.state,
            "ContactId": self.contact_id,
            "OrgId": self.org_id,
            "Source": self.source,
            "Rule": self.rule,
            "Fingerprint": self.fingerprint,
            "Email": self.email,
            "FirstName": self.first_name,
            "LastName": self.last_name,
            "DeactivatedBySync": self.deactivated_by_sync,
            "PreviousTypeId": self.previous_type_id,
            "Error": self.error[:2000],
            "Updated": storage.now_iso(),
        }

    @classmethod
    def from_entity(cls, e: dict) -> ContactEntry:
        return cls(
            tenant_id=e["PartitionKey"],
            user_id=e["RowKey"],
            state=e.get("State", PENDING),
            contact_id=e.get("ContactId", ""),
            org_id=e.get("OrgId", ""),
            source=e.get("Source", ""),
            rule=e.get("Rule", ""),
            fingerprint=e.get("Fingerprint", ""),
            email=e.get("Email", ""),
            first_name=e.get("FirstName", ""),
            last_name=e.get("LastName", ""),
            deactivated_by_sync=bool(e.get("DeactivatedBySync", False)),
            previous_type_id=e.get("PreviousTypeId", ""),
            error=e.get("Error", ""),
            updated=e.get("Updated", ""),
        )


@dataclass
class OrgEntry:
    tenant_id: str
    state: str = PENDING
    org_id: str = ""
    name: str = ""  # the name sent on creation (IT Glue filters organizations by exact name)
    source: str = ""  # created | manual | name
    fingerprint: str = ""

    def entity(self) -> dict:
        return {
            "PartitionKey": ORGS_PARTITION,
            "RowKey": self.tenant_id,
            "State": self.state,
            "OrgId": self.org_id,
            "Name": self.name,
            "Source": self.source,
            "Fingerprint": self.fingerprint,
            "Updated": storage.now_iso(),
        }

    @classmethod
    def from_entity(cls, e: dict) -> OrgEntry:
        return cls(
            tenant_id=e["RowKey"],
            state=e.get("State", PENDING),
            org_id=e.get("OrgId", ""),
            name=e.get("Name", ""),
            source=e.get("Source", ""),
            fingerprint=e.get("Fingerprint", ""),
        )


def fingerprint(body: object) -> str:
    from hashlib import sha256

    return sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


class Ledger:
    """`table` names another ledger table (tests)."""

    def __init__(self, table: str = TABLE) -> None:
        self.table = table

    def _client(self) -> TableClient:
        return storage.table(self.table)

    # -- organizations
    def org_entries(self) -> dict[str, OrgEntry]:
        entities = self._client().query_entities("PartitionKey eq @pk", parameters={"pk": ORGS_PARTITION})
        return {e["RowKey"]: OrgEntry.from_entity(e) for e in entities}

    def org_entry(self, tenant_id: str) -> OrgEntry | None:
        try:
            return OrgEntry.from_entity(self._client().get_entity(partition_key=ORGS_PARTITION, row_key=tenant_id))
        except ResourceNotFoundError:
            return None

    def save_org(self, entry: OrgEntry) -> None:
        self._client().upsert_entity(entity=entry.entity(), mode=UpdateMode.REPLACE)

    def delete_org(self, tenant_id: str) -> None:
        self._client().delete_entity(partition_key=ORGS_PARTITION, row_key=tenant_id)

    # -- contacts
    def contacts(self, tenant_id: str) -> dict[str, ContactEntry]:
        entities = self._client().query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id})
        return {e["RowKey"]: ContactEntry.from_entity(e) for e in entities}

    def save_contacts(self, entries: Iterable[ContactEntry]) -> int:
        """Upsert entries, one transaction per 100 of a tenant (a transaction holds one partition)."""
        by_tenant: dict[str, dict[str, dict]] = {}
        for entry in entries:
            by_tenant.setdefault(entry.tenant_id, {})[entry.user_id] = entry.entity()
        client = self._client()
        count = 0
        for rows in by_tenant.values():
            items = list(rows.values())
            for i in range(0, len(items), storage.BATCH):
                chunk = items[i : i + storage.BATCH]
                client.submit_transaction([("upsert", e, {"mode": UpdateMode.REPLACE}) for e in chunk])
                count += len(chunk)
        return count
