"""The description of the admin routes (functions/review.py), the health probe (functions/health.py), the
description itself (functions/openapi.py) and the console insights (functions/insights.py): one `Operation` per
method, the answers' schemas in `SCHEMAS`; the helpers of every console route's description."""

from __future__ import annotations

import re
from typing import Any

from shared.api.openapi import (
    ADMIN,
    ANONYMOUS,
    BOOLEAN,
    ERROR_TEXT,
    FUNCTION,
    INTEGER,
    ROUTE_PREFIX,
    SIGNED_IN,
    STRING,
    STRINGS,
    Operation,
    json_body,
    nullable,
    obj,
    path_param,
    query,
    ref,
)
from shared.checks.result import State
from shared.console.auth import READER
from shared.insights import dashboard, licences
from shared.insights.summary import CHECKS, CONSENT_STATES
from shared.matching import actions, orgs
from shared.matching.state import RESULT_COLUMNS
from shared.store import history

# Admin routes read storage (503 when it is unreachable) and, for most, the documentation system: IT Glue
# refusing o365mon's request is a 502, IT Glue unreachable or still throttling a 503 (shared.errors.classify),
# each with the JSON error body.
_STORAGE = (400, 404, 500, 503)
_DOCS = (*_STORAGE, 502)
# shared.errors.int_param: int() of the stripped text, '' for the default; the range is checked by the route (400).
WHOLE_NUMBER: dict[str, Any] = {"type": "string", "pattern": r"^\s*[+-]?[0-9]*\s*$"}
_TENANT_PATH = path_param("tenant", "The tenant: its id, a domain or its display name.")

_SUGGESTION = obj({"org_id": STRING, "name": STRING, "score": {"type": "number"}}, required=("org_id",))
_DECISION = obj(
    {"action": {"enum": ["accept", "match", "ignore", "unignore", "create"]}, "org_id": STRING}, required=("action",)
)
SCHEMAS: dict[str, dict[str, Any]] = {
    "ReviewOrganizationItem": obj(
        {
            "kind": {"const": "organization"},
            "tenant_id": STRING,
            "tenant_name": STRING,
            "status": {"enum": list(orgs.STATUSES)},
            "org_id": STRING,
            "rule": STRING,
            "suggestions": {"type": "array", "items": _SUGGESTION},
            "message": STRING,
            "ignored": BOOLEAN,
            "decision": {"type": "object", "description": "The reviewer's pending action, {} when none."},
            "updated": STRING,
            "organization_name": STRING,
        }
    ),
    "ReviewUserItem": obj(
        {
            "kind": {"const": "user"},
            "tenant_id": STRING,
            "organization_id": STRING,
            **{column: STRING for column in RESULT_COLUMNS},
        }
    ),
    "ReviewDecision": obj({"tenant_id": STRING, "decision": _DECISION, "enqueued": STRING}),
    "SyncEnqueued": obj({"enqueued": STRINGS, "queue": STRING}),
    "TenantSettingsChange": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "skus": {
                **nullable({**STRINGS, "minItems": 1}),
                "description": "SKU part numbers or ids; null = every licensed user.",
            },
            "licences": {**nullable(BOOLEAN), "description": "Document licences; null = the SYNC_LICENCES setting."},
            "guests": {**nullable(BOOLEAN), "description": "Include guests; null = the SYNC_INCLUDE_GUESTS setting."},
        },
    },
    "TenantSettings": obj(
        {
            "tenant_id": STRING,
            "tenant_name": STRING,
            "settings": obj({"skus": nullable(STRINGS), "licences": nullable(BOOLEAN), "guests": nullable(BOOLEAN)}),
            "effective": obj(
                {"contacts_for": STRING, "sku_ids": nullable(STRINGS), "licences": BOOLEAN, "guests": BOOLEAN}
            ),
            "subscriptions": {
                "type": "array",
                "items": obj(
                    {
                        "sku_id": STRING,
                        "sku_part_number": STRING,
                        "assigned": INTEGER,
                        "total": INTEGER,
                        "synced": BOOLEAN,
                    }
                ),
            },
            "directory_stored": BOOLEAN,
            "updated": STRING,
        }
    ),
    "ContactComparison": obj(
        {
            "tenant_id": STRING,
            "organization_id": STRING,
            "contact": obj(
                {
                    "id": STRING,
                    "first_name": STRING,
                    "last_name": STRING,
                    "title": STRING,
                    "emails": STRINGS,
                    "phones": STRINGS,
                    "active": BOOLEAN,
                    "link_source": STRING,
                    "link_rule": STRING,
                }
            ),
            "user": obj(
                {
                    "id": STRING,
                    "user_principal_name": STRING,
                    "given_name": STRING,
                    "surname": STRING,
                    "job_title": STRING,
                    "mail": STRING,
                    "phones": STRINGS,
                    "account_enabled": BOOLEAN,
                    "user_type": STRING,
                    "licensed": BOOLEAN,
                }
            ),
            "differences": {
                "type": "array",
                "items": obj({"field": STRING, "documented": {}, "microsoft365": {}}),
            },
            "manage_url": {"type": "string", "format": "uri"},
        }
    ),
    "SyncLog": obj(
        {
            "tenant_id": STRING,
            "started": STRING,
            "ended": STRING,
            "status": STRING,
            "trigger": STRING,
            "attempt": INTEGER,
            "users": INTEGER,
            "errors_text": STRINGS,
            "notes": {"type": "array"},
            "rejections": {"type": "array"},
        }
    ),
    "DocumentationExport": obj(
        {
            "organizations": {
                "type": "array",
                "items": obj(
                    {"id": STRING, "name": STRING, "contacts": {"type": "array", "items": {"type": "object"}}},
                    required=("id", "name", "contacts"),
                ),
            }
        }
    ),
    "ImportResult": obj({"imported": {"type": "object", "additionalProperties": INTEGER}}),
}

