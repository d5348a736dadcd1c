"""Which Microsoft 365 users the sync may create contacts for, and what else it documents: the app settings, read
once per run, with the tenant's own choices (shared.matching.tenant_settings) on top."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shared import settings

if TYPE_CHECKING:
    from shared.directory.model import DirectoryInfo


@dataclass(frozen=True)
class Policy:
    include_guests: bool = False  # guests (#EXT#, userType Guest) take part at all
    only_enabled: bool = True  # create contacts only for enabled accounts
    only_licensed: bool = True  # create contacts only for users holding a licence
    suggestion_cutoff: float = 80.0
    # Create contacts only for users holding one of these SKU ids (lowercase); None: any licence will do.
    sku_ids: frozenset[str] | None = None
    sync_licences: bool = True  # document the tenant's subscriptions (the IT Glue backend)
    # Primary e-mail of a contact: "upn" or "mail" (ITGLUE_PRIMARY_EMAIL, IT Glue backend); "" = mail, else UPN
    primary_email: str = ""

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            include_guests=settings.flag("SYNC_INCLUDE_GUESTS"),
            only_enabled=settings.flag("SYNC_ONLY_ENABLED"),
            only_licensed=settings.flag("SYNC_ONLY_LICENSED"),
            suggestion_cutoff=settings.number("MATCH_SUGGESTION_CUTOFF"),
            sync_licences=settings.flag("SYNC_LICENCES"),
            primary_email=settings.primary_email_source(),
        )

    @classmethod
    def for_tenant(cls, tenant_id: str, info: DirectoryInfo | None = None) -> Policy:
        """The app settings with the tenant's stored choices on top (one point read). `info` (the stored directory)
        turns chosen SKU part numbers into the SKU ids users carry; without it only chosen SKU ids can match."""
        from shared.matching import tenant_settings

        base = cls.from_env()
        own = tenant_settings.get(tenant_id)
        return replace(
            base,
            include_guests=base.include_guests if own.guests is None else own.guests,
            sync_licences=base.sync_licences if own.licences is None else own.licences,
            sku_ids=None if own.skus is None else tenant_settings.resolve_skus(own.skus, info),
        )
