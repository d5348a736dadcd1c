"""One decorator per kind of HTTP route: whatever goes wrong, the caller gets a body that says why.

Checks answer `UNKNOWN: <reason>` (text/plain, or the JSON form) with `X-Nagios-Exit-Code: 3`, so a poller
always has a Nagios answer; admin routes answer `{"error": "<reason>"}`. The classification lives in
shared.errors; this module only builds the responses.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from shared import docs
from shared.errors import Failure, classify, log_failure

if TYPE_CHECKING:
    from shared.checks.result import CheckResult

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def _where(req: func.HttpRequest, fn: Handler) -> str:
    return f"{req.method} {fn.__name__}"


def check_response(result: CheckResult, status: int, req: func.HttpRequest) -> func.HttpResponse:
    """The plugin output, or its JSON form when asked: only the one sent is built (70,000 perfdata entries)."""
    headers = {"X-Nagios-Exit-Code": str(result.exit_code), "Cache-Control": "no-store"}
    if "application/json" in req.headers.get("Accept", ""):
        body = json.dumps(result.to_json(), ensure_ascii=False)
        return func.HttpResponse(
            body, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
        )
    return func.HttpResponse(result.text(), status_code=status, headers=headers, mimetype="text/plain", charset="utf-8")


def _answering(render: Callable[[func.HttpRequest, Failure], func.HttpResponse]) -> Callable[[Handler], Handler]:
    """A route decorator: any exception becomes one log record and an answer with its reason, never an empty 500."""

    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def wrapper(req: func.HttpRequest) -> func.HttpResponse:
            try:
                with docs.interactive():  # someone waits for this answer
                    return fn(req)
            except Exception as exc:  # every failure becomes an answer
                failure = classify(exc)
                log_failure(_where(req, fn), exc, failure)
                return render(req, failure)

        return wrapper

    return decorate


def _check_failure(req: func.HttpRequest, failure: Failure) -> func.HttpResponse:
    from shared.checks.result import unknown

    result = unknown(failure.message)
    return check_response(result, failure.status, req)


check_route = _answering(_check_failure)  # text/plain UNKNOWN (or JSON) with X-Nagios-Exit-Code: 3


def json_response(data: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), status_code=status, mimetype="application/json", charset="utf-8"
    )


admin_route = _answering(lambda req, failure: json_response({"error": failure.message}, failure.status))