_ACTION_NAMES = sorted(name for name in actions.BY_NAME)
_ACTION_TEXT = "; ".join(f"`{a.name}`: {a.help}" for a in actions.ACTIONS)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="GET",
        route="health",
        auth=ANONYMOUS,
        summary="Health probe (the only route without a key; says nothing about tenants or data)",
        tag="health",
        operation_id="health",
        responses={200: {"description": "Up.", "content": {"text/plain": {"schema": {"const": "OK"}}}}},
    ),
    Operation(
        method="HEAD",
        route="health",
        auth=ANONYMOUS,
        summary="Health probe for load balancers and uptime monitors",
        tag="health",
        operation_id="health_head",
        responses={200: {"description": "Up (no body)."}},
    ),
    Operation(
        method="GET",
        route="openapi.json",
        auth=FUNCTION,
        summary="This OpenAPI description",
        tag="openapi",
        operation_id="openapi",
        responses={200: json_body("The OpenAPI 3.1 document.", {"type": "object", "required": ["openapi", "paths"]})},
        errors=(500,),
    ),
    Operation(
        method="GET",
        route="review/items",
        auth=ADMIN,
        summary="Review list: each tenant's organization match, by status",
        description="With `status=ambiguous` the users whose contact match was ambiguous follow their tenant.",
        tag="review",
        operation_id="review_items",
        parameters=(
            query("status", {"enum": ["", *orgs.STATUSES]}, "Only the tenants in this state ('' = all)."),
            query("tenant", STRING, "Only this tenant (id, domain or display name)."),
        ),
        responses={
            200: json_body(
                "The items, by tenant name.",
                {"type": "array", "items": {"oneOf": [ref("ReviewOrganizationItem"), ref("ReviewUserItem")]}},
            )
        },
        errors=_DOCS,
    ),
    Operation(
        method="POST",
        route="review/tenants/{tenant}/{action}",
        auth=ADMIN,
        summary="A review action on a tenant (takes effect at the next sync, which it enqueues)",
        description=_ACTION_TEXT + ".",
        tag="review",
        operation_id="review_action",
        parameters=(
            _TENANT_PATH,
            path_param(
                "action", "The action (create-org is an alias of create-organization).", {"enum": _ACTION_NAMES}
            ),
            query("index", WHOLE_NUMBER, "accept: the suggestion, a whole number from 0 (the best, default) to 99."),
            query("org", {"type": "string", "minLength": 1}, "match: the organization id (required there)."),
        ),
        responses={
            202: json_body("Recorded and enqueued.", {"oneOf": [ref("ReviewDecision"), ref("SyncEnqueued")]}),
        },
        errors=_DOCS,
    ),
    Operation(
        method="GET",
        route="review/tenants/{tenant}/settings",
        auth=ADMIN,
        summary="What is synced for the tenant: stored settings, what applies, its subscriptions",
        tag="review",
        operation_id="review_settings",
        parameters=(_TENANT_PATH,),
        responses={200: json_body("The tenant's sync settings.", ref("TenantSettings"))},
        errors=_STORAGE,
    ),
    Operation(
        method="PUT",
        route="review/tenants/{tenant}/settings",
        auth=ADMIN,
        summary="Change what is synced for the tenant (keys left out keep their value)",
        tag="review",
        operation_id="review_settings_change",
        parameters=(_TENANT_PATH,),
        request_body={
            "required": True,
            "content": {
                "application/json": {"schema": ref("TenantSettingsChange")},
                "*/*": {"schema": {"description": "Read as JSON whatever the content type."}},
            },
        },
        responses={200: json_body("The tenant's sync settings after the change.", ref("TenantSettings"))},
        errors=(*_STORAGE, 422),
    ),
    Operation(
        method="GET",
        route="review/tenants/{tenant}/contacts/{contact}",
        auth=ADMIN,
        summary="One documented contact next to its Microsoft 365 user, with the fields that differ",
        tag="review",
        operation_id="review_compare",
        parameters=(_TENANT_PATH, path_param("contact", "The contact id in the documentation.")),
        responses={200: json_body("The comparison.", ref("ContactComparison"))},
        errors=_DOCS,
    ),
    Operation(
        method="GET",
        route="review/manage-link/{user}",
        auth=ADMIN,
        summary="The Microsoft 365 admin center link of a user",
        tag="review",
        operation_id="review_manage_link",
        parameters=(path_param("user", "The user's object id."),),
        responses={
            200: json_body("The link.", obj({"user_id": STRING, "manage_url": {"type": "string", "format": "uri"}}))
        },
        errors=(400, 500),
    ),
    Operation(
        method="POST",
        route="sync/run",
        auth=ADMIN,
        summary="Start a directory sync and match (one tenant, or every enabled one)",
        tag="sync",
        operation_id="sync_run",
        parameters=(query("tenant", STRING, "Only this tenant (id, domain or display name); every one if absent."),),
        responses={202: json_body("Enqueued.", ref("SyncEnqueued"))},
        errors=_STORAGE,
    ),
    Operation(
        method="GET",
        route="sync/logs",
        auth=ADMIN,
        summary="A tenant's sync logs, newest first, with counts and errors",
        tag="sync",
        operation_id="sync_logs",
        parameters=(
            query("tenant", STRING, "The tenant (id, domain or display name).", required=True),
            query("limit", WHOLE_NUMBER, "How many: a whole number from 1 to 1000 (default 20)."),
        ),
        responses={200: json_body("The logs.", {"type": "array", "items": ref("SyncLog")})},
        errors=_STORAGE,
    ),
    Operation(
        method="GET",
        route="docs/export",
        auth=ADMIN,
        summary="Export the documentation (JSON: organizations with their contacts; CSV: one kind)",
        tag="docs",
        operation_id="docs_export",
        parameters=(
            query("format", {"enum": ["json", "csv"], "default": "json"}, "The format."),
            query("kind", {"type": "string", "default": "contacts"}, "CSV: organizations or contacts (JSON: ignored)."),
        ),
        responses={
            200: {
                "description": "The export.",
                "content": {
                    "application/json": {"schema": ref("DocumentationExport")},
                    "text/csv": {"schema": {"type": "string", "minLength": 1}},
                },
            }
        },
        errors=_DOCS,
    ),
    Operation(
        method="POST",
        route="docs/import",
        auth=ADMIN,
        summary="Import documentation (own tables only): all or nothing, upserts by id",
        description="The body's format is `?format=`, else recognised from its content whatever its content type.",
        tag="docs",
        operation_id="docs_import",
        parameters=(query("format", {"enum": ["", "json", "csv"]}, "json or csv; recognised when absent."),),
        request_body={
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": STRING},
                "*/*": {"schema": {"description": "Recognised from its content."}},
            },
        },
        responses={200: json_body("Imported: counts per kind.", ref("ImportResult"))},
        errors=_STORAGE,
    ),
)


