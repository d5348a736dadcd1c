"""HTTP trigger: Nagios check results computed from stored data (GET /api/checks/{plugin}/{mode})."""

from __future__ import annotations

import json

import azure.functions as func

from shared.check_service import answer
from shared.checks.options import query_options

bp = func.Blueprint()


@bp.route(route="checks/{plugin}/{mode}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def check(req: func.HttpRequest) -> func.HttpResponse:
    options = query_options(req.url, req.params)
    result, status = answer(req.route_params["plugin"], req.route_params["mode"], options)
    headers = {"X-Nagios-Exit-Code": str(result.exit_code), "Cache-Control": "no-store"}
    if "application/json" in req.headers.get("Accept", ""):
        return func.HttpResponse(
            json.dumps(result.to_json(), ensure_ascii=False),
            status_code=status,
            headers=headers,
            mimetype="application/json",
            charset="utf-8",
        )
    return func.HttpResponse(result.text(), status_code=status, headers=headers, mimetype="text/plain", charset="utf-8")
