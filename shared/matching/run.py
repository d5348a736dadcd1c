"""One matcher run for one tenant (what the `contact-match` queue trigger does), under the tenant lock.

1. apply a reviewer's pending decision (match / ignore / create the organization);
2. organization: link > normalized name > suggestions > unmatched (shared.matching.orgs);
3. contacts of the matched organization (shared.matching.contacts): creations, then updates of changed fields;
4. per-user results and one sync log record (with the documentation system's requests, 429 waits and 422s).
The store makes each creation happen once per tenant or (tenant, user): the own tables by derived ids, IT Glue
through o365mon's ledger. So the same message twice, two messages at once (serialized by the lock) or a run
resumed after a crash all end in the same state, and a replay with nothing changed writes nothing.
"""

from __future__ import annotations

import logging

from shared import docs, settings
from shared.directory import store as directory
from shared.docs.base import DocumentationStore, StoreReport
from shared.docs.model import Organization
from shared.matching import contacts, messages, orgs, state
from shared.matching.contacts import AMBIGUOUS
from shared.matching.lock import TenantLock
from shared.matching.policy import Policy

log = logging.getLogger("o365mon.matching")


def _apply_decision(m: state.TenantMatch, tenant_name: str, store: DocumentationStore, record: state.SyncLog) -> None:
    d = m.decision
    action = d.get("action", "")
    target: Organization | None = None
    if action in ("match", "accept"):
        target = store.organization(d.get("org_id", ""))
        if target is None:
            record.error(f"review: organization {d.get('org_id')!r} no longer exists; decision dropped")
        elif target.tenant_id != m.tenant_id:
            # A tenant is linked to one organization: the reviewer's choice replaces the old link.
            store.link_organization(m.tenant_id, target.id, "manual")
    elif action == "create":
        target = store.create_organization(m.tenant_id, tenant_name or m.tenant_id)
    elif action == "ignore":
        m.ignored = True
    elif action == "unignore":
        m.ignored = False
    if target is not None:
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
    if store is None:
        store = docs.documentation_store()
        try:
            return match_tenant(tenant_id, record, store=store, policy=policy, lock=lock)
        finally:
            docs.close(store)
    before = store.report()
    try:
        _match(tenant_id, record, store, policy, lock)
    finally:
        _record_usage(record, before, store.report())


def _record_usage(record: state.SyncLog, before: StoreReport, after: StoreReport) -> None:
    record.doc_requests += after.requests - before.requests
    record.doc_throttled += after.throttled - before.throttled
    record.doc_throttle_wait += after.throttle_wait_seconds - before.throttle_wait_seconds
    record.rejections.extend(after.rejections[len(before.rejections) :])


def _match(
    tenant_id: str, record: state.SyncLog, store: DocumentationStore, policy: Policy | None, lock: TenantLock | None
) -> None:
    info = directory.load_info(tenant_id)
    if info is None:
        record.error("no directory stored for this tenant yet: start a sync first")
        record.status = "failed"
        return
    policy = policy or Policy.for_tenant(tenant_id, info)  # the stored directory names the chosen SKUs
    m = state.get_match(tenant_id) or state.TenantMatch(tenant_id)
    if m.decision:
        _apply_decision(m, info.display_name, store, record)
    decision = orgs.match_organization(
        tenant_id, info.display_name, store.organizations(), ignored=m.ignored, cutoff=policy.suggestion_cutoff
    )
    if decision.status == orgs.MATCHED and decision.rule == "name":
        store.link_organization(tenant_id, decision.org_id, "name")
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
    made = {c.link_user: c.id for c in store.create_contacts(tenant_id, decision.org_id, plan.creates)}
    for o in plan.outcomes:
        if o.status == contacts.CREATED_S:
            if o.user_id in made:
                o.contact_id = made[o.user_id]  # the id the documentation system gave
            else:
                o.status, o.rule, o.contact_id = contacts.SKIPPED, "refused", ""
                plan.counts["created"] -= 1
                plan.counts["ignored"] += 1
    if lock is not None:
        lock.renew()
    store.update_contacts(plan.updates)
    if policy.sync_licences:
        owned = {c.link_user: c.id for c in documented if c.link_tenant == tenant_id and c.link_user}
        owned.update((o.user_id, o.contact_id) for o in plan.outcomes if o.contact_id and o.status != AMBIGUOUS)
        record.notes.extend(store.document_licences(tenant_id, decision.org_id, info, users, owned))
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
