"""The interface between the matcher and a documentation system."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from shared.docs.model import Contact, Organization


class DocumentationStore(Protocol):
    """What the matcher and the review need. Writes are upserts keyed by id: replaying them is harmless."""

    def organizations(self) -> list[Organization]: ...

    def organization(self, org_id: str) -> Organization | None: ...

    def save_organization(self, org: Organization) -> None: ...

    def contacts(self, org_id: str) -> list[Contact]: ...

    def contact(self, org_id: str, contact_id: str) -> Contact | None: ...

    def save_contacts(self, contacts: Iterable[Contact]) -> int:
        """Upsert contacts (any organizations); returns how many were written."""
        ...
