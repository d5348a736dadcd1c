"""Anonymous health probe: the only endpoint without a key. Says nothing about tenants or data."""

from __future__ import annotations

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("OK", mimetype="text/plain")
