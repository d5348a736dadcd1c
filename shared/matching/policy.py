"""Which Microsoft 365 users the sync may create contacts for (app settings, read once per run)."""

from __future__ import annotations

from dataclasses import dataclass

from shared import settings


@dataclass(frozen=True)
class Policy:
    include_guests: bool = False  # guests (#EXT#, userType Guest) take part at all
    only_enabled: bool = True  # create contacts only for enabled accounts
    only_licensed: bool = True  # create contacts only for users holding a licence
    suggestion_cutoff: float = 80.0
    # Primary e-mail of a contact: "upn" or "mail" (ITGLUE_PRIMARY_EMAIL, IT Glue backend); "" = mail, else UPN
    primary_email: str = ""

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            include_guests=settings.flag("SYNC_INCLUDE_GUESTS"),
            only_enabled=settings.flag("SYNC_ONLY_ENABLED"),
            only_licensed=settings.flag("SYNC_ONLY_LICENSED"),
            suggestion_cutoff=settings.number("MATCH_SUGGESTION_CUTOFF"),
            primary_email=settings.primary_email_source(),
        )
