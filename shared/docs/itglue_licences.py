"""Microsoft 365 licences (subscribed SKUs) into IT Glue: one "Microsoft Licenses" flexible asset per SKU and
organization, as IT Glue's own Microsoft licence integration documents them.

- Flexible asset types belong to the IT Glue account, not to an organization: one type serves every
  organization. It is found by its exact name and created only when missing; fields are then read back, so a
  type a person changed (renamed or added fields) is used as it is: only the fields found are written.
- An asset is identified by its SKU id trait (and the Tenant id trait, so two tenants documented in one
  organization never overwrite each other's SKUs). The lookup is in IT Glue itself, so a create whose answer
  was lost is found on the next run instead of being created twice.
- `PATCH /flexible_assets/:id` replaces every trait, so a write is always read-merge-write: the asset is read
  again just before the write and only the traits this module owns change. Traits of fields a person added,
  and the licence name once set (people rename "SPE_E3" to "Microsoft 365 E3"), are kept.
- The type and its fields are read once per process and account (`account_licence_type`), not for every
  organization. A person may delete or change the type meanwhile: the first 404 or 422 of a sync reads the type
  again, and if it is gone or different the cached one is dropped and the sync starts over once with the type
  found by name (or, when none has the name any more, created once: never a second type beside a live one).
- Nothing is written when nothing changed: the comparison uses the listed traits, so a resync with no change
  costs one read per organization (its assets) and no write, once the type is known to the process.
- A SKU gone from the tenant is not deleted: its asset is kept with status "Not in tenant" and zero counts.
  Deleting would lose what people documented on it (renewal date, supplier, notes), IT Glue has no undo, and a
  SKU missing from one collection (a partial Graph answer, a subscription moved between tenants) would come
  back as a new asset without them.

Only shared/docs/itglue.py speaks HTTP; this module only calls its client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs.itglue import ItGlueClient, ItGlueError, ItGlueOutcomeUnknown, Resource

log = logging.getLogger("o365mon.itglue.licences")

TYPE_NAME = "Microsoft Licenses"
TYPE_DESCRIPTION = "Microsoft 365 subscriptions of the tenant, kept up to date by o365mon"
NOT_IN_TENANT = "Not in tenant"

# Field names as IT Glue shows them (IT Glue's own spelling, matching the type name).
NAME = "License name"
PART_NUMBER = "SKU part number"
SKU_ID = "SKU id"
STATUS = "Status"
TOTAL = "Total"
ASSIGNED = "Assigned"
AVAILABLE = "Available"
USERS = "Assigned users"
TENANT = "Tenant id"

FIELDS: tuple[dict[str, Any], ...] = (
    {"order": 1, "name": NAME, "kind": "Text", "show_in_list": True, "use_for_title": True,
     "hint": "Set from the SKU part number when created; rename it freely, the sync keeps your name"},
    {"order": 2, "name": PART_NUMBER, "kind": "Text", "show_in_list": True},
    {"order": 3, "name": STATUS, "kind": "Text", "show_in_list": True,
     "hint": "Microsoft's capability status (Enabled, Warning, Suspended, ...) or 'Not in tenant'"},
    {"order": 4, "name": TOTAL, "kind": "Number", "show_in_list": True},
    {"order": 5, "name": ASSIGNED, "kind": "Number", "show_in_list": True},
    {"order": 6, "name": AVAILABLE, "kind": "Number", "show_in_list": True},
    {"order": 7, "name": USERS, "kind": "Tag", "tag_type": "Contacts"},
    {"order": 8, "name": SKU_ID, "kind": "Text", "required": True, "hint": "Identifies the SKU: do not change"},
    {"order": 9, "name": TENANT, "kind": "Text", "hint": "Microsoft 365 tenant id: do not change"},
)  # fmt: skip
# Written at every sync (Microsoft 365 is their source); NAME only when the asset is created or the name blank.
SYNCED = (PART_NUMBER, SKU_ID, STATUS, TOTAL, ASSIGNED, AVAILABLE, USERS, TENANT)


class LicenceTypeUnusable(Exception):
    """The account's "Microsoft Licenses" type cannot identify SKUs (no "SKU id" field)."""


