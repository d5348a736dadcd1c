"""Console routes (pages under /api/console): anonymous to the Functions host, because App Service
Authentication signs people in in front of the app; each route then asks `signed_in` for the role it needs."""

from __future__ import annotations

import contextlib
import json
import mimetypes
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import azure.functions as func

from functions.http_errors import _answering
from shared import docs
from shared.api import openapi, routes
from shared.console import auth, pages
from shared.console import review as review_view
from shared.console.auth import Principal
from shared.docs.base import DocumentationStore
from shared.errors import UserInputError
from shared.matching import actions, orgs, state
from shared.matching import review as matching_review
from shared.store.storage import check_key

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
    return str(_form(req).get(name) or "")


def html(body: str, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        body, status_code=status, mimetype="text/html", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


console_route = _answering(lambda req, failure: refusal(req, failure.status, failure.message))
PageHandler = Callable[[func.HttpRequest, Principal], func.HttpResponse]


def console_page(role: str) -> Callable[[PageHandler], Callable[[func.HttpRequest], func.HttpResponse]]:
    """A console route for `role`: `signed_in` first, then the page with the person; any failure becomes an answer
    with its reason. The route keeps the host's one-argument signature (the worker reads it for the bindings)."""

    def decorate(page: PageHandler) -> Callable[[func.HttpRequest], func.HttpResponse]:
        def route(req: func.HttpRequest) -> func.HttpResponse:
            who = signed_in(req, role)
            return who if isinstance(who, func.HttpResponse) else page(req, who)

        route.__name__, route.__qualname__, route.__doc__ = page.__name__, page.__qualname__, page.__doc__
        return console_route(route)

    return decorate


@bp.route(route="console/static/{*path}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(auth.READER)
def console_static(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    root = pages.STATIC.resolve()
    wanted = (root / req.route_params.get("path", "")).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return refusal(req, 404, "no such file", who)
    mimetype = _TYPES.get(wanted.suffix) or mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    return func.HttpResponse(wanted.read_bytes(), mimetype=mimetype, headers={"Cache-Control": "private, max-age=300"})


# -- review (issue 12, item 3): IT Glue's Matching screen over shared.matching --------------------------------


@contextlib.contextmanager
def _documentation() -> Iterator[DocumentationStore]:
    store = docs.documentation_store()
    try:
        yield store
    finally:
        docs.close(store)


def _status_param(req: func.HttpRequest) -> str:
    status = req.params.get("status", orgs.UNMATCHED)
    if status not in orgs.STATUSES and status != "":
        raise UserInputError(f"status must be one of {', '.join(orgs.STATUSES)} (or empty for all)")
    return status


@bp.route(route="console/review", methods=["GET"], auth_level=ANONYMOUS)
@console_page(auth.READER)
def console_review(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    status = _status_param(req)
    with _documentation() as store:
        tenants, users = review_view.items(status, store)
    return html(
        pages.render(
            "review.html",
            principal=who,
            active="review",
            status=status,
            filters=review_view.FILTERS,
            counts=review_view.counts(),
            tenants=tenants,
            users=users,
            notice=req.params.get("notice", "")[:300],
        )
    )


@bp.route(route="console/review/organizations", methods=["GET"], auth_level=ANONYMOUS)
@console_page(auth.ADMIN)
def console_review_organizations(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    """The "Match to" results for a tenant (an HTML fragment htmx puts under the search box)."""
    tenant_id = check_key(req.params.get("tenant", ""), "tenant")
    query = req.params.get("q", "")[:100]
    with _documentation() as store:
        found = review_view.search_organizations(query, store)
    return html(pages.render("_org_results.html", principal=who, tenant_id=tenant_id, query=query, found=found))


@bp.route(route="console/review/tenants/{tenant}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(auth.READER)
def console_review_tenant(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    with _documentation() as store:
        view = review_view.tenant(req.route_params["tenant"], store)
    return html(pages.render("review_tenant.html", principal=who, active="review", **view))


@bp.route(route="console/review/tenants/{tenant}/contacts/{contact}", methods=["GET"], auth_level=ANONYMOUS)
@console_page(auth.READER)
def console_review_compare(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    tenant = check_key(req.route_params["tenant"], "tenant")
    with _documentation() as store:
        out = matching_review.compare(tenant, check_key(req.route_params["contact"], "contact id"), store=store)
    differing = {d["field"] for d in out["differences"]}
    return html(pages.render("review_compare.html", principal=who, active="review", differing=differing, **out))


@bp.route(route="console/review/tenants/{tenant}/{action}", methods=["POST"], auth_level=ANONYMOUS)
@console_page(auth.ADMIN)
def console_review_action(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    """One of shared.matching.actions.ACTIONS (accept, match, ignore, unignore, create-organization, sync), with
    its parameter from the form; htmx gets the tenant's row back, a plain form a redirect to the page it came from."""
    tenant = check_key(req.route_params["tenant"], "tenant")
    action = actions.find(req.route_params["action"])
    form = {k: str(v) for k, v in _form(req).items()}
    value = action.parameter.from_query(form, action.name) if action.parameter else None
    result = action.run(tenant, value)
    notice = action.summary(result)
    if not req.headers.get("hx-request"):
        return _back(req, notice)
    if action.name == "sync":
        return html(pages.render("_notice.html", principal=who, notice=notice))
    match = state.get_match(matching_review.tenant_id_of(tenant))
    with _documentation() as store:
        names = {o.id: o.name for o in store.organizations()} if match and match.org_id else {}
    row = {"kind": "organization", **(match.to_json() if match else {}), "organization_name": ""}
    row["organization_name"] = names.get(row.get("org_id", ""), "")
    return html(pages.render("_review_row.html", principal=who, item=row, row_notice=notice))


@bp.route(route="console/review/sync", methods=["POST"], auth_level=ANONYMOUS)
@console_page(auth.ADMIN)
def console_review_sync_all(req: func.HttpRequest, who: Principal) -> func.HttpResponse:
    """Manual sync of every enabled tenant."""
    result = matching_review.manual_sync("")
    notice = f"sync enqueued for {len(result['enqueued'])} tenants; the logs show each run"
    if not req.headers.get("hx-request"):
        return _back(req, notice)
    return html(pages.render("_notice.html", principal=who, notice=notice))


def _form(req: func.HttpRequest) -> Mapping[str, str]:
    try:
        return req.form
    except Exception:  # no form body (htmx sends hx-vals as a form; a bare POST has none)
        return {}


def _back(req: func.HttpRequest, notice: str) -> func.HttpResponse:
    """303 to the console page the form was on (only a console path: no open redirect), with the notice."""
    target = str(_form(req).get("back") or "")
    if not target.startswith(f"{pages.BASE}/") or "//" in target or "\\" in target:
        target = f"{pages.BASE}/review"
    joiner = "&" if "?" in target else "?"
    return func.HttpResponse(status_code=303, headers={"Location": f"{target}{joiner}{urlencode({'notice': notice})}"})


# -- the console routes in the OpenAPI description (shared.api.openapi): pages answer HTML, refusals HTML or JSON
_page, _refusals = routes.html_page, routes.console_refusals


def _described(method: str, route: str, role: str, summary: str, op_id: str, ok: dict, **extra: object) -> Any:
    responses = {**ok, **_refusals(400, 401, 403, 404, 500, 502, 503)}
    return openapi.Operation(
        method=method, route=route, auth=openapi.SIGNED_IN, summary=summary, tag="console", operation_id=op_id,
        responses=responses, role=role, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


_TENANT_Q = openapi.query("tenant", openapi.STRING, "The tenant whose row the results act on.", required=True)
openapi.describe(
    _described("GET", "console/static/{*path}", auth.READER, "Console static file (CSS, scripts, htmx, uPlot)",
               "console_static", {200: {"description": "The file."}},
               parameters=(openapi.path_param("path", "File under shared/console/static."),),
               path=f"{openapi.ROUTE_PREFIX}/console/static/{{path}}"),  # OpenAPI has no catch-all: one parameter
    _described("GET", "console/static/{*path}", auth.READER, "Console vendored library (htmx, uPlot)",
               "console_static_vendor", {200: {"description": "The file."}},
               parameters=(openapi.path_param("file", "File under shared/console/static/vendor."),),
               path=f"{openapi.ROUTE_PREFIX}/console/static/vendor/{{file}}"),
    _described("GET", "console/review", auth.READER, "Review screen: tenants by status", "console_review",
               {200: _page("The review page.")},
               parameters=(openapi.query("status", {"enum": [*orgs.STATUSES, ""]}, "Filter (empty: all)."),
                           openapi.query("notice", openapi.STRING, "A message to show."))),
    _described("GET", "console/review/organizations", auth.ADMIN, "Match to: organizations found by name",
               "console_review_organizations", {200: _page("Result items (HTML fragment).")},
               parameters=(_TENANT_Q, openapi.query("q", openapi.STRING, "Part of the name."))),
    _described("GET", "console/review/tenants/{tenant}", auth.READER, "One tenant: contacts and sync logs",
               "console_review_tenant", {200: _page("The tenant page.")}),
    _described("GET", "console/review/tenants/{tenant}/contacts/{contact}", auth.READER,
               "One contact beside its Microsoft 365 user", "console_review_compare", {200: _page("The comparison.")}),
    _described("POST", "console/review/tenants/{tenant}/{action}", auth.ADMIN, "A review action (CSRF token needed)",
               "console_review_action", {200: _page("The tenant's row (htmx)."), 303: {"description": "Back."}}),
    _described("POST", "console/review/sync", auth.ADMIN, "Manual sync of every tenant (CSRF token needed)",
               "console_review_sync_all", {200: _page("A notice (htmx)."), 303: {"description": "Back."}}),
)  # fmt: skip