# -- the console routes in the OpenAPI description: signed in with an app role (SIGNED_IN); pages answer HTML,
# their refusals HTML or JSON (functions.console.refusal: JSON when the Accept header asks only for it), the
# data routes under /console/data/ JSON both ways.
_HTML = {"type": "string"}


def html_page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": _HTML}}}


def console_refusals(*statuses: int, data: bool = False, why: dict[int, str] | None = None) -> dict[int, dict]:
    """The refusals of a console route (`why`: what a status means there, else the generic text)."""
    content: dict[str, Any] = {"application/json": {"schema": ref("Error")}}
    if not data:
        content = {"text/html": {"schema": _HTML}, **content}
    texts = {**ERROR_TEXT, 401: "Nobody is signed in (or sign-in is off on this deployment).", **(why or {})}
    return {s: {"description": texts.get(s, "Refused."), "content": content} for s in statuses}


# -- the console insights (functions/insights.py over shared.insights and shared.store.history)
_CHECK_IDS = [c.check_id for c in CHECKS]
_STATES = [s.name for s in State]
_ID = "|".join(re.escape(i) for i in _CHECK_IDS)
_CHECK_CELL: dict[str, dict[str, Any]] = {
    "status": {"enum": [*_STATES, dashboard.NEVER], "description": f"{dashboard.NEVER}: no result yet."},
    "output": {"type": "string", "description": "The plugin's first line ('' without a result)."},
    "at": {"type": "string", "description": "When it was computed (ISO 8601, '' without a result)."},
}
_ROW: dict[str, dict[str, Any]] = {
    "tenant_id": STRING,
    "name": {"type": "string", "minLength": 1, "description": "Display name, else first domain, else tenant id."},
    "domains": STRINGS,
    "consent": {"enum": list(CONSENT_STATES)},
    "consent_detail": STRING,
    "worst": {"enum": _STATES, "description": "The worst result of the selected checks (UNKNOWN without any)."},
    "last_success": {"type": "string", "description": "The last successful collection (ISO 8601, '' if none)."},
    "age_s": {**nullable({"type": "integer"}), "description": "Seconds since last_success; null if none."},
    "last_run_status": STRING,
    "last_error": STRING,
}


