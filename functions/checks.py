"""HTTP trigger: Nagios check results computed from stored data (GET /api/checks/{plugin}/{mode})."""

from __future__ import annotations

import azure.functions as func

from functions.http_errors import check_response, check_route
from shared.checks.options import query_options
from shared.checks.service import answer

bp = func.Blueprint()


@bp.route(route="checks/{plugin}/{mode}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@check_route
def check(req: func.HttpRequest) -> func.HttpResponse:
    options = query_options(req.url, req.params)
    result, status = answer(req.route_params["plugin"], req.route_params["mode"], options)
    return check_response(result, status, req)
