"""The insights pages (dashboard, tenant, licences) rendered on the console shell (shared.console.pages)."""

from __future__ import annotations

from shared.console import pages
from shared.console.auth import Principal
from shared.insights.licences import COLUMNS

STATUS_CLASS = {"OK": "ok", "WARNING": "warning", "CRITICAL": "critical", "UNKNOWN": "unknown", "NONE": "unknown"}


def age(seconds: int | None) -> str:
    """'3 d 4 h', '2 h 5 min', '40 s'; 'never' for no collection."""
    if seconds is None:
        return "never"
    if seconds < 0:
        return "in the future"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"


def _common() -> dict:
    return {"age": age, "status_class": STATUS_CLASS}


def dashboard_page(board: dict, *, principal: Principal) -> str:
    return pages.render("dashboard.html", principal=principal, active="dashboard", board=board, **_common())


def tenant_page(tenant: dict, *, principal: Principal) -> str:
    return pages.render("tenant.html", principal=principal, active="dashboard", tenant=tenant, **_common())


def licences_page(rows: list[dict], *, principal: Principal) -> str:
    return pages.render("licences.html", principal=principal, active="licences", rows=rows, columns=COLUMNS)


def bench_principal() -> Principal:
    """A reader, for rendering a page outside a request (bench/dashboard.py)."""
    from shared.console.auth import READER

    return Principal(user_id="bench", name="Bench Reader", roles=frozenset({READER}))
