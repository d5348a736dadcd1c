"""`DocumentationStore` on Azure Table Storage.

- `DocOrganizations`: PartitionKey "org", RowKey organization id (an MSP documents hundreds to a few
  thousand organizations: one small partition, read whole by the matcher).
- `DocContacts`: PartitionKey organization id; its contacts packed up to `PACK_ROWS` per entity (RowKey
  `~pack-NNNN`, shared/store/packs.py). One entity per contact
  cost ~1 ms of SDK CPU each even in 100-entity transactions (60,000 contacts took 80 s to import); packed,
  an organization is one partition query to read and a few conditional (ETag) writes. Rows of the older
  one-entity-per-contact layout (RowKey = contact id) are still read, and deleted once their contact is
  written packed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.docs.base import StoreReport
from shared.docs.model import CREATED, Contact, Organization, contact_id_for, organization_id_for
from shared.store import storage
from shared.store.packs import PACK_PREFIX, Pack, merge

if TYPE_CHECKING:
    from shared.directory.model import DirectoryInfo, DirectoryUser

ORGS = "DocOrganizations"
CONTACTS = "DocContacts"
ORG_PARTITION = "org"
PACK_ROWS = 2_000  # contacts per packed entity (~120 KB compressed)
WRITE_ATTEMPTS = 5


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


def _list(value: object) -> list:
    """A contact's e-mails or phones: JSON text in a one-contact entity, a list inside a pack."""
    if isinstance(value, list):
        return value
    return json.loads(str(value or "[]"))


def _contact(e: dict) -> Contact:
    return Contact(
        organization_id=e["PartitionKey"],
        id=e["RowKey"],
        first_name=e.get("FirstName", ""),
        last_name=e.get("LastName", ""),
        title=e.get("Title", ""),
        emails=_list(e.get("Emails")),
        phones=_list(e.get("Phones")),
        active=bool(e.get("Active", True)),
        link_tenant=e.get("LinkTenant", ""),
        link_user=e.get("LinkUser", ""),
        link_source=e.get("LinkSource", ""),
        link_rule=e.get("LinkRule", ""),
        deactivated_by_sync=bool(e.get("DeactivatedBySync", False)),
        notes=e.get("Notes", ""),
    )


