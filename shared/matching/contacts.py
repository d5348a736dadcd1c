"""Users of one tenant -> contacts of its matched organization. Pure (no I/O): `plan()` returns the contacts
to create, the (as read, as wanted) pairs to update, and one outcome per user; the caller writes them through
the documentation store (which, for IT Glue, makes each creation happen once and sends only changed fields).

Order, per user not yet linked (IT Glue's, plus the immutable link first):
 0. the contact already linked to (tenant id, user object id) - later syncs never match by name again;
 1. any alias (proxyAddresses with SMTP:/smtp: stripped, mail, otherMails) equals a contact e-mail;
 2. the UPN (the onmicrosoft.com one included) equals a contact e-mail;
 3. the normalized first + last name equals.
Each step runs for every remaining user before the next one, so the outcome does not depend on user order.
More than one candidate for a user, or one contact claimed by several users at the same step, is
`ambiguous`: logged, nothing written, nothing created. No candidate at all: a contact is created if the
policy allows (it carries the id the own tables derive from tenant + user; IT Glue gives its own). Blank Microsoft 365
fields never overwrite documented values; only linked or created contacts are deactivated or reactivated.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

from shared.directory.model import DirectoryUser
from shared.docs.model import CREATED, LINKED, Contact, contact_id_for
from shared.matching.normalize import email as norm_email
from shared.matching.normalize import person_name
from shared.matching.policy import Policy

RULES = ("alias", "upn", "name")

# Outcome statuses
MATCHED, CREATED_S, AMBIGUOUS, SKIPPED, REMOVED = "matched", "created", "ambiguous", "skipped", "removed"


@dataclass(slots=True)
class Outcome:
    user_id: str
    upn: str
    display_name: str
    status: str  # matched | created | ambiguous | skipped | removed
    rule: str = ""  # link | alias | upn | name (matched), or the reason (skipped)
    contact_id: str = ""
    detail: str = ""

    def to_row(self) -> list:
        return [self.user_id, self.upn, self.display_name, self.status, self.rule, self.contact_id, self.detail]


@dataclass
class Plan:
    creates: list[Contact] = field(default_factory=list)
    updates: list[tuple[Contact, Contact]] = field(default_factory=list)  # (as read, as wanted)
    outcomes: list[Outcome] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "matched": 0, "ambiguous": 0, "ignored": 0}
    )

    @property
    def writes(self) -> list[Contact]:
        """Every contact as it should be stored (creates, then updates)."""
        return [*self.creates, *(new for _, new in self.updates)]


def _skip_reason(u: DirectoryUser, policy: Policy) -> str:
    if u.is_guest and not policy.include_guests:
        return "guest"
    return ""


def _create_block(u: DirectoryUser, policy: Policy) -> str:
    if policy.only_enabled and not u.account_enabled:
        return "disabled"
    if policy.only_licensed and not u.licensed:
        return "unlicensed"
    # Hook (issue 10 point 9): the tenant chose whose subscriptions become contacts (Policy.for_tenant).
    if policy.sku_ids is not None and not policy.sku_ids.intersection(s.lower() for s in u.sku_ids):
        return "subscription not synced"
    if not (u.given_name or u.surname or u.display_name):
        return "no name"
    return ""


# Labels as IT Glue's Office 365 integration writes them.
WORK, MOBILE, ALIAS = "Work", "Mobile", "Alias"


def primary_email(u: DirectoryUser, source: str = "") -> str:
    """The user's primary address: the user name (`upn`) or `mail` when the policy names one (IT Glue), else
    mail, then the UPN (the own tables' rule)."""
    if source == "upn":
        return norm_email(u.upn) or norm_email(u.mail)
    return norm_email(u.mail) or norm_email(u.upn)


def phone_key(value: str) -> str:
    """A phone number as IT Glue stores it (separators stripped), so '+1 555-0100' and '+15550100' are one."""
    return re.sub(r"[^\d+]", "", value)


def _user_emails(u: DirectoryUser, source: str = "") -> list[str]:
    """The addresses a created contact carries: primary first, then other aliases (not onmicrosoft.com)."""
    first = primary_email(u, source)
    rest = sorted(a for a in u.aliases() if a != first and not a.endswith(".onmicrosoft.com"))
    return [first, *rest] if first else rest


def _labels(u: DirectoryUser, emails: list[str], source: str) -> dict[str, str]:
    first = primary_email(u, source)
    labels = {e: (WORK if e == first else ALIAS) for e in emails}
    labels.update({p: WORK for p in u.business_phones if p})
    if u.mobile_phone:
        labels[u.mobile_phone] = MOBILE
    return labels


def _names(u: DirectoryUser) -> tuple[str, str]:
    if u.given_name or u.surname:
        return u.given_name, u.surname
    first, _, last = (u.display_name or "").partition(" ")
    return first, last


def new_contact(tenant_id: str, org_id: str, u: DirectoryUser, source: str = "") -> Contact:
    first, last = _names(u)
    emails = _user_emails(u, source)
    return Contact(
        organization_id=org_id,
        id=contact_id_for(tenant_id, u.id),
        first_name=first,
        last_name=last,
        title=u.job_title,
        emails=emails,
        phones=u.phones(),
        active=u.account_enabled,
        link_tenant=tenant_id,
        link_user=u.id,
        link_source=CREATED,
        deactivated_by_sync=not u.account_enabled,
        labels=_labels(u, emails, source),
    )


def apply_user(c: Contact, u: DirectoryUser, tenant_id: str, rule: str, source: str = "") -> Contact:
    """The contact updated from the user: links it, fills non-blank fields, never blanks a documented one."""
    n = replace(c, emails=list(c.emails), phones=list(c.phones), labels=dict(c.labels))
    if not n.linked:
        n.link_tenant, n.link_user, n.link_source, n.link_rule = tenant_id, u.id, LINKED, rule
    if u.given_name:
        n.first_name = u.given_name
    if u.surname:
        n.last_name = u.surname
    if u.job_title:
        n.title = u.job_title
    known = {norm_email(e) for e in n.emails}
    primary = primary_email(u, source)
    if primary and primary not in known:
        n.emails.append(primary)
        n.labels[primary] = WORK
    have = {phone_key(p) for p in n.phones}
    for p in u.phones():
        if phone_key(p) not in have:
            have.add(phone_key(p))
            n.phones.append(p)
            n.labels[p] = MOBILE if p == u.mobile_phone else WORK
    if not u.account_enabled and n.active:
        n.active, n.deactivated_by_sync = False, True
    elif u.account_enabled and not n.active and n.deactivated_by_sync:
        n.active, n.deactivated_by_sync = True, False
    return n


def plan(tenant_id: str, org_id: str, users: list[DirectoryUser], contacts: list[Contact], policy: Policy) -> Plan:
    # The run allocates a few objects per user and frees none: the cyclic GC would rescan the growing heap
    # again and again (superlinear time at 100,000+ users) for nothing to collect.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan(tenant_id, org_id, users, contacts, policy)
    finally:
        if enabled:
            gc.enable()


def _plan(tenant_id: str, org_id: str, users: list[DirectoryUser], contacts: list[Contact], policy: Policy) -> Plan:
    out = Plan()
    users = sorted(users, key=lambda u: u.id)
    by_id = {c.id: c for c in contacts}
    linked: dict[str, Contact] = {}
    free: list[Contact] = []
    for c in contacts:
        if c.link_tenant == tenant_id and c.link_user:
            linked.setdefault(c.link_user, c)
        elif not c.linked:
            free.append(c)  # contacts linked to another tenant or user are nobody else's candidates

    by_email: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for c in free:
        for e in {norm_email(e) for e in c.emails if e}:
            by_email[e].append(c.id)
        key = person_name(c.first_name, c.last_name)
        if key:
            by_name[key].append(c.id)

    matched: list[tuple[DirectoryUser, Contact, str]] = []
    remaining: list[DirectoryUser] = []
    seen_users: set[str] = set()
    for u in users:
        seen_users.add(u.id)
        link = linked.get(u.id)
        if link is not None:
            matched.append((u, link, "link"))
            continue
        reason = _skip_reason(u, policy)
        if reason:
            out.outcomes.append(Outcome(u.id, u.upn, u.display_name, SKIPPED, reason))
            out.counts["ignored"] += 1
            continue
        remaining.append(u)

    claimed: set[str] = set()
    for rule in RULES:
        proposals: dict[str, list[DirectoryUser]] = defaultdict(list)
        still: list[DirectoryUser] = []
        for u in remaining:
            if rule == "alias":
                found = {cid for a in u.aliases() for cid in by_email.get(a, ())}
            elif rule == "upn":
                found = set(by_email.get(norm_email(u.upn), ()))
            else:
                found = set(by_name.get(person_name(*_names(u)) if u.given_name or u.surname else "", ()))
            found -= claimed
            if not found:
                still.append(u)
            elif len(found) > 1:
                names = ", ".join(sorted(f"{by_id[i].first_name} {by_id[i].last_name} ({i})" for i in found))
                out.outcomes.append(
                    Outcome(u.id, u.upn, u.display_name, AMBIGUOUS, rule, "", f"{len(found)} contacts: {names}")
                )
                out.counts["ambiguous"] += 1
            else:
                proposals[next(iter(found))].append(u)
        for cid, who in proposals.items():
            if len(who) == 1:
                matched.append((who[0], by_id[cid], rule))
                claimed.add(cid)
                continue
            upns = ", ".join(sorted(w.upn for w in who))
            for w in who:
                out.outcomes.append(
                    Outcome(w.id, w.upn, w.display_name, AMBIGUOUS, rule, cid, f"contact also matches {upns}")
                )
                out.counts["ambiguous"] += 1
        remaining = still

    for u, c, rule in matched:
        n = apply_user(c, u, tenant_id, rule, policy.primary_email)
        out.counts["matched"] += 1
        out.outcomes.append(Outcome(u.id, u.upn, u.display_name, MATCHED, rule, c.id))
        if n != c:
            out.updates.append((c, n))
            out.counts["updated"] += 1

    for u in remaining:
        block = _create_block(u, policy)
        if block:
            out.outcomes.append(Outcome(u.id, u.upn, u.display_name, SKIPPED, block))
            out.counts["ignored"] += 1
            continue
        out.creates.append(new_contact(tenant_id, org_id, u, policy.primary_email))
        out.outcomes.append(Outcome(u.id, u.upn, u.display_name, CREATED_S, "", contact_id_for(tenant_id, u.id)))
        out.counts["created"] += 1

    # Linked contacts whose user left the directory: deactivate (they were created or linked by the sync).
    for user_id, c in linked.items():
        if user_id not in seen_users:
            out.outcomes.append(Outcome(user_id, "", f"{c.first_name} {c.last_name}", REMOVED, "", c.id))
            if c.active:
                out.updates.append((c, replace(c, active=False, deactivated_by_sync=True)))
                out.counts["updated"] += 1
    return out
