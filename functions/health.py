"""Anonymous health probe: the only endpoint without a key. Says nothing about tenants or data."""

from __future__ import annotations

import azure.functions as func

bp = func.Blueprint()


# HEAD too: load balancers and uptime monitors probe with it.
@bp.route(route="health", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("OK", mimetype="text/plain")
