"""The interface between the matcher and a documentation system of record.

An external system (IT Glue) assigns ids when it creates a record and offers no idempotency keys, so the
interface does not upsert by id: creation is its own call, made exactly once per tenant (organization) and per
(tenant, user) (contact), and an update carries the record as read next to the record wanted, so a backend
sends only what changed. Links to Microsoft 365 may live outside the documented record (o365mon's ledger for
IT Glue, which has no external-id field): `contacts()` returns them filled in either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from shared.docs.model import Contact, Organization

if TYPE_CHECKING:
    from shared.directory.model import DirectoryInfo, DirectoryUser


@dataclass
class StoreReport:
    """What a backend did against its system since it was built, for the sync logs (all zero for own tables)."""

    requests: int = 0
    throttled: int = 0  # 429 answers
    throttle_wait_seconds: float = 0.0
    rejections: list[str] = field(default_factory=list)  # every 422: record, title, detail, pointer


class DocumentationStore(Protocol):
    def organizations(self) -> list[Organization]:
        """Every documented organization, with its tenant link filled in."""
        ...

    def organization(self, org_id: str) -> Organization | None: ...

    def create_organization(self, tenant_id: str, name: str) -> Organization:
        """The tenant's organization, created (and linked, source `created`) at most once whatever the replays."""
        ...

    def link_organization(self, tenant_id: str, org_id: str, source: str) -> None:
        """Link the tenant to this organization only (an older link of either side is dropped)."""
        ...

    def unlink_organization(self, tenant_id: str) -> None: ...

    def contacts(self, org_id: str) -> list[Contact]:
        """The organization's contacts, link fields (tenant, user, source, rule, deactivated_by_sync) filled in."""
        ...

    def contact(self, org_id: str, contact_id: str) -> Contact | None: ...

    def create_contacts(self, tenant_id: str, org_id: str, contacts: Sequence[Contact]) -> list[Contact]:
        """Create contacts for users of the tenant (each carries link_user), at most once per (tenant, user);
        returns them with the ids the system gave. A record the system refuses is left out (see `report`)."""
        ...

    def update_contacts(self, changes: Sequence[tuple[Contact, Contact]]) -> int:
        """(as read, as wanted) pairs: write only the fields that changed; returns how many contacts changed."""
        ...

    def document_licences(
        self,
        tenant_id: str,
        org_id: str,
        info: DirectoryInfo,
        users: Sequence[DirectoryUser],
        contact_ids: Mapping[str, str],
    ) -> list[str]:
        """Document the tenant's subscriptions in the organization (users: the directory; contact_ids: user object
        id -> contact id, for the assigned users); returns lines for the sync log. Refusals go to `report`."""
        ...

    def report(self) -> StoreReport: ...
