"""Console routes of the insights: the all-tenants dashboard, one tenant's page, the licence report (pages for
people with the reader role, signed in), and the JSON (and CSV) they are built from under /api/console/data/.
Thin adapters over shared.insights; every failure is an answer with its reason (JSON on data routes, a page
otherwise)."""

from __future__ import annotations

import json

import azure.functions as func

from functions.console import ANONYMOUS, console_page, html, refusal
from shared.console.auth import READER, Principal
from shared.store.storage import check_key

bp = func.Blueprint()


def _json(data: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, ensure_ascii=False), status_code=status, mimetype="application/json", charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip


def _params(req: func.HttpRequest) -> dict[str, str]:
    return {k: str(v) for k, v in req.params.items()}


def _board(req: func.HttpRequest) -> dict:
    from shared.insights import dashboard

    return dashboard.build(dashboard.Query.from_params(_params(req)))


def _tenant(req: func.HttpRequest) -> dict | None:
    from shared.insights import dashboard

    return dashboard.tenant_page(check_key(req.route_params.get("tenant", ""), "tenant").lower())


def _no_tenant(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    return refusal(
        req, 404, f"no summary for tenant '{req.route_params.get('tenant', '')[:80]}' (never collected?)", who
    )


@bp.route(route="console", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_dashboard(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    from shared.insights import pages

    return html(pages.dashboard_page(_board(req), principal=who))


@bp.route(route="console/data/dashboard", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_data_dashboard(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    return _json(_board(req))


@bp.route(route="console/tenants/{tenant}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_tenant(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    from shared.insights import pages

    tenant = _tenant(req)
    return _no_tenant(req, who) if tenant is None else html(pages.tenant_page(tenant, principal=who))


@bp.route(route="console/data/tenants/{tenant}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_data_tenant(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    tenant = _tenant(req)
    return _no_tenant(req, who) if tenant is None else _json(tenant)


@bp.route(route="console/data/history/{tenant}/{metric}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_data_history(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    from shared.store import history

    tenant = check_key(req.route_params.get("tenant", ""), "tenant").lower()
    metric = req.route_params.get("metric", "")
    if metric not in history.METRICS:
        return refusal(req, 404, f"unknown metric; expected one of {', '.join(history.METRICS)}", who)
    return _json(history.series(tenant, metric))


@bp.route(route="console/licences", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_licences(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    from shared.insights import licences, pages

    return html(pages.licences_page(licences.rows(), principal=who))


@bp.route(route="console/data/licences", methods=["GET"], auth_level=ANONYMOUS)
@console_page(READER)
def console_data_licences(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    """The licence report as JSON rows, or `?format=csv` as a CSV download."""
    from shared.insights import licences

    rows = licences.rows()
    wanted = req.params.get("format", "json")
    if wanted == "csv":
        return func.HttpResponse(
            licences.to_csv(rows), mimetype="text/csv", charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="o365mon-licences.csv"', "Cache-Control": "no-store"},
        )  # fmt: skip
    if wanted != "json":
        return refusal(req, 400, "format must be json or csv", who)
    return _json({"columns": list(licences.COLUMNS), "rows": rows})
