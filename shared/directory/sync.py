"""Fetch one tenant's directory from Graph (organization, users paged by 999, subscribed SKUs), store it,
and enqueue its matching. Failures are recorded in the tenant's sync log, never raised past the caller."""

from __future__ import annotations

import asyncio
import logging

from shared.collect import credentials
from shared.directory import store
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.matching import messages, state
from shared.settings import GraphSettings
from shared.store import tenants

log = logging.getLogger("o365mon.directory")


async def fetch(tenant: tenants.Tenant, graph_settings: GraphSettings | None = None) -> DirectoryInfo:
    from shared.collect.graph import GraphSession

    creds = credentials.resolve(tenant.credential_prefix)
    async with GraphSession(tenant.tenant_id, creds, graph_settings or GraphSettings.from_env()) as g:
        org = await g.directory_organization()
        skus = await g.subscribed_skus()
        users: list[DirectoryUser] = []
        async for page in g.directory_users():
            users.extend(DirectoryUser.from_graph(u) for u in page)
    info = DirectoryInfo.from_graph(tenant.tenant_id, org, skus)
    if info.display_name or info.domains:  # the review and checks then find the tenant by these names too
        names = [info.default_domain, *info.domains]
        await asyncio.to_thread(tenants.learn_names, tenant.tenant_id, info.display_name, names)
    if not info.display_name:
        info.display_name = tenant.display_name
    return await asyncio.to_thread(store.save, info, users)


async def sync_tenant(
    tenant_id: str, trigger: str, graph_settings: GraphSettings | None = None, *, enqueue: bool = True
) -> DirectoryInfo | None:
    """Directory sync then a match request; on failure a `failed` sync log record says why, and None."""
    started = state.now_iso()
    try:
        tenant = tenants.get(tenant_id)
        info = await fetch(tenant, graph_settings)
    except Exception as exc:
        from shared.collect.graph import GraphFailure, describe_error

        if isinstance(exc, credentials.CredentialError):
            text = f"credentials: {exc}"
        else:
            text = str(exc) if isinstance(exc, GraphFailure) else describe_error(exc)
        log.warning("directory sync of %s failed: %s", tenant_id, text)
        record = state.SyncLog(tenant_id=tenant_id.lower(), started=started, status="failed", trigger=trigger)
        record.error(f"directory: {text}")
        await asyncio.to_thread(state.save_log, record)
        return None
    if enqueue:
        await asyncio.to_thread(
            messages.enqueue_match, info.tenant_id, trigger, sync_started=started, snapshot_id=info.snapshot_id
        )
    log.info("tenant %s: %d users stored, match enqueued", info.tenant_id, info.users)
    return info


def enqueue_all(trigger: str = "timer") -> list[str]:
    """One directory-sync message per enabled tenant (the timer's whole job)."""
    ids = [t.tenant_id for t in tenants.list_all() if t.enabled]
    for tenant_id in ids:
        messages.enqueue_sync(tenant_id, trigger)
    return ids