@dataclass(frozen=True)
class LicenceType:
    """The flexible asset type as found in the account: its id, and the name-key and kind of each known field."""

    id: str
    keys: Mapping[str, str]  # our field name -> the type's name-key (only fields the type has)
    kinds: Mapping[str, str]  # every field's name-key -> kind (a person's fields included)
    created: bool = False


@dataclass(frozen=True)
class LicenceError:
    """A write IT Glue refused (422 with its pointer) or whose outcome is unknown (status 0)."""

    sku_id: str
    sku_part_number: str
    status: int
    title: str
    detail: str | None = None
    pointer: str | None = None

    def text(self) -> str:
        where = f" ({self.pointer})" if self.pointer else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"licence {self.sku_part_number or self.sku_id}: {self.status} {self.title}{detail}{where}"


@dataclass
class LicenceSyncResult:
    type_id: str = ""
    type_created: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    vanished: list[str] = field(default_factory=list)  # SKU ids marked "Not in tenant" by this run
    errors: list[LicenceError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }


# --------------------------------------------------------------------------------------------- the type
def _field_key(f: Resource) -> str:
    return str(f.get("name-key") or f.get("name_key") or "")


def _read_type(client: ItGlueClient, type_id: str, created: bool) -> LicenceType:
    fields = client.list_flexible_asset_fields(flexible_asset_type_id=type_id)
    by_name = {str(f.get("name") or "").strip().casefold(): f for f in fields}
    keys = {name: _field_key(f) for name in (f["name"] for f in FIELDS) if (f := by_name.get(name.casefold()))}
    if not keys.get(SKU_ID):
        raise LicenceTypeUnusable(
            f"the flexible asset type {TYPE_NAME!r} (id {type_id}) has no {SKU_ID!r} field, so its assets cannot be "
            "told apart by SKU (it may belong to IT Glue's own Microsoft integration): licences not synced"
        )
    kinds = {_field_key(f): str(f.get("kind") or "") for f in fields}
    return LicenceType(id=type_id, keys=keys, kinds=kinds, created=created)


def find_licence_type(client: ItGlueClient, *, name: str = TYPE_NAME) -> LicenceType | None:
    """The account's licence type, or None: for a tenant with no subscriptions there is nothing to create it for."""
    found = [t for t in client.list_flexible_asset_types(name=name) if t.get("name") == name]
    return _read_type(client, min(found, key=lambda t: int(t.id)).id, created=False) if found else None


def ensure_licence_type(client: ItGlueClient, *, name: str = TYPE_NAME) -> LicenceType:
    """The account's licence type, created with `FIELDS` when no type has exactly this name (uncached: see
    `account_licence_type`)."""
    existing = find_licence_type(client, name=name)
    if existing is not None:
        return existing
    try:
        created = client.create_flexible_asset_type(
            name=name, fields=FIELDS, attributes={"description": TYPE_DESCRIPTION, "show_in_menu": True}
        )
    except ItGlueError as exc:
        # Another run created it meanwhile (422 "has already been taken"), or our create's answer was lost:
        # either way, the type to use is the one IT Glue now has.
        if not (exc.status == 422 or isinstance(exc, ItGlueOutcomeUnknown)):
            raise
        found = find_licence_type(client, name=name)
        if found is None:
            raise
        return found
    log.info("IT Glue: created the flexible asset type %r (%s)", name, created.id)
    return _read_type(client, created.id, created=True)


# (API URL, key digest, type name) -> the type as last read. The type is account-wide and changes only when a
# person edits it, so re-reading it (two requests) for every organization would be a quarter of a resync.
_TYPES: dict[tuple[str, str, str], LicenceType] = {}
_TYPES_LOCK = threading.Lock()  # held while resolving: two threads of one process never both create the type


