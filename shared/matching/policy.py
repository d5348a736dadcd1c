"""Which Microsoft 365 users the sync may create contacts for (app settings, read once per run)."""

from __future__ import annotations

from dataclasses import dataclass

from shared import settings


def _flag(name: str, default: bool) -> bool:
    value = settings.get(name)
    return default if not value else value.lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Policy:
    include_guests: bool = False  # guests (#EXT#, userType Guest) take part at all
    only_enabled: bool = True  # create contacts only for enabled accounts
    only_licensed: bool = True  # create contacts only for users holding a licence
    suggestion_cutoff: float = 80.0

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            include_guests=_flag("SYNC_INCLUDE_GUESTS", False),
            only_enabled=_flag("SYNC_ONLY_ENABLED", True),
            only_licensed=_flag("SYNC_ONLY_LICENSED", True),
            suggestion_cutoff=float(settings.get("MATCH_SUGGESTION_CUTOFF", "80") or 80),
        )