def _checks(cell: dict[str, Any], *, every: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "propertyNames": {"enum": _CHECK_IDS},
        "additionalProperties": cell,
        "required": _CHECK_IDS if every else [],
        "description": "By check id: the selected checks (the tenant page: every one).",
    }


_INSIGHTS_SCHEMAS: dict[str, dict[str, Any]] = {
    "DashboardRow": obj({**_ROW, "checks": _checks(obj(_CHECK_CELL), every=False)}),
    "Dashboard": obj(
        {
            "generated": {"type": "string", "format": "date-time"},
            "checks": {
                "type": "array",
                "items": obj({"id": {"enum": _CHECK_IDS}, "title": STRING, "selected": BOOLEAN}),
                "minItems": len(CHECKS),
                "maxItems": len(CHECKS),
                "description": "Every dashboard check, in column order.",
            },
            "query": obj(
                {
                    "checks": {"type": "array", "items": {"enum": _CHECK_IDS}, "minItems": 1},
                    "problems": BOOLEAN,
                    "sort": {"enum": list(dashboard.SORTS)},
                    "order": {"enum": ["asc", "desc"]},
                }
            ),
            "tenants": {"type": "integer", "minimum": 0, "description": "Tenants with a summary, before filters."},
            "counts": {
                **obj({name: {"type": "integer", "minimum": 0} for name in _STATES}),
                "description": "Rows shown per worst status.",
            },
            "rows": {"type": "array", "items": ref("DashboardRow")},
        }
    ),
    "TenantInsights": obj(
        {
            **_ROW,
            "checks": _checks(
                obj(
                    {
                        **_CHECK_CELL,
                        "title": STRING,
                        "plugin": STRING,
                        "mode": STRING,
                        "options": {"type": "object", "additionalProperties": STRING},
                        "long_output": STRING,
                    }
                ),
                every=True,
            ),
            "metrics": {
                "type": "array",
                "items": obj({"id": {"enum": list(history.METRICS)}, "title": STRING, "unit": STRING}),
            },
        }
    ),
    "HistorySeries": obj(
        {
            "tenant": STRING,
            "metric": {"enum": list(history.METRICS)},
            "title": STRING,
            "unit": STRING,
            "dates": {"type": "array", "items": {"type": "string", "format": "date"}},
            "x": {"type": "array", "items": INTEGER, "description": "The dates as epoch seconds at 00:00 UTC."},
            "series": {
                "type": "array",
                "items": obj(
                    {
                        "label": STRING,
                        "values": {
                            "type": "array",
                            "items": nullable(INTEGER),
                            "description": "One per date; null where the day has no figure.",
                        },
                    }
                ),
                "description": "licences: '<SKU> enabled' and '<SKU> consumed' per SKU; else the metric's series.",
            },
        }
    ),
    "LicenceReport": obj(
        {
            "columns": {"const": list(licences.COLUMNS)},
            "rows": {
                "type": "array",
                "items": obj(
                    {
                        **{c: STRING for c in licences.COLUMNS},
                        "enabled": INTEGER,
                        "consumed": INTEGER,
                        "free": INTEGER,
                        "previous_month_date": {
                            "type": "string",
                            "description": "The previous month's last figures' day, '' without any.",
                        },
                        "enabled_change": nullable(INTEGER),
                        "consumed_change": nullable(INTEGER),
                    }
                ),
                "description": "By tenant name, tenant id and SKU.",
            },
        }
    ),
}
SCHEMAS |= _INSIGHTS_SCHEMAS