def account_licence_type(client: ItGlueClient, *, create: bool, name: str = TYPE_NAME) -> LicenceType | None:
    """The account's licence type, read once per process; `create`: create it when missing (else None).
    Raises LicenceTypeUnusable (not cached: a person may fix the type)."""
    key = (*client.account, name)
    with _TYPES_LOCK:
        cached = _TYPES.get(key)
        if cached is not None:
            return cached
        found = ensure_licence_type(client, name=name) if create else find_licence_type(client, name=name)
        if found is not None:
            _TYPES[key] = replace(found, created=False)  # created by this call only
        return found


def forget_licence_types() -> None:
    """Drop every cached type (an account emptied behind the process's back, as a test simulator's reset does)."""
    with _TYPES_LOCK:
        _TYPES.clear()


def _replace_cached(client: ItGlueClient, stale: LicenceType, current: LicenceType | None, *, create: bool,
                    name: str = TYPE_NAME) -> LicenceType | None:  # fmt: skip
    """Drop `stale` from the cache and return the type to use now: `current` as just read, or when none has the
    name any more, the one `account_licence_type` finds or creates (unless another thread already did)."""
    key = (*client.account, name)
    with _TYPES_LOCK:
        if key in _TYPES and _TYPES[key].id == stale.id:
            del _TYPES[key]
        if current is not None:
            _TYPES[key] = current
    return current or account_licence_type(client, create=create, name=name)


class _TypeChanged(Exception):
    """The type was deleted or changed in IT Glue after it was read; `current`: what it is now (None: gone)."""

    def __init__(self, current: LicenceType | None) -> None:
        super().__init__("the licence type changed in IT Glue")
        self.current = current


def _recheck_type(client: ItGlueClient, ltype: LicenceType, exc: ItGlueError, checked: list[bool]) -> None:
    """On the first 404/422 of a pass, read the type again: raise _TypeChanged when it is gone or different."""
    if exc.status not in (404, 422) or checked:
        return
    checked.append(True)
    try:
        current = find_licence_type(client)
    except LicenceTypeUnusable:
        current = None  # the next resolution says why it is unusable
    if current is None or (current.id, dict(current.keys), dict(current.kinds)) != (
        ltype.id, dict(ltype.keys), dict(ltype.kinds)
    ):  # fmt: skip
        raise _TypeChanged(current)


