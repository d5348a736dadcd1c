"""The review workflow behind the admin HTTP API and the CLI: list by status, accept a suggestion, match to
another organization, ignore, create the organization from the tenant, start a manual sync, compare a contact
with its Microsoft 365 user, the admin-center manage link, sync logs. A decision is stored and takes effect
at the next run, which the action enqueues."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import quote

from shared import docs, settings
from shared.directory import store as directory
from shared.directory.model import DirectoryUser
from shared.docs.base import DocumentationStore
from shared.matching import contacts, messages, orgs, state
from shared.matching.normalize import email as norm_email

MANAGE_URL = "https://admin.microsoft.com/Adminportal/Home#/users/:/UserDetails/{user_id}"


class ReviewError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def manage_url(user_id: str) -> str:
    # Quoted: an id with a space, '/' or '..' must not make another URL (or no URL at all) of the link.
    return MANAGE_URL.format(user_id=quote(user_id, safe=""))


@contextlib.contextmanager
def _store(store: DocumentationStore | None) -> Iterator[DocumentationStore]:
    """The given store, or the configured backend's (closed after use)."""
    if store is not None:
        yield store
        return
    made = docs.documentation_store()
    try:
        yield made
    finally:
        docs.close(made)


def tenant_id_of(name: str) -> str:
    """The id of the monitored tenant a reviewer names by id, domain or display name (review entities are
    keyed by tenant id). A tenant matched by an earlier sync but no longer registered is still found by
    the name that sync stored."""
    from shared.store import tenants

    if not name or not name.strip():
        raise ReviewError("name the tenant (its id, a domain or its display name)")
    name = name.strip()
    if tenants.is_guid(name):
        return name.lower()
    try:
        return tenants.resolve(name).tenant_id
    except tenants.TenantError as exc:
        hits = [m.tenant_id for m in state.list_matches() if m.tenant_name.strip().lower() == name.lower()]
        if len(hits) == 1:
            return hits[0]
        raise ReviewError(str(exc), 404) from None


def _match(name: str) -> state.TenantMatch:
    tenant_id = tenant_id_of(name)
    m = state.get_match(tenant_id)
    if m is None:
        shown = tenant_id if tenant_id == name.strip().lower() else f"{name} ({tenant_id})"
        raise ReviewError(f"tenant {shown} has not been matched yet: start a sync first", 404)
    return m


def list_items(status: str = "", tenant_id: str = "", store: DocumentationStore | None = None) -> list[dict]:
    if status and status not in orgs.STATUSES:
        raise ReviewError(f"status must be one of {', '.join(orgs.STATUSES)}")
    wanted = tenant_id_of(tenant_id) if tenant_id else ""
    with _store(store) as s:
        names = {o.id: o.name for o in s.organizations()}
    items = []
    for m in sorted(state.list_matches(), key=lambda m: (m.tenant_name.lower(), m.tenant_id)):
        if wanted and m.tenant_id != wanted:
            continue
        if not status or m.status == status:
            item = {"kind": "organization", **m.to_json(), "organization_name": names.get(m.org_id, "")}
            items.append(item)
        if status == orgs.AMBIGUOUS:  # users whose contact match was ambiguous at the last run
            for r in state.load_results(m.tenant_id):
                if r["status"] == contacts.AMBIGUOUS:
                    items.append({"kind": "user", "tenant_id": m.tenant_id, "organization_id": m.org_id, **r})
    return items


def _decide(tenant_id: str, decision: dict) -> dict:
    state.set_decision(tenant_id, decision)
    messages.enqueue_match(tenant_id, "review")
    return {"tenant_id": tenant_id, "decision": decision, "enqueued": messages.MATCH_QUEUE}


def accept(tenant: str, index: int = 0) -> dict:
    m = _match(tenant)
    if not m.suggestions:
        raise ReviewError(f"tenant {tenant} has no suggestion to accept ({m.status})")
    if not 0 <= index < len(m.suggestions):
        raise ReviewError(f"suggestion index must be 0..{len(m.suggestions) - 1}")
    return _decide(m.tenant_id, {"action": "accept", "org_id": m.suggestions[index]["org_id"]})


