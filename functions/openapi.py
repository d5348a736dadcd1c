"""HTTP trigger: the OpenAPI description of every route (GET /api/openapi.json, function key)."""

from __future__ import annotations

import azure.functions as func

from functions.http_errors import admin_route

bp = func.Blueprint()


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@admin_route
def openapi_description(req: func.HttpRequest) -> func.HttpResponse:
    from shared.api.openapi import document_text

    return func.HttpResponse(document_text(), mimetype="application/json", charset="utf-8")