# --------------------------------------------------------------------------------------------- traits
def _tag_ids(value: Any) -> list[int]:
    """A Tag trait as ids, from what is written (`[12, 34]`) or what IT Glue may answer (`{"values": [{"id"}]}`)."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        value = value.get("values") or value.get("ids") or []
    if not isinstance(value, Sequence) or isinstance(value, str):
        value = [value]
    ids: set[int] = set()
    for item in value:
        raw = item.get("id") if isinstance(item, Mapping) else item
        try:
            ids.add(int(str(raw)))
        except (TypeError, ValueError):
            continue
    return sorted(ids)


def _same(kind: str, ours: Any, theirs: Any) -> bool:
    if kind == "Tag":
        return _tag_ids(ours) == _tag_ids(theirs)
    if kind == "Number":
        try:
            return float(ours) == float(theirs)
        except (TypeError, ValueError):
            return False
    return str(ours if ours is not None else "") == str(theirs if theirs is not None else "")


def _writable(traits: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    """Traits as read, in the form a write takes: a Tag field is written as a list of ids, whoever set it."""
    return {k: _tag_ids(v) if kinds.get(k) == "Tag" else v for k, v in traits.items() if v is not None}


def _desired(sku: Mapping[str, Any] | None, sku_id: str, tenant_id: str, users: list[int]) -> dict[str, Any]:
    """Our field name -> value; `sku` None: the SKU left the tenant."""
    if sku is None:
        gone: dict[str, Any] = {SKU_ID: sku_id, TENANT: tenant_id, STATUS: NOT_IN_TENANT, USERS: []}
        return {**gone, TOTAL: 0, ASSIGNED: 0, AVAILABLE: 0}
    total = int(sku.get("enabled") or 0)
    assigned = int(sku.get("consumedUnits") or 0)
    return {
        PART_NUMBER: str(sku.get("skuPartNumber") or ""),
        SKU_ID: sku_id,
        TENANT: tenant_id,
        STATUS: str(sku.get("capabilityStatus") or ""),
        TOTAL: total,
        ASSIGNED: assigned,
        AVAILABLE: total - assigned,  # negative when over-assigned (a Warning SKU): worth seeing as it is
        USERS: users,
    }


def _changes(ltype: LicenceType, desired: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """name-key -> new value, for our fields that differ; the licence name only when it is blank."""
    out: dict[str, Any] = {}
    for name, value in desired.items():
        key = ltype.keys.get(name)
        if not key:
            continue  # a field a person deleted from the type: nothing to write it to
        if name == NAME and str(current.get(key) or "").strip():
            continue
        if not _same(ltype.kinds.get(key, ""), value, current.get(key)):
            out[key] = _tag_ids(value) if ltype.kinds.get(key) == "Tag" else value
    return out


def licence_name(sku: Mapping[str, Any]) -> str:
    """The name a new licence asset gets. The repository has no SKU-to-product-name table (Microsoft publishes
    one as a CSV that changes monthly), so it is the part number; people rename it in IT Glue and it is kept."""
    return str(sku.get("skuPartNumber") or sku.get("skuId") or "")


# --------------------------------------------------------------------------------------------- the sync
def _assigned(users: Iterable[DirectoryUser], contact_ids: Mapping[str, str | int]) -> dict[str, list[int]]:
    """SKU id (lowercase) -> ids of the IT Glue contacts of the users holding it (users without one are left out)."""
    out: dict[str, set[int]] = {}
    for u in users:
        cid = contact_ids.get(u.id)
        if cid is None or not str(cid).strip().isdigit():
            continue  # no IT Glue contact for this user (not synced, or not created yet)
        for sku_id in u.sku_ids:
            out.setdefault(str(sku_id).lower(), set()).add(int(cid))
    return {k: sorted(v) for k, v in out.items()}


def _refused(result: LicenceSyncResult, sku_id: str, part: str, exc: ItGlueError) -> None:
    """Record a write IT Glue refused (422) or whose outcome is unknown; raise any other error."""
    if not (exc.status == 422 or isinstance(exc, ItGlueOutcomeUnknown)):
        raise exc
    result.errors.append(LicenceError(sku_id, part, exc.status, exc.title, exc.detail, exc.pointer))
    log.warning("IT Glue licence %s: %s", part or sku_id, exc)


def sync_licences(
    client: ItGlueClient,
    *,
    organization_id: str | int,
    info: DirectoryInfo,
    users: Iterable[DirectoryUser],
    contact_ids: Mapping[str, str | int],
    licence_type: LicenceType | None = None,
) -> LicenceSyncResult:
    """Make the organization's licence assets match the tenant's SKUs (`info.skus`).

    `contact_ids`: Microsoft 365 user object id -> IT Glue contact id, for the "Assigned users" tags.
    `licence_type`: as `account_licence_type` gave it (the default); a type deleted or changed in IT Glue since
    is read again and the sync starts over with it, once.
    A 422 (a record synced by a PSA or IT Glue's own integration, a required field a person added...) or a
    create whose answer was lost is recorded in the result and the other SKUs go on; any other IT Glue error
    (403, still throttled at the deadline) is raised, as for the rest of the sync.
    """
    tenant = _Tenant(
        org=str(int(organization_id)),
        tenant_id=info.tenant_id.lower(),
        skus={str(s.get("skuId") or "").lower(): s for s in info.skus if s.get("skuId")},
        holders=_assigned(users, contact_ids),
    )
    ltype: LicenceType | None
    try:
        ltype = licence_type or account_licence_type(client, create=True)
        for recheck in (True, False):
            if ltype is None:  # gone, and no subscription to create it for
                return LicenceSyncResult()
            try:
                return _sync(client, ltype, tenant, checked=[] if recheck else [True])
            except _TypeChanged as changed:
                log.info("IT Glue: the flexible asset type %r (%s) changed or was deleted: read again", TYPE_NAME,
                         ltype.id)  # fmt: skip
                ltype = _replace_cached(client, ltype, changed.current, create=bool(info.skus))
    except LicenceTypeUnusable as exc:
        result = LicenceSyncResult()
        result.errors.append(LicenceError("", "", 0, "flexible asset type unusable", str(exc)))
        return result
    raise AssertionError("unreachable: the second pass never rechecks the type")


@dataclass(frozen=True)
class _Tenant:
    """What one organization's sync needs of its tenant, whatever type each pass uses."""

    org: str  # IT Glue organization id
    tenant_id: str  # lowercase
    skus: Mapping[str, Mapping[str, Any]]  # SKU id (lowercase) -> subscribed SKU
    holders: Mapping[str, list[int]]  # SKU id -> contact ids of its users


def _sync(client: ItGlueClient, ltype: LicenceType, t: _Tenant, *, checked: list[bool]) -> LicenceSyncResult:
    result = LicenceSyncResult()
    result.type_id, result.type_created = ltype.id, ltype.created
    org, tenant, skus = t.org, t.tenant_id, t.skus
    sku_key, tenant_key = ltype.keys[SKU_ID], ltype.keys.get(TENANT)

    try:
        listed = client.list_flexible_assets(flexible_asset_type_id=ltype.id, organization_id=org)
    except ItGlueError as exc:
        _recheck_type(client, ltype, exc, checked)
        raise
    existing: dict[str, Resource] = {}
    for asset in sorted(listed, key=lambda a: int(a.id)):
        traits = asset.get("traits") or {}
        sku_id = str(traits.get(sku_key) or "").strip().lower()
        owner = str(traits.get(tenant_key) or "").strip().lower() if tenant_key else ""
        if not sku_id or (owner and owner != tenant):
            continue  # an asset a person made by hand, or another tenant's
        if sku_id in existing:
            result.notes.append(f"licence {sku_id}: several assets (ids {existing[sku_id].id}, {asset.id}): "
                                f"the oldest is kept up to date")  # fmt: skip
            continue
        existing[sku_id] = asset

    for sku_id in sorted(set(skus) | set(existing)):
        sku = skus.get(sku_id)
        part = str((sku or {}).get("skuPartNumber") or "")
        desired = _desired(sku, sku_id, tenant, t.holders.get(sku_id, []))
        if sku is not None:
            desired[NAME] = licence_name(sku)  # written only where the asset has no name (see _changes)
        found = existing.get(sku_id)
        if found is None:
            traits = {ltype.keys[n]: v for n, v in desired.items() if n in ltype.keys and v not in ("", None)}
            try:
                client.create_flexible_asset(organization_id=org, flexible_asset_type_id=ltype.id, traits=traits)
            except ItGlueError as exc:  # a lost answer: found by its SKU id next run if it was committed
                _recheck_type(client, ltype, exc, checked)
                _refused(result, sku_id, part, exc)
                continue
            result.created += 1
            continue
        asset = found
        if not _changes(ltype, desired, asset.get("traits") or {}):
            result.unchanged += 1
            continue
        try:
            # Read again right before writing: the listed traits may be older than a person's latest edit.
            fresh = client.get_flexible_asset(flexible_asset_id=asset.id)
            current = fresh.get("traits") or {}
            changes = _changes(ltype, desired, current)
            if not changes:
                result.unchanged += 1
                continue
            merged = {**_writable(current, ltype.kinds), **changes}
            client.replace_flexible_asset_traits(flexible_asset_id=asset.id, traits=merged)
        except ItGlueError as exc:
            _recheck_type(client, ltype, exc, checked)
            _refused(result, sku_id, part, exc)
            continue
        result.updated += 1
        if sku is None and str(current.get(ltype.keys.get(STATUS, ""), "")) != NOT_IN_TENANT:
            result.vanished.append(sku_id)
    return result
