"""Partner discovery (GDAP): the partner tenant's customers, compared with the Tenants table.

A customer is a tenant with at least one ACTIVE delegatedAdminRelationship that is not one of Microsoft's
`MLT_` transition relationships (created by Microsoft when DAP was retired; CIPP drops them the same way in
Get-Tenants.ps1). A customer often has several relationships: they are grouped by the customer's tenant id. The
name comes from delegatedAdminCustomers, which Graph keeps current; `contracts` is never read, it keeps the name
from the day the partnership began.

States: `new` (a customer the Tenants table does not have), `known` (it has), `gone` (a tenant discovery added
that is no longer a customer). Applying a discovery adds the new ones and marks the gone ones `Removed`: a
tenant is never deleted for it (its data, runs and names stay; an operator disables or removes it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from shared import settings
from shared.store import tenants

NEW, KNOWN, GONE = "new", "known", "gone"
TRANSITION_PREFIX = "MLT_"


@dataclass(frozen=True)
class Customer:
    tenant_id: str
    name: str
    state: str  # NEW, KNOWN or GONE
    relationships: int = 0  # active, non-MLT_ relationships


def customers(relationships: list[dict], customer_objects: list[dict]) -> dict[str, tuple[str, int]]:
    """Customer tenant id -> (name, number of its active non-MLT_ relationships)."""
    names = {
        str(c.get("tenantId") or c.get("id") or "").lower(): str(c.get("displayName") or "") for c in customer_objects
    }
    found: dict[str, tuple[str, int]] = {}
    for r in relationships:
        customer = r.get("customer") or {}
        tenant_id = str(customer.get("tenantId") or "").lower()
        if r.get("status") != "active" or str(r.get("displayName") or "").startswith(TRANSITION_PREFIX):
            continue
        if not tenants.is_guid(tenant_id):
            continue
        _, count = found.get(tenant_id, ("", 0))
        found[tenant_id] = (names.get(tenant_id) or str(customer.get("displayName") or ""), count + 1)
    return found


def compare(found: dict[str, tuple[str, int]], stored: list[tenants.Tenant], partner: str = "") -> list[Customer]:
    """Each customer's state against the stored tenants, sorted by state then name."""
    by_id = {t.tenant_id: t for t in stored}
    result = [
        Customer(tenant_id, name, KNOWN if tenant_id in by_id else NEW, count)
        for tenant_id, (name, count) in found.items()
        if tenant_id != partner
    ]
    result += [
        Customer(t.tenant_id, t.name, GONE)
        for t in stored
        if t.source == tenants.DISCOVERED and t.tenant_id not in found
    ]
    order = {NEW: 0, KNOWN: 1, GONE: 2}
    return sorted(result, key=lambda c: (order[c.state], c.name.lower(), c.tenant_id))


def partner_tenant(given: str = "") -> str:
    """The partner's own tenant id: `--partner`, else O365_TENANT_ID (a domain is looked up)."""
    name = (given or settings.get(tenants.SHORTCUT)).strip().lower()
    if not name:
        raise tenants.TenantError("partner tenant unknown: set O365_TENANT_ID or give --partner")
    return name if tenants.is_guid(name) else tenants.discover(name)


async def _read(partner: str) -> tuple[list[dict], list[dict]]:
    # Imported here: the Graph SDK is loaded only by what talks to Graph.
    from shared.collect import credentials
    from shared.collect.graph import GraphSession

    async with GraphSession(partner, credentials.resolve(), settings.GraphSettings.from_env()) as g:
        return await g.delegated_admin_relationships(), await g.delegated_admin_customers()


def discover(partner: str = "") -> list[Customer]:
    """The partner's customers and the tenants discovery added that are gone (Graph, then the Tenants table)."""
    partner_id = partner_tenant(partner)
    relationships, customer_objects = asyncio.run(_read(partner_id))
    stored = [t for t in tenants.list_all() if t.source != tenants.SHORTCUT]
    return compare(customers(relationships, customer_objects), stored, partner_id)


@dataclass
class Changes:
    added: list[Customer]
    removed: list[Customer]  # newly marked Removed
    returned: list[Customer]  # a Removed mark cleared: a customer again


def apply(found: list[Customer], *, enabled: bool, dry_run: bool = False) -> Changes:
    """Add the new customers (enabled or not, by policy), mark the gone ones Removed and clear the mark of
    those that came back; with dry_run, only say what would change."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    changes = Changes([], [], [])
    for c in found:
        stored = tenants.load(c.tenant_id)
        if c.state == NEW:
            changes.added.append(c)
            if not dry_run:
                tenants.save(
                    tenants.Tenant(c.tenant_id, display_name=c.name, enabled=enabled, source=tenants.DISCOVERED)
                )
        elif c.state == GONE and stored is not None and not stored.removed:
            changes.removed.append(c)
            if not dry_run:
                stored.removed = now
                tenants.save(stored)
        elif c.state == KNOWN and stored is not None and stored.removed:
            changes.returned.append(c)
            if not dry_run:
                stored.removed = ""
                tenants.save(stored)
    return changes