# Every piece of `checks` an optional check id: 'a,b', ' a , ,b' and '' (every check) are fine.
_CHECKS_PATTERN = rf"^\s*({_ID})?\s*(,\s*({_ID})?\s*)*$"
_BOARD_PARAMS = (
    query("checks", {"type": "string", "pattern": _CHECKS_PATTERN}, "Comma-separated check ids (empty: every one)."),
    *(
        query(f"check-{i}", STRING, f"The page's checkbox: on or 1 selects {i} (read when `checks` is empty).")
        for i in _CHECK_IDS
    ),
    query("problems", STRING, "1, true, yes or on: only the tenants whose worst status is not OK."),
    query("sort", {"enum": ["", *dashboard.SORTS], "default": "name"}, "The order of the rows (empty: name)."),
    query("order", {"enum": ["", "asc", "desc"], "default": "asc"}, "desc: descending."),
)
_BAD_BOARD = {400: "Unknown check id or sort; the body says which and what is expected."}
_NO_TENANT = {
    400: "The tenant id is not a storage key (empty, too long or / \\ # ?).",
    404: "No summary for this tenant (never collected, or not a tenant id).",
}
_TENANT_ID = path_param("tenant", "The tenant id (case-insensitive).")


def _insight(
    route: str, op_id: str, summary: str, ok: dict[int, dict], refusals: dict[int, dict], **extra: Any
) -> Operation:
    return Operation(
        method="GET", route=route, auth=SIGNED_IN, summary=summary, tag="console", operation_id=op_id,
        responses={**ok, **refusals}, role=READER, **extra,
    )  # fmt: skip