class TableDocumentationStore:
    """`prefix` names a separate pair of tables (tests, or a second documentation set). Ids are derived
    (uuid5 of tenant, or tenant + user), so a replayed or concurrent creation overwrites instead of duplicating;
    links live on the records themselves."""

    def __init__(self, prefix: str = "") -> None:
        self.orgs_table, self.contacts_table = f"{prefix}{ORGS}", f"{prefix}{CONTACTS}"

    def organizations(self) -> list[Organization]:
        entities = storage.table(self.orgs_table).query_entities(
            "PartitionKey eq @pk", parameters={"pk": ORG_PARTITION}
        )
        return sorted((_org(e) for e in entities), key=lambda o: (o.name.lower(), o.id))

    def organization(self, org_id: str) -> Organization | None:
        try:
            return _org(storage.table(self.orgs_table).get_entity(partition_key=ORG_PARTITION, row_key=org_id))
        except ResourceNotFoundError:
            return None

    def save_organization(self, org: Organization) -> None:
        storage.table(self.orgs_table).upsert_entity(entity=_org_entity(org), mode=UpdateMode.REPLACE)

    def save_organizations(self, orgs: Iterable[Organization]) -> int:
        """Upsert organizations in transactions of up to 100 (they share one partition)."""
        entities = list({o.id: _org_entity(o) for o in orgs}.values())
        table = storage.table(self.orgs_table)
        step = storage.BATCH
        for i in range(0, len(entities), step):
            table.submit_transaction([("upsert", e, {"mode": UpdateMode.REPLACE}) for e in entities[i : i + step]])
        return len(entities)

    def create_organization(self, tenant_id: str, name: str) -> Organization:
        org = self.organization(organization_id_for(tenant_id))
        if org is None:
            org = Organization(organization_id_for(tenant_id), name or tenant_id, tenant_id, CREATED)
        self.link_organization(tenant_id, org.id, CREATED, org)
        return replace(org, tenant_id=tenant_id, link_source=org.link_source or CREATED)

    def link_organization(self, tenant_id: str, org_id: str, source: str, org: Organization | None = None) -> None:
        for o in self.organizations():
            if o.tenant_id == tenant_id and o.id != org_id:
                self.save_organization(replace(o, tenant_id="", link_source=""))
        target = org or self.organization(org_id)
        if target is None:
            raise KeyError(f"unknown organization {org_id!r}")
        if target.tenant_id != tenant_id or org is not None:
            self.save_organization(replace(target, tenant_id=tenant_id, link_source=source))

    def unlink_organization(self, tenant_id: str) -> None:
        for o in self.organizations():
            if o.tenant_id == tenant_id:
                self.save_organization(replace(o, tenant_id="", link_source=""))

    def create_contacts(self, tenant_id: str, org_id: str, contacts: Sequence[Contact]) -> list[Contact]:
        made = [
            replace(c, organization_id=org_id, id=contact_id_for(tenant_id, c.link_user), link_tenant=tenant_id)
            for c in contacts
        ]
        self.save_contacts(made)
        return made

    def update_contacts(self, changes: Sequence[tuple[Contact, Contact]]) -> int:
        return self.save_contacts([new for old, new in changes if new != old])

    def document_licences(
        self,
        tenant_id: str,
        org_id: str,
        info: DirectoryInfo,
        users: Sequence[DirectoryUser],
        contact_ids: Mapping[str, str],
    ) -> list[str]:
        # The subscriptions are already o365mon's own data (the `subscriptions` dataset, the licence check):
        # a second copy here could only drift from it.
        return []

    def report(self) -> StoreReport:
        return StoreReport()

    def _entities(self, org_id: str) -> list[dict]:
        return list(storage.table(self.contacts_table).query_entities("PartitionKey eq @pk", parameters={"pk": org_id}))

    def contacts(self, org_id: str) -> list[Contact]:
        legacy, packed = _split_entities(self._entities(org_id))
        merged = {c.id: c for c in legacy} | {c.id: c for pack in packed.values() for c in _pack_contacts(pack)}
        return list(merged.values())

    def contact(self, org_id: str, contact_id: str) -> Contact | None:
        # The review's single lookups: one partition query (an organization is a few packed entities).
        return next((c for c in self.contacts(org_id) if c.id == contact_id), None)

    def save_contacts(self, contacts: Iterable[Contact]) -> int:
        by_org: dict[str, dict[str, Contact]] = defaultdict(dict)
        for c in contacts:
            by_org[c.organization_id][c.id] = c
        written = 0
        for org_id, by_id in by_org.items():
            self._save_org(org_id, by_id)
            written += len(by_id)
        return written

    def _save_org(self, org_id: str, by_id: dict[str, Contact]) -> None:
        """Merge into the organization's packs with ETag-conditional writes, re-reading and merging again on a
        conflict (the matcher and an import may write the same organization). A contact stays in its pack;
        new ones fill the last pack up to PACK_ROWS, then a new one."""
        table = storage.table(self.contacts_table)
        for attempt in range(WRITE_ATTEMPTS):
            legacy, packs = _split_entities(self._entities(org_id))
            changed = merge(org_id, packs, {cid: _packed(c) for cid, c in by_id.items()}, per_pack=PACK_ROWS)
            try:
                for pack in changed:
                    pack.write(table)
            except HttpResponseError as exc:
                if exc.status_code in (409, 412) and attempt < WRITE_ATTEMPTS - 1:
                    continue
                raise
            self._delete_legacy(org_id, [c.id for c in legacy if c.id in by_id])
            return

    def _delete_legacy(self, org_id: str, row_keys: list[str]) -> None:
        storage.delete_rows(storage.table(self.contacts_table), org_id, row_keys)


def _split_entities(entities: list[dict]) -> tuple[list[Contact], dict[str, Pack]]:
    legacy: list[Contact] = []
    packs: dict[str, Pack] = {}
    for e in entities:
        if e["RowKey"].startswith(PACK_PREFIX):
            packs[e["RowKey"]] = Pack.from_entity(e)
        else:
            legacy.append(_contact(e))
    return legacy, packs


def _packed(c: Contact) -> dict:
    d = _contact_entity(c)
    del d["PartitionKey"]
    d["Emails"], d["Phones"] = c.emails, c.phones
    return d


def _unpacked(org_id: str, d: dict) -> Contact:
    # A packed contact is the entity form without its PartitionKey, with the lists kept as lists.
    return _contact({**d, "PartitionKey": org_id})


def _pack_contacts(pack: Pack) -> list[Contact]:
    return [_unpacked(pack.partition, r) for r in pack.rows.values()]
