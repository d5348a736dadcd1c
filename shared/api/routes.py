"""The description of the admin routes (functions/review.py), the health probe (functions/health.py) and the
description itself (functions/openapi.py): one `Operation` per method, the answers' schemas in `SCHEMAS`."""

from __future__ import annotations

from typing import Any

from shared.api.openapi import (
    ADMIN,
    ANONYMOUS,
    BOOLEAN,
    FUNCTION,
    INTEGER,
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
from shared.matching import actions, orgs
from shared.matching.state import RESULT_COLUMNS

# Admin routes read storage (503 when it is unreachable) and, for most, the documentation system: its own
# refusals keep their status (shared.errors.classify), with the JSON error body.
_STORAGE = (400, 404, 500, 503)
_DOCS = (*_STORAGE, 403, 409, 422, 429)
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