OPERATIONS += (
    _insight("console", "console_dashboard", "Dashboard: every tenant's check results",
             {200: html_page("The dashboard page.")},
             console_refusals(400, 401, 403, 500, 503, why=_BAD_BOARD), parameters=_BOARD_PARAMS),
    # The pages link to the dashboard as /api/console/ (pages.BASE + "/"): the host routes it to the same function.
    _insight("console", "console_dashboard_slash", "Dashboard (the pages' links end with a slash)",
             {200: html_page("The dashboard page.")}, console_refusals(400, 401, 403, 500, 503, why=_BAD_BOARD),
             parameters=_BOARD_PARAMS, path=f"{ROUTE_PREFIX}/console/"),
    _insight("console/data/dashboard", "console_data_dashboard", "The dashboard's data",
             {200: json_body("One row per tenant, filtered and sorted as asked.", ref("Dashboard"))},
             console_refusals(400, 401, 403, 500, 503, data=True, why=_BAD_BOARD), parameters=_BOARD_PARAMS),
    _insight("console/tenants/{tenant}", "console_tenant", "One tenant: every check with its details, history charts",
             {200: html_page("The tenant page.")},
             console_refusals(400, 401, 403, 404, 500, 503, why=_NO_TENANT), parameters=(_TENANT_ID,)),
    _insight("console/data/tenants/{tenant}", "console_data_tenant", "One tenant's page data",
             {200: json_body("Every check's result with its long output, and the metrics to chart.",
                             ref("TenantInsights"))},
             console_refusals(400, 401, 403, 404, 500, 503, data=True, why=_NO_TENANT), parameters=(_TENANT_ID,)),
    _insight("console/data/history/{tenant}/{metric}", "console_data_history",
             "One metric's daily history for a tenant (within HISTORY_RETENTION_DAYS), shaped for uPlot",
             {200: json_body("The series (empty for a tenant without history).", ref("HistorySeries"))},
             console_refusals(400, 401, 403, 404, 500, 503, data=True, why={
                 400: _NO_TENANT[400], 404: f"Unknown metric; expected one of {', '.join(history.METRICS)}."}),
             parameters=(_TENANT_ID, path_param("metric", "The metric.", {"enum": list(history.METRICS)}))),
    _insight("console/licences", "console_licences", "Licence report: every tenant's SKUs with last month's change",
             {200: html_page("The licence report page.")}, console_refusals(401, 403, 500, 503)),
    _insight("console/data/licences", "console_data_licences", "The licence report as JSON, or a CSV download",
             {200: {"description": "The report.", "content": {
                 "application/json": {"schema": ref("LicenceReport")},
                 "text/csv": {"schema": {"type": "string", "pattern": "^" + ",".join(licences.COLUMNS) + "\r\n"},
                              "example": ",".join(licences.COLUMNS) + "\r\n"}},
                 "headers": {"Content-Disposition": {"description": "CSV: a download (the JSON has none).",
                                                     "schema": STRING}}}},
             console_refusals(400, 401, 403, 500, 503, data=True, why={400: "format must be json or csv."}),
             parameters=(query("format", {"enum": ["json", "csv"], "default": "json"}, "The format."),)),
)  # fmt: skip
