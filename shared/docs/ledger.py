"""o365mon's ledger of what it created or linked in IT Glue, in Table Storage (`DocLedger`).

IT Glue has no idempotency keys and no external-id field, so the links (tenant -> organization, (tenant, user)
-> contact) and the creations in flight are kept here:

- PartitionKey tenant id: the tenant's contact entries (state, contact id, organization id, how it was linked,
  what was sent), packed up to `PACK_ROWS` per entity (shared/store/packs.py). One entity per entry cost ~1 ms
  of SDK CPU each way (10,000 users: half of a first sync's wall); packed, a tenant is one partition query to
  read and a few ETag-conditional writes, so two runs for one tenant cannot lose each other's entries. Rows of
  the older one-entity-per-entry layout (RowKey = user object id) are still read, and deleted once their entry
  is written packed.
- PartitionKey `~orgs`, RowKey tenant id: the tenant's organization (state, id, name sent). One partition, read
  whole: `organizations()` needs every link at once, and an MSP has hundreds to a few thousand tenants.

A creation writes a `pending` entry (with what it sends) before the POST and `done` with the id after it. A
`pending` entry found later means the answer was lost (dropped connection, crash, kill): the creator reads
IT Glue and adopts the record that matches what was sent before it creates anything again.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.store import storage
from shared.store.packs import PACK_PREFIX, Pack, merge

TABLE = "DocLedger"
ORGS_PARTITION = "~orgs"  # '~' never starts a tenant id (a GUID)
PENDING, DONE, REJECTED = "pending", "done", "rejected"
PACK_ROWS = 2_000  # entries per packed entity (~100 KB compressed)
WRITE_ATTEMPTS = 10  # a conflict means another run's write landed: re-read, merge, write again


def _property(name: str) -> str:
    """The entity property of a dataclass field: `contact_id` -> `ContactId`."""
    return "".join(part.capitalize() for part in name.split("_"))


def _properties(entry: Any, *, skip: tuple[str, ...]) -> dict:
    return {_property(f.name): getattr(entry, f.name) for f in fields(entry) if f.name not in skip}


def _attributes(cls: type, e: dict, *, skip: tuple[str, ...]) -> dict:
    """The dataclass fields found in entity `e` (missing ones keep their defaults)."""
    return {f.name: e[_property(f.name)] for f in fields(cls) if f.name not in skip and _property(f.name) in e}


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
            **_properties(self, skip=("tenant_id", "user_id")),
            "Error": self.error[:2000],
            "Updated": storage.now_iso(),
        }

    @classmethod
    def from_entity(cls, e: dict) -> ContactEntry:
        entry = cls(
            tenant_id=e["PartitionKey"], user_id=e["RowKey"], **_attributes(cls, e, skip=("tenant_id", "user_id"))
        )
        entry.deactivated_by_sync = bool(entry.deactivated_by_sync)
        return entry


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
            **_properties(self, skip=("tenant_id",)),
            "Updated": storage.now_iso(),
        }

    @classmethod
    def from_entity(cls, e: dict) -> OrgEntry:
        return cls(tenant_id=e["RowKey"], **_attributes(cls, e, skip=("tenant_id",)))


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
    def _partition(self, tenant_id: str) -> tuple[dict[str, ContactEntry], dict[str, Pack]]:
        """The tenant's entries of the older one-per-row layout, and its packs."""
        legacy: dict[str, ContactEntry] = {}
        packs: dict[str, Pack] = {}
        for e in self._client().query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id}):
            if e["RowKey"].startswith(PACK_PREFIX):
                packs[e["RowKey"]] = Pack.from_entity(e)
            else:
                legacy[e["RowKey"]] = ContactEntry.from_entity(e)
        return legacy, packs

    def contacts(self, tenant_id: str) -> dict[str, ContactEntry]:
        legacy, packs = self._partition(tenant_id)
        packed = {u: ContactEntry.from_entity({**row, "PartitionKey": tenant_id}) for p in packs.values()
                  for u, row in p.rows.items()}  # fmt: skip
        return legacy | packed  # an entry written packed is newer than its old row

    def save_contacts(self, entries: Iterable[ContactEntry]) -> int:
        """Write entries into their tenants' packs; returns how many."""
        by_tenant: dict[str, dict[str, dict]] = {}
        for entry in entries:
            row = entry.entity()
            del row["PartitionKey"]
            by_tenant.setdefault(entry.tenant_id, {})[entry.user_id] = row
        for tenant_id, rows in by_tenant.items():
            self._save_tenant(tenant_id, rows)
        return sum(len(rows) for rows in by_tenant.values())

    def _save_tenant(self, tenant_id: str, rows: dict[str, dict]) -> None:
        """Merge into the tenant's packs, re-reading and merging again when another run wrote first."""
        client = self._client()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            legacy, packs = self._partition(tenant_id)
            try:
                for pack in merge(tenant_id, packs, rows, per_pack=PACK_ROWS):
                    pack.write(client)
            except HttpResponseError as exc:
                if exc.status_code in (409, 412) and attempt < WRITE_ATTEMPTS:
                    time.sleep(random.uniform(0, 0.05 * attempt))  # let the other run finish its writes
                    continue
                raise
            storage.delete_rows(client, tenant_id, [u for u in legacy if u in rows])
            return
