"""One decorator per kind of HTTP route: whatever goes wrong, the caller gets a body that says why.

Checks answer `UNKNOWN: <reason>` (text/plain, or the JSON form) with `X-Nagios-Exit-Code: 3`, so a poller
always has a Nagios answer; admin routes answer `{"error": "<reason>"}`. The classification lives in
shared.errors; this module only builds the responses.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import azure.functions as func

from shared.errors import classify, log_failure

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def _where(req: func.HttpRequest, fn: Handler) -> str:
    return f"{req.method} {fn.__name__}"


def check_response(text: str, exit_code: int, status: int, req: func.HttpRequest, document: dict) -> func.HttpResponse:
    headers = {"X-Nagios-Exit-Code": str(exit_code), "Cache-Control": "no-store"}
    if "application/json" in req.headers.get("Accept", ""):
        body = json.dumps(document, ensure_ascii=False)
        return func.HttpResponse(
            body, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
        )
    return func.HttpResponse(text, status_code=status, headers=headers, mimetype="text/plain", charset="utf-8")


def check_route(fn: Handler) -> Handler:
    @functools.wraps(fn)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return fn(req)
        except Exception as exc:  # every failure becomes a Nagios answer
            from shared.checks.result import unknown

            failure = classify(exc)
            log_failure(_where(req, fn), exc, failure)
            result = unknown(failure.message)
            return check_response(result.text(), result.exit_code, failure.status, req, result.to_json())

    return wrapper


def json_response(data: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), status_code=status, mimetype="application/json", charset="utf-8"
    )


def admin_route(fn: Handler) -> Handler:
    @functools.wraps(fn)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return fn(req)
        except Exception as exc:  # every failure becomes a JSON reason
            failure = classify(exc)
            log_failure(_where(req, fn), exc, failure)
            return json_response({"error": failure.message}, failure.status)

    return wrapper
