"""One matcher run for one tenant (what the `contact-match` queue trigger does), under the tenant lock.

1. apply a reviewer's pending decision (match / ignore / create the organization);
2. organization: link > normalized name > suggestions > unmatched (shared.matching.orgs);
3. contacts of the matched organization (shared.matching.contacts), written as upserts keyed by id;
4. per-user results and one sync log record.
Every write is an idempotent upsert and created contacts have ids derived from tenant + user, so the same
message twice, two messages at once (serialized by the lock) or a run resumed after a crash all end in the
same state.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from shared import settings
from shared.directory import store as directory
from shared.docs.base import DocumentationStore
from shared.docs.model import Organization, organization_id_for
from shared.docs.tables import TableDocumentationStore
from shared.matching import contacts, messages, orgs, state
from shared.matching.lock import TenantLock
from shared.matching.policy import Policy

log = logging.getLogger("o365mon.matching")


def _apply_decision(m: state.TenantMatch, tenant_name: str, store: DocumentationStore, record: state.SyncLog) -> None:
    d = m.decision
    action = d.get("action", "")
    all_orgs = store.organizations()
    target: Organization | None = None
    if action in ("match", "accept"):
        target = store.organization(d.get("org_id", ""))
        if target is None:
            record.error(f"review: organization {d.get('org_id')!r} no longer exists; decision dropped")
    elif action == "create":
        org_id = organization_id_for(m.tenant_id)
        target = store.organization(org_id) or Organization(org_id, tenant_name or m.tenant_id, link_source="created")
    elif action == "ignore":
        m.ignored = True
    elif action == "unignore":
        m.ignored = False
    if target is not None:
        for o in all_orgs:  # a tenant is linked to one organization: the reviewer's choice replaces the old link
            if o.tenant_id == m.tenant_id and o.id != target.id:
                store.save_organization(replace(o, tenant_id="", link_source=""))
        if target.tenant_id != m.tenant_id:
            source = "created" if action == "create" else "manual"
            store.save_organization(replace(target, tenant_id=m.tenant_id, link_source=source))
        m.ignored = False
    record.notes.append(f"review decision applied: {action}")
    state.clear_decision(m.tenant_id, m.etag, ignored=m.ignored)


def match_tenant(
    tenant_id: str,
    record: state.SyncLog,
    *,
    store: DocumentationStore | None = None,
    policy: Policy | None = None,
    lock: TenantLock | None = None,
) -> None:
    store = store or TableDocumentationStore()
    policy = policy or Policy.from_env()
    info = directory.load_info(tenant_id)
    if info is None:
        record.error("no directory stored for this tenant yet: start a sync first")
        record.status = "failed"
        return
    m = state.get_match(tenant_id) or state.TenantMatch(tenant_id)
    if m.decision:
        _apply_decision(m, info.display_name, store, record)
    decision = orgs.match_organization(
        tenant_id, info.display_name, store.organizations(), ignored=m.ignored, cutoff=policy.suggestion_cutoff
    )
    if decision.status == orgs.MATCHED and decision.rule == "name":
        org = store.organization(decision.org_id)
        if org is not None and not org.tenant_id:
            store.save_organization(replace(org, tenant_id=tenant_id, link_source="name"))
    m.tenant_name, m.status, m.org_id, m.rule = info.display_name, decision.status, decision.org_id, decision.rule
    m.suggestions, m.message = decision.suggestions, decision.message
    state.save_result(m)
    record.organization_status, record.organization_id = decision.status, decision.org_id
    record.users = info.users
    if decision.message:
        record.notes.append(f"organization: {decision.message}")
    if decision.status != orgs.MATCHED:
        key = {orgs.SUGGESTED: "suggested", orgs.AMBIGUOUS: "ambiguous", orgs.IGNORED: "ignored"}.get(decision.status)
        if key:
            record.counts[key] += 1
        if decision.status == orgs.UNMATCHED:
            record.notes.append("organization: no match and no suggestion; create it or match it in the review")
        state.save_results(tenant_id, [], {"organization": decision.status})
        record.status = "success"
        return
    users = list(directory.load_users(tenant_id))
    documented = store.contacts(decision.org_id)
    plan = contacts.plan(tenant_id, decision.org_id, users, documented, policy)
    if lock is not None:
        lock.renew()
    store.save_contacts(plan.writes)
    for k, v in plan.counts.items():
        record.counts[k] += v
    for o in plan.outcomes:
        if o.status == contacts.AMBIGUOUS:
            record.notes.append(f"ambiguous ({o.rule}): {o.upn}: {o.detail}")
    state.save_results(tenant_id, (o.to_row() for o in plan.outcomes), {"organization": decision.status})
    record.status = "success"


def handle_message(
    body: str | bytes, *, attempt: int = 1, store: DocumentationStore | None = None, queued: bool = True
) -> state.SyncLog:
    """The queue trigger's work. Raises on failure (so the host retries), after logging why in the sync log.
    `queued=False` (the CLI's inline run): nothing retries it, so the log does not promise a retry."""
    msg = messages.parse(body)
    tenant_id = msg["tenant_id"]
    record = state.SyncLog(
        tenant_id=tenant_id,
        started=msg.get("sync_started") or state.now_iso(),
        trigger=str(msg.get("trigger", "")),
        attempt=attempt,
    )
    ttl = settings.number("MATCH_LOCK_SECONDS")
    wait = settings.number("MATCH_LOCK_WAIT")
    record.status = "started"
    state.save_log(record)  # a run killed before its end leaves this trace
    try:
        with TenantLock(tenant_id, ttl=ttl, wait=wait) as lock:
            match_tenant(tenant_id, record, store=store, lock=lock)
    except Exception as exc:
        record.status = "failed"
        if not queued:
            fate = "not retried: run it again"
        else:
            fate = f"attempt {attempt}/{messages.MAX_ATTEMPTS}, " + (
                f"giving up: message moved to {messages.MATCH_QUEUE}-poison"
                if attempt >= messages.MAX_ATTEMPTS
                else "will be retried"
            )
        record.error(f"{type(exc).__name__}: {exc} ({fate})")
        state.save_log(record)
        log.warning("match of tenant %s failed: %s (%s)", tenant_id, exc, fate)
        raise
    state.save_log(record)
    log.info("match of tenant %s: %s %s", tenant_id, record.organization_status, record.counts)
    return record
