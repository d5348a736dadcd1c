"""What the review screens show, read through the review workflow (shared.matching.review) and the matcher's
state: tenants by status with their suggestions, the organization search behind "Match to", one tenant's contacts
with their status and its sync logs. The actions themselves are shared.matching.actions, as for the admin API."""

from __future__ import annotations

import threading
import time

from rapidfuzz import fuzz, process

from shared.docs.base import DocumentationStore
from shared.docs.model import Organization
from shared.matching import contacts, orgs, review, state
from shared.matching.normalize import organization_name

FILTERS = (
    (orgs.UNMATCHED, "Unmatched"),
    (orgs.SUGGESTED, "Suggested"),
    (orgs.AMBIGUOUS, "Ambiguous"),
    (orgs.MATCHED, "Matched"),
    (orgs.IGNORED, "Ignored"),
    ("", "All"),
)
SEARCH_LIMIT = 10  # results under "Match to": enough to pick from, few enough to read on a phone
SEARCH_MIN_SCORE = 60.0
LOG_LIMIT = 20
# "Match to" searches as the admin types: each keystroke would read every organization of the IT Glue account
# (1,000 per page) from its shared rate budget. The list is kept this long per process and account; an
# organization created meanwhile shows once it expires (the own tables are read each time: no budget).
SEARCH_CACHE_S = 30.0
_search_cache: dict[object, tuple[float, list[Organization]]] = {}
_search_lock = threading.Lock()
# A contact's status as the review shows it (the matcher's outcome names -> IT Glue's words).
CONTACT_STATUS = {
    contacts.MATCHED: "linked",
    contacts.CREATED_S: "created",
    contacts.AMBIGUOUS: "ambiguous",
    contacts.SKIPPED: "skipped by policy",
    contacts.REMOVED: "removed",
}
COMPARABLE = (contacts.MATCHED, contacts.CREATED_S)


def filter_label(status: str) -> str:
    return dict(FILTERS).get(status, status)


def items(status: str, store: DocumentationStore) -> tuple[list[dict], list[dict]]:
    """(tenants, ambiguous users) for a filter ('' = every tenant)."""
    found = review.list_items(status, store=store)
    return [i for i in found if i["kind"] == "organization"], [i for i in found if i["kind"] == "user"]


def counts() -> dict[str, int]:
    """Tenants per status, for the filter links."""
    out = dict.fromkeys(orgs.STATUSES, 0)
    for m in state.list_matches():
        out[m.status] = out.get(m.status, 0) + 1
    out[""] = sum(out.values())
    return out


def search_organizations(query: str, store: DocumentationStore, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Organizations of the documentation whose name contains the query or resembles it, best first, at most
    `limit`; an empty query lists the first ones by name."""
    organizations = _organizations_for_search(store)
    wanted = organization_name(query)
    if not wanted:
        chosen = sorted(organizations, key=lambda o: o.name.lower())[:limit]
        return [_org_json(o, None) for o in chosen]
    names = {o.id: organization_name(o.name) for o in organizations}
    by_id = {o.id: o for o in organizations}
    words = wanted.split()  # "wood bank" finds "Woodgrove Bank": every word typed appears in the name
    contains = [o for o in organizations if all(w in names[o.id] for w in words)]
    scored = process.extract(wanted, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=SEARCH_MIN_SCORE)
    seen: set[str] = set()
    out = []
    for org in sorted(contains, key=lambda o: (not names[o.id].startswith(wanted), o.name.lower())):
        seen.add(org.id)
        out.append(_org_json(org, 100.0))
    for _, score, key in scored:
        if key not in seen:
            seen.add(key)
            out.append(_org_json(by_id[key], round(score, 1)))
    return out[:limit]


def _organizations_for_search(store: DocumentationStore) -> list[Organization]:
    account = getattr(getattr(store, "client", None), "account", None)  # IT Glue's: URL and key digest
    if account is None:
        return store.organizations()
    now = time.monotonic()
    with _search_lock:
        cached = _search_cache.get(account)
    if cached is not None and now - cached[0] < SEARCH_CACHE_S:
        return cached[1]
    found = store.organizations()
    with _search_lock:
        _search_cache[account] = (now, found)
    return found


def _org_json(org: Organization, score: float | None) -> dict:
    return {"id": org.id, "name": org.name, "tenant_id": org.tenant_id, "score": score}


def tenant(tenant_name: str, store: DocumentationStore) -> dict:
    """One tenant's review page: its match, its users' contact statuses, its sync logs (newest first)."""
    tenant_id = review.tenant_id_of(tenant_name)
    match = state.get_match(tenant_id)
    if match is None:
        raise review.ReviewError(f"tenant {tenant_id} has not been matched yet: start a sync first", 404)
    organization = store.organization(match.org_id) if match.org_id else None
    rows = sorted(state.load_results(tenant_id), key=lambda r: (r["status"], r["display_name"].lower(), r["upn"]))
    people = [
        {
            **r,
            "label": CONTACT_STATUS.get(r["status"], r["status"]),
            "comparable": bool(r["contact_id"]) and r["status"] in COMPARABLE and bool(match.org_id),
        }
        for r in rows
    ]
    per_status: dict[str, int] = {}
    for p in people:
        per_status[p["label"]] = per_status.get(p["label"], 0) + 1
    return {
        "match": match.to_json(),
        "organization": {"id": organization.id, "name": organization.name} if organization else None,
        "people": people,
        "per_status": per_status,
        "logs": state.recent_logs(tenant_id, LOG_LIMIT),
    }