def match_to(tenant: str, org_id: str, store: DocumentationStore | None = None) -> dict:
    m = _match(tenant)
    with _store(store) as s:
        known = s.organization(org_id) is not None
    if not known:
        raise ReviewError(f"unknown organization {org_id!r}", 404)
    return _decide(m.tenant_id, {"action": "match", "org_id": org_id})


def ignore(tenant: str) -> dict:
    return _decide(_match(tenant).tenant_id, {"action": "ignore"})


def unignore(tenant: str) -> dict:
    return _decide(_match(tenant).tenant_id, {"action": "unignore"})


def create_organization(tenant: str) -> dict:
    return _decide(_match(tenant).tenant_id, {"action": "create"})


def manual_sync(tenant_id: str = "") -> dict:
    """Directory sync + match for one tenant (or every enabled one), through the queue."""
    from shared.directory.sync import enqueue_all
    from shared.store import tenants

    if tenant_id:
        try:
            t = tenants.resolve(tenant_id)
        except tenants.TenantError as exc:
            raise ReviewError(str(exc), 404) from None
        messages.enqueue_sync(t.tenant_id, "manual")
        return {"enqueued": [t.tenant_id], "queue": messages.SYNC_QUEUE}
    return {"enqueued": enqueue_all("manual"), "queue": messages.SYNC_QUEUE}


def _user_json(u: DirectoryUser) -> dict:
    return {
        "id": u.id,
        "user_principal_name": u.upn,
        "given_name": u.given_name,
        "surname": u.surname,
        "job_title": u.job_title,
        "mail": u.mail,
        "phones": u.phones(),
        "account_enabled": u.account_enabled,
        "user_type": u.user_type,
        "licensed": u.licensed,
    }


def compare(tenant_id: str, contact_id: str, store: DocumentationStore | None = None) -> dict:
    """One contact of the tenant's organization next to its Microsoft 365 user: the fields that differ."""
    m = _match(tenant_id)
    if not m.org_id:
        raise ReviewError(f"tenant {tenant_id} is not matched to an organization ({m.status})", 404)
    with _store(store) as s:
        contact = s.contact(m.org_id, contact_id)
    if contact is None:
        raise ReviewError(f"no contact {contact_id!r} in organization {m.org_id}", 404)
    user_id = contact.link_user if contact.link_tenant == m.tenant_id else ""
    if not user_id:
        for r in state.load_results(m.tenant_id):
            if r["contact_id"] == contact_id and r["status"] in (contacts.MATCHED, contacts.CREATED_S):
                user_id = r["user_id"]
                break
    user = next((u for u in directory.load_users(m.tenant_id) if u.id == user_id), None) if user_id else None
    if user is None:
        raise ReviewError(f"contact {contact_id} is not linked to a user of tenant {m.tenant_id}", 404)
    pairs = [
        ("first_name", contact.first_name, user.given_name),
        ("last_name", contact.last_name, user.surname),
        ("title", contact.title, user.job_title),
        ("primary_email", ", ".join(contact.emails), contacts.primary_email(user, settings.primary_email_source())),
        ("phones", ", ".join(contact.phones), ", ".join(user.phones())),
        ("active", contact.active, user.account_enabled),
    ]
    differences = []
    for name, documented, m365 in pairs:
        if name == "primary_email":
            same = not m365 or m365 in {norm_email(e) for e in contact.emails}
        elif name == "phones":
            same = {contacts.phone_key(p) for p in user.phones()} <= {contacts.phone_key(p) for p in contact.phones}
        else:
            same = documented == m365 or m365 in ("", None)
        if not same:
            differences.append({"field": name, "documented": documented, "microsoft365": m365})
    return {
        "tenant_id": m.tenant_id,
        "organization_id": m.org_id,
        "contact": {
            "id": contact.id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "title": contact.title,
            "emails": contact.emails,
            "phones": contact.phones,
            "active": contact.active,
            "link_source": contact.link_source,
            "link_rule": contact.link_rule,
        },
        "user": _user_json(user),
        "differences": differences,
        "manage_url": manage_url(user.id),
    }


def logs(tenant: str, limit: int = 20) -> list[dict]:
    return state.recent_logs(tenant_id_of(tenant), limit)
