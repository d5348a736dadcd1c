"""Console routes (pages under /api/console): anonymous to the Functions host, because App Service
Authentication signs people in in front of the app; each route then asks `signed_in` for the role it needs."""

from __future__ import annotations

import json
import mimetypes

import azure.functions as func

from shared.console import auth, pages
from shared.console.auth import Principal

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def wants_json(req: func.HttpRequest) -> bool:
    """Data routes and scripts get JSON answers; a browser page (or htmx, which swaps HTML) gets HTML."""
    if "/console/data/" in req.url:
        return True
    accept = req.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def refusal(req: func.HttpRequest, status: int, message: str, principal: Principal | None = None) -> func.HttpResponse:
    if wants_json(req):
        body = json.dumps({"error": message})
        return func.HttpResponse(body, status_code=status, mimetype="application/json", charset="utf-8")
    html = pages.error_page(message, status=status, principal=principal)
    return func.HttpResponse(html, status_code=status, mimetype="text/html", charset="utf-8")


def signed_in(req: func.HttpRequest, role: str) -> Principal | func.HttpResponse:
    """The signed-in person if they hold `role`, else the answer to send (401 nobody, 403 wrong role or a POST
    without a valid CSRF token)."""
    principal = auth.principal_from_headers(req.headers)
    if principal is None:
        why = (
            "nobody is signed in"
            if auth.platform_auth_on()
            else "sign-in is not configured on this deployment (App Service Authentication is off)"
        )
        return refusal(req, 401, f"{why}: the console needs a signed-in person")
    if not principal.can(role):
        held = principal.role or "no console role"
        return refusal(req, 403, f"this needs the {role} role; {principal.name} has {held}", principal)
    if req.method.upper() not in SAFE_METHODS:
        token = req.headers.get(auth.CSRF_HEADER) or _form_value(req, auth.CSRF_FIELD)
        if not auth.csrf_ok(principal, token):
            return refusal(
                req, 403, "this form has expired or did not come from the console: reload and retry", principal
            )
    return principal


def _form_value(req: func.HttpRequest, name: str) -> str:
    try:
        return str(req.form.get(name) or "")
    except Exception:  # not a form body: no token there
        return ""


def html(body: str, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        body, status_code=status, mimetype="text/html", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


@bp.route(route="console/static/{*path}", methods=["GET"], auth_level=ANONYMOUS)
def console_static(req: func.HttpRequest) -> func.HttpResponse:
    who = signed_in(req, auth.READER)
    if isinstance(who, func.HttpResponse):
        return who
    root = pages.STATIC.resolve()
    wanted = (root / req.route_params.get("path", "")).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return refusal(req, 404, "no such file", who)
    mimetype = _TYPES.get(wanted.suffix) or mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    return func.HttpResponse(wanted.read_bytes(), mimetype=mimetype, headers={"Cache-Control": "private, max-age=300"})
