"""Admin HTTP API (master key) of the contact sync: review, manual sync, sync logs, documentation import and
export. Thin adapters over shared.matching.review and shared.docstore.transfer; every answer is JSON except
exports."""

from __future__ import annotations

import json

import azure.functions as func

bp = func.Blueprint()
ADMIN = func.AuthLevel.ADMIN


def _json(data: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), status_code=status, mimetype="application/json", charset="utf-8"
    )


def _error(exc: Exception) -> func.HttpResponse:
    from shared.docstore.transfer import ImportError_
    from shared.matching.review import ReviewError
    from shared.tenants import TenantError

    if isinstance(exc, ReviewError):
        return _json({"error": str(exc)}, exc.status)
    if isinstance(exc, TenantError):
        return _json({"error": str(exc)}, 404)
    if isinstance(exc, ImportError_ | ValueError | KeyError):
        return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)
    raise exc


@bp.route(route="review/items", methods=["GET"], auth_level=ADMIN)
def review_items(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    try:
        return _json(review.list_items(req.params.get("status", ""), req.params.get("tenant", "")))
    except Exception as exc:
        return _error(exc)


@bp.route(route="review/tenants/{tenant}/{action}", methods=["POST"], auth_level=ADMIN)
def review_action(req: func.HttpRequest) -> func.HttpResponse:
    """accept[?index=N] | match?org=ID | ignore | unignore | create-organization | sync"""
    from shared.matching import review

    tenant, action = req.route_params["tenant"], req.route_params["action"]
    try:
        if action == "accept":
            return _json(review.accept(tenant, int(req.params.get("index", "0"))), 202)
        if action == "match":
            return _json(review.match_to(tenant, req.params["org"]), 202)
        if action in ("ignore", "unignore"):
            return _json(getattr(review, action)(tenant), 202)
        if action == "create-organization":
            return _json(review.create_organization(tenant), 202)
        if action == "sync":
            return _json(review.manual_sync(tenant), 202)
        return _json({"error": f"unknown action {action!r}"}, 404)
    except Exception as exc:
        return _error(exc)


@bp.route(route="review/tenants/{tenant}/contacts/{contact}", methods=["GET"], auth_level=ADMIN)
def review_compare(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    try:
        return _json(review.compare(req.route_params["tenant"], req.route_params["contact"]))
    except Exception as exc:
        return _error(exc)


@bp.route(route="review/manage-link/{user}", methods=["GET"], auth_level=ADMIN)
def review_manage_link(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    return _json({"user_id": req.route_params["user"], "manage_url": review.manage_url(req.route_params["user"])})


@bp.route(route="sync/run", methods=["POST"], auth_level=ADMIN)
def sync_run(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review

    try:
        return _json(review.manual_sync(req.params.get("tenant", "")), 202)
    except Exception as exc:
        return _error(exc)


@bp.route(route="sync/logs", methods=["GET"], auth_level=ADMIN)
def sync_logs(req: func.HttpRequest) -> func.HttpResponse:
    from shared.matching import review
    from shared.tenants import resolve

    try:
        tenant = resolve(req.params.get("tenant", ""))
        return _json(review.logs(tenant.tenant_id, int(req.params.get("limit", "20"))))
    except Exception as exc:
        return _error(exc)


@bp.route(route="docs/export", methods=["GET"], auth_level=ADMIN)
def docs_export(req: func.HttpRequest) -> func.HttpResponse:
    from shared.docstore import transfer
    from shared.docstore.tables import TableDocumentationStore

    store = TableDocumentationStore()
    fmt = req.params.get("format", "json")
    try:
        if fmt == "json":
            return func.HttpResponse(transfer.export_json(store), mimetype="application/json", charset="utf-8")
        if fmt == "csv":
            text = transfer.export_csv(store, req.params.get("kind", "contacts"))
            return func.HttpResponse(text, mimetype="text/csv", charset="utf-8")
        return _json({"error": "format must be json or csv"}, 400)
    except Exception as exc:
        return _error(exc)


@bp.route(route="docs/import", methods=["POST"], auth_level=ADMIN)
def docs_import(req: func.HttpRequest) -> func.HttpResponse:
    """Body: the JSON document, or one CSV file (organizations or contacts); ?format=json|csv."""
    from shared.docstore import transfer
    from shared.docstore.tables import TableDocumentationStore

    fmt = req.params.get("format", "json")
    text = req.get_body().decode("utf-8-sig")
    try:
        if fmt not in ("json", "csv"):
            return _json({"error": "format must be json or csv"}, 400)
        importer = transfer.import_json if fmt == "json" else transfer.import_csv
        return _json({"imported": importer(TableDocumentationStore(), text)})
    except Exception as exc:
        return _error(exc)
