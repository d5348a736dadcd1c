"""Documentation records. Links to Microsoft 365 (tenant id on an organization; tenant id + user object id on
a contact) are written by the integration once and then win over every name or e-mail rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

# Namespace for ids the integration derives (created contacts, organizations created from a tenant): the same
# tenant/user always gives the same id, so a replayed or concurrent creation overwrites instead of duplicating.
_NAMESPACE = uuid.UUID("6b1f3c2e-4a5d-4e8f-9b7a-0c1d2e3f4a5b")

# Contact.link_source values
CREATED = "created"  # the integration created the contact
LINKED = "linked"  # an existing contact the integration matched (alias, upn or name) and linked


def contact_id_for(tenant_id: str, user_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"contact/{tenant_id.lower()}/{user_id.lower()}"))


def organization_id_for(tenant_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"organization/{tenant_id.lower()}"))


@dataclass
class Organization:
    id: str
    name: str
    tenant_id: str = ""  # the Microsoft 365 link; "" when not linked
    link_source: str = ""  # manual | name | created (how the link was made)
    notes: str = ""


@dataclass
class Contact:
    organization_id: str
    id: str
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    active: bool = True
    link_tenant: str = ""  # Microsoft 365 link (immutable once written): tenant id ...
    link_user: str = ""  # ... and user object id
    link_source: str = ""  # created | linked
    link_rule: str = ""  # alias | upn | name: the rule that first linked it (for the review)
    deactivated_by_sync: bool = False  # the integration deactivated it (so it may reactivate it)
    notes: str = ""
    # Label of an e-mail or phone value as IT Glue's Office 365 integration names it (Work, Mobile, Alias). Not
    # part of equality: a label alone never makes a contact worth writing, and the own tables do not keep it.
    labels: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def linked(self) -> bool:
        return bool(self.link_tenant and self.link_user)
