"""Admin HTTP API (master key) of the contact sync: review, manual sync, sync logs, documentation import and
export. Thin adapters over shared.matching.review and shared.docstore.transfer; every answer is JSON except
exports, and every failure is a JSON `{"error": ...}` with a 4xx/5xx status (functions.http_errors)."""

from __future__ import annotations

import json

import azure.functions as func

from functions.http_errors import admin_route, json_response
from shared.errors import UserInputError, int_param
from shared.store.storage import check_key

bp = func.Blueprint()
ADMIN = func.AuthLevel.ADMIN
_json = json_response


@bp.route(route="review/items", methods=["GET"], auth_level=ADMIN)
@admin_route
def review_items(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    return _json(review.list_items(req.params.get("status", ""), req.params.get("tenant", "")))


@bp.route(route="review/tenants/{tenant}/{action}", methods=["POST"], auth_level=ADMIN)
@admin_route
def review_action(req: func.HttpRequest) -> func.HttpResponse:
    """One of shared.matching.actions.ACTIONS: accept[?index=N] | match?org=ID | ignore | unignore |
    create-organization | sync."""
    from shared.matching import actions

    tenant = check_key(req.route_params["tenant"], "tenant")
    action = actions.find(req.route_params["action"])
    value = action.parameter.from_query(req.params, action.name) if action.parameter else None
    return _json(action.run(tenant, value), 202)


@bp.route(route="review/tenants/{tenant}/settings", methods=["GET", "PUT"], auth_level=ADMIN)
@admin_route
def review_settings(req: func.HttpRequest) -> func.HttpResponse:
    """What to sync for the tenant. PUT body: {"skus": [part numbers or SKU ids] | null, "licences": bool | null,
    "guests": bool | null}; keys left out keep their value, null goes back to the app setting."""
    from shared.matching import tenant_settings

    tenant = check_key(req.route_params["tenant"], "tenant")
    if req.method.upper() != "PUT":
        return _json(tenant_settings.show(tenant))
    body = req.get_body().decode("utf-8-sig")
    try:
        doc = json.loads(body) if body.strip() else None
    except json.JSONDecodeError as exc:
        raise UserInputError(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    return _json(tenant_settings.change(tenant, doc))


@bp.route(route="review/tenants/{tenant}/contacts/{contact}", methods=["GET"], auth_level=ADMIN)
@admin_route
def review_compare(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    tenant = check_key(req.route_params["tenant"], "tenant")
    return _json(review.compare(tenant, check_key(req.route_params["contact"], "contact id")))


@bp.route(route="review/manage-link/{user}", methods=["GET"], auth_level=ADMIN)
@admin_route
def review_manage_link(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    user = check_key(req.route_params["user"], "user id")
    return _json({"user_id": user, "manage_url": review.manage_url(user)})


@bp.route(route="sync/run", methods=["POST"], auth_level=ADMIN)
@admin_route
def sync_run(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    return _json(review.manual_sync(req.params.get("tenant", "")), 202)


@bp.route(route="sync/logs", methods=["GET"], auth_level=ADMIN)
@admin_route
def sync_logs(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review
    from shared.store.tenants import resolve

    limit = int_param(req.params, "limit", 20, 1, 1000)
    tenant = resolve(req.params.get("tenant", ""))
    return _json(review.logs(tenant.tenant_id, limit))


@bp.route(route="docs/export", methods=["GET"], auth_level=ADMIN)
@admin_route
def docs_export(req: func.HttpRequest) -> func.HttpResponse:
    from shared import docs
    from shared.docs import transfer

    fmt = req.params.get("format", "json")
    kind = req.params.get("kind", "contacts")
    if fmt not in ("json", "csv"):
        return _json({"error": "format must be json or csv"}, 400)
    if fmt == "csv" and kind not in ("organizations", "contacts"):
        raise UserInputError("kind must be organizations or contacts")
    store = docs.documentation_store()
    try:
        if fmt == "json":
            return func.HttpResponse(transfer.export_json(store), mimetype="application/json", charset="utf-8")
        return func.HttpResponse(transfer.export_csv(store, kind), mimetype="text/csv", charset="utf-8")
    finally:
        docs.close(store)


@bp.route(route="docs/import", methods=["POST"], auth_level=ADMIN)
@admin_route
def docs_import(req: func.HttpRequest) -> func.HttpResponse:
    """Body: the JSON document, or one CSV file (organizations or contacts); ?format=json|csv, else sniffed.
    All or nothing: one bad record writes nothing and the 400 names every bad record."""
    from shared import docs
    from shared.docs import transfer

    fmt = req.params.get("format", "")
    if fmt not in ("", "json", "csv"):
        raise UserInputError("format must be json or csv")
    text = req.get_body().decode("utf-8-sig")
    return _json({"imported": transfer.import_text(docs.import_store(), text, fmt or None)})
