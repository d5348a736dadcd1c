"""Tenant -> organization, IT Glue's order: an existing link (tenant id) wins; else the normalized tenant name
equals exactly one organization's; else up to three suggestions by similarity (never linked automatically);
else unmatched. An ignored tenant stays ignored until a reviewer matches it."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from shared.docs.model import Organization
from shared.matching.normalize import organization_name

MATCHED, SUGGESTED, UNMATCHED, AMBIGUOUS, IGNORED = "matched", "suggested", "unmatched", "ambiguous", "ignored"
STATUSES = (MATCHED, SUGGESTED, UNMATCHED, AMBIGUOUS, IGNORED)
DEFAULT_CUTOFF = 80.0
MAX_SUGGESTIONS = 3


@dataclass
class OrgDecision:
    status: str
    org_id: str = ""
    rule: str = ""  # link | name
    suggestions: list[dict] = field(default_factory=list)  # [{org_id, name, score}], best first
    message: str = ""


def match_organization(
    tenant_id: str, tenant_name: str, orgs: list[Organization], *, ignored: bool = False, cutoff: float = DEFAULT_CUTOFF
) -> OrgDecision:
    if ignored:
        return OrgDecision(IGNORED, message="ignored by a reviewer")
    linked = [o for o in orgs if o.tenant_id == tenant_id]
    if len(linked) == 1:
        return OrgDecision(MATCHED, linked[0].id, "link")
    if len(linked) > 1:
        names = ", ".join(sorted(o.name for o in linked))
        return OrgDecision(
            AMBIGUOUS,
            suggestions=[{"org_id": o.id, "name": o.name, "score": 100.0} for o in linked],
            message=f"tenant linked to several organizations: {names}",
        )
    # Organizations already linked to another tenant are not candidates: a link is never taken over by name.
    free = [o for o in orgs if not o.tenant_id]
    wanted = organization_name(tenant_name)
    if not wanted:
        return OrgDecision(UNMATCHED, message="the tenant has no name")
    exact = [o for o in free if organization_name(o.name) == wanted]
    if len(exact) == 1:
        return OrgDecision(MATCHED, exact[0].id, "name")
    if len(exact) > 1:
        return OrgDecision(
            AMBIGUOUS,
            suggestions=[{"org_id": o.id, "name": o.name, "score": 100.0} for o in exact[:MAX_SUGGESTIONS]],
            message=f"{len(exact)} organizations are named '{tenant_name}' once normalized",
        )
    choices = {o.id: organization_name(o.name) for o in free}
    found = process.extract(wanted, choices, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=cutoff)
    if found:
        by_id = {o.id: o for o in free}
        suggestions = [{"org_id": key, "name": by_id[key].name, "score": round(score, 1)} for _, score, key in found]
        return OrgDecision(SUGGESTED, suggestions=suggestions)
    return OrgDecision(UNMATCHED)
