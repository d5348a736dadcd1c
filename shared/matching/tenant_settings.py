"""What to sync, per tenant, as IT Glue's Microsoft integration setup screen chooses it: whose users become
contacts (the subscriptions, by SKU part number or SKU id), whether licences are documented, whether guests take
part. Unset means the app setting (SYNC_LICENCES, SYNC_INCLUDE_GUESTS; every licensed user for subscriptions).

`SyncSettings` (PartitionKey "tenant", RowKey tenant id): `Skus` (JSON list as the reviewer named them, absent for
every licensed user), `Licences` and `Guests` (booleans, absent for the app setting), `Updated`. Changes are
ETag-conditional, so two reviewers changing different settings at once both keep their change.

The CLI (`o365mon sync settings`) and the admin API (`/api/review/tenants/{tenant}/settings`) both go through
`show` and `change`; `shared.matching.policy.Policy.for_tenant` applies them in the matcher.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared import settings
from shared.directory.model import DirectoryInfo
from shared.echo import echo
from shared.errors import UserInputError
from shared.store import storage

TABLE = "SyncSettings"
PARTITION = "tenant"
KEYS = ("skus", "licences", "guests")
# Graph's SKU part numbers: letters, digits and _ . + - (e.g. SPE_E3, O365_BUSINESS_PREMIUM, Microsoft_365_Copilot).
_PART_NUMBER = re.compile(r"^[A-Za-z0-9_.+-]{1,100}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ATTEMPTS = 5


@dataclass(frozen=True)
class TenantSettings:
    tenant_id: str
    skus: tuple[str, ...] | None = None  # None: every licensed user (the global policy)
    licences: bool | None = None  # None: SYNC_LICENCES
    guests: bool | None = None  # None: SYNC_INCLUDE_GUESTS
    updated: str = ""

    @classmethod
    def from_entity(cls, e: Mapping[str, Any]) -> TenantSettings:
        skus = json.loads(e["Skus"]) if e.get("Skus") else None
        return cls(
            tenant_id=str(e["RowKey"]),
            skus=tuple(skus) if skus else None,
            licences=e.get("Licences") if isinstance(e.get("Licences"), bool) else None,
            guests=e.get("Guests") if isinstance(e.get("Guests"), bool) else None,
            updated=str(e.get("Updated") or ""),
        )

    def to_entity(self) -> dict[str, Any]:
        entity: dict[str, Any] = {"PartitionKey": PARTITION, "RowKey": self.tenant_id, "Updated": self.updated}
        if self.skus is not None:
            entity["Skus"] = json.dumps(list(self.skus))
        if self.licences is not None:
            entity["Licences"] = self.licences
        if self.guests is not None:
            entity["Guests"] = self.guests
        return entity

    @property
    def is_default(self) -> bool:
        return self.skus is None and self.licences is None and self.guests is None


def get(tenant_id: str) -> TenantSettings:
    """The tenant's settings; every one unset (the app settings apply) when none were stored."""
    try:
        entity = storage.table(TABLE).get_entity(partition_key=PARTITION, row_key=tenant_id.lower())
    except ResourceNotFoundError:
        return TenantSettings(tenant_id.lower())
    return TenantSettings.from_entity(entity)


def list_all() -> list[TenantSettings]:
    rows = storage.table(TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": PARTITION})
    return sorted((TenantSettings.from_entity(e) for e in rows), key=lambda s: s.tenant_id)


def save(tenant_id: str, changes: Mapping[str, Any]) -> TenantSettings:
    """Apply already validated `changes` (a key set to None goes back to the app setting) and store them."""
    tenant_id = tenant_id.lower()
    client = storage.table(TABLE)
    for _ in range(_ATTEMPTS):
        try:
            entity = client.get_entity(partition_key=PARTITION, row_key=tenant_id)
        except ResourceNotFoundError:
            entity = None
        current = TenantSettings.from_entity(entity) if entity is not None else TenantSettings(tenant_id)
        new = replace(current, **dict(changes), updated=storage.now_iso())
        try:
            if entity is None:
                client.create_entity(new.to_entity())
            else:
                client.update_entity(
                    new.to_entity(),
                    mode=UpdateMode.REPLACE,
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError):
            continue  # another change landed in between: apply ours on top of it
        return new
    raise RuntimeError(f"settings of tenant {tenant_id} kept changing under us; try again")


# --------------------------------------------------------------------------------------------- validation
def _known(info: DirectoryInfo | None) -> dict[str, dict]:
    """Lowercased SKU id and part number -> the tenant's SKU."""
    out: dict[str, dict] = {}
    for s in info.skus if info else []:
        for k in (str(s.get("skuId") or ""), str(s.get("skuPartNumber") or "")):
            if k:
                out[k.lower()] = s
    return out


def check_skus(values: Iterable[Any], info: DirectoryInfo | None) -> tuple[str, ...]:
    """The subscriptions named (part numbers or SKU ids), checked against the tenant's stored SKUs when a directory
    is stored (a typo would otherwise silently sync no one), spelt as the tenant spells them, duplicates dropped."""
    known = _known(info)
    out: list[str] = []
    for raw in values:
        if not isinstance(raw, str) or not raw.strip():
            raise UserInputError(f"skus: each SKU is a part number or SKU id string, got {echo(json.dumps(raw))}")
        value = raw.strip()
        if not (_GUID.match(value) or _PART_NUMBER.match(value)):
            raise UserInputError(f"skus: '{echo(value)}' is neither a SKU part number (e.g. SPE_E3) nor a SKU id")
        if known:
            sku = known.get(value.lower())
            if sku is None:
                names = ", ".join(sorted({str(s.get("skuPartNumber") or s.get("skuId")) for s in known.values()}))
                raise UserInputError(f"skus: the tenant has no subscription '{echo(value)}' (it has: {names})")
            value = str(sku["skuId"]).lower() if _GUID.match(value) else str(sku["skuPartNumber"])
        elif _GUID.match(value):
            value = value.lower()
        if value.lower() not in {v.lower() for v in out}:
            out.append(value)
    if not out:
        raise UserInputError("skus: name at least one subscription, or use null (every licensed user)")
    return tuple(out)


def parse_changes(doc: Any, info: DirectoryInfo | None) -> dict[str, Any]:
    """An API body: {"skus": [..] | null, "licences": true | false | null, "guests": true | false | null}.

    Keys left out keep their value; null goes back to the app setting. Anything else is refused, naming it."""
    if not isinstance(doc, dict):
        raise UserInputError('the body must be a JSON object, e.g. {"skus": ["SPE_E3"], "licences": true}')
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        raise UserInputError(f"unknown setting '{echo(unknown[0])}' (the settings are: {', '.join(KEYS)})")
    out: dict[str, Any] = {}
    if "skus" in doc:
        skus = doc["skus"]
        if skus is not None and not isinstance(skus, list):
            raise UserInputError("skus must be a list of SKU part numbers or SKU ids, or null (every licensed user)")
        out["skus"] = None if skus is None else check_skus(skus, info)
    for key in ("licences", "guests"):
        if key in doc:
            if doc[key] is not None and not isinstance(doc[key], bool):
                shown = echo(json.dumps(doc[key]))
                raise UserInputError(f"{key} must be true, false or null (the app setting), got {shown}")
            out[key] = doc[key]
    return out


def resolve_skus(entries: Iterable[str], info: DirectoryInfo | None) -> frozenset[str]:
    """The SKU ids (lowercase) of stored entries. A part number the tenant does not have (any more) matches no one."""
    known = _known(info)
    out: set[str] = set()
    for e in entries:
        if _GUID.match(e):
            out.add(e.lower())
        elif (sku := known.get(e.lower())) is not None:
            out.add(str(sku["skuId"]).lower())
    return frozenset(out)


# --------------------------------------------------------------------------------------------- show / change
def _tenant(name: str) -> str:
    from shared.matching.review import tenant_id_of

    return tenant_id_of(name)


def describe(s: TenantSettings, info: DirectoryInfo | None) -> dict[str, Any]:
    """What is stored, what applies, and the tenant's subscriptions to choose from (what the console shows)."""
    global_guests, global_licences = settings.flag("SYNC_INCLUDE_GUESTS"), settings.flag("SYNC_LICENCES")
    chosen = resolve_skus(s.skus, info) if s.skus is not None else None
    return {
        "tenant_id": s.tenant_id,
        "tenant_name": info.display_name if info else "",
        "settings": {"skus": list(s.skus) if s.skus is not None else None, "licences": s.licences, "guests": s.guests},
        "effective": {
            "contacts_for": "every licensed user" if chosen is None else "users of the chosen subscriptions",
            "sku_ids": None if chosen is None else sorted(chosen),
            "licences": global_licences if s.licences is None else s.licences,
            "guests": global_guests if s.guests is None else s.guests,
        },
        "subscriptions": [
            {
                "sku_id": str(k.get("skuId") or ""),
                "sku_part_number": str(k.get("skuPartNumber") or ""),
                "assigned": int(k.get("consumedUnits") or 0),
                "total": int(k.get("enabled") or 0),
                "synced": chosen is None or str(k.get("skuId") or "").lower() in chosen,
            }
            for k in (info.skus if info else [])
        ],
        "directory_stored": info is not None,
        "updated": s.updated,
    }


def show(tenant: str) -> dict[str, Any]:
    from shared.directory import store as directory

    tenant_id = _tenant(tenant)
    return describe(get(tenant_id), directory.load_info(tenant_id))


def change(tenant: str, doc: Any) -> dict[str, Any]:
    """Validate and store an API body (see `parse_changes`); returns what `show` returns."""
    from shared.directory import store as directory

    tenant_id = _tenant(tenant)
    info = directory.load_info(tenant_id)
    return describe(save(tenant_id, parse_changes(doc, info)), info)
