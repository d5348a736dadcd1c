"""The OpenAPI 3.1 description of the function app's HTTP routes (served at `GET /api/openapi.json`).

Each route is one `Operation` in a registry, declared next to what it describes: shared/api/routes.py holds
the admin, health and description routes, shared/api/checks.py generates the check routes from the mode specs,
and a blueprint module may add its own with `describe(...)` at import (function_app imports every blueprint
before the first request). `build()` turns the registry into the document; tests/test_openapi.py fails on any
route registered in function_app that the registry does not describe, and on any response of the test suite
that does not validate against it.

Security follows the routes' auth levels: `function` takes the function key or the master key (header
`x-functions-key` or query `code`), `admin` only the master key, `anonymous` nothing (the health probe only),
and console routes an App Service Authentication (Easy Auth) session with an app role.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ROUTE_PREFIX = "/api"  # host.json extensions.http.routePrefix (default)

FUNCTION, ADMIN, ANONYMOUS, SIGNED_IN = "function", "admin", "anonymous", "signed-in"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "functionKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-functions-key",
        "description": "A function key of the app (the master key is accepted too).",
    },
    "functionKeyQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "code",
        "description": "A function key as `?code=` (for pollers that cannot send headers).",
    },
    "adminKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-functions-key",
        "description": "The master (admin) key of the app; a function key is refused.",
    },
    "adminKeyQuery": {"type": "apiKey", "in": "query", "name": "code", "description": "The master key as `?code=`."},
    "easyAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": "AppServiceAuthSession",
        "description": (
            "An App Service Authentication (Easy Auth) session with Entra ID: sign in at `/.auth/login/aad`. The "
            "platform passes the signed-in person as `X-MS-CLIENT-PRINCIPAL`; the route checks the app role "
            "(`x-required-role`: reader or admin, admin implies reader)."
        ),
    },
}
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    FUNCTION: [{"functionKey": []}, {"functionKeyQuery": []}, {"adminKey": []}, {"adminKeyQuery": []}],
    ADMIN: [{"adminKey": []}, {"adminKeyQuery": []}],
    ANONYMOUS: [],
    SIGNED_IN: [{"easyAuth": []}],
}

# What each kind of route answers on failure (functions/http_errors.py): a check an UNKNOWN text (or its JSON
# form), an admin route `{"error": ...}`. A missing or wrong key is refused by the Functions host itself, with
# an empty 401, before the route runs.
CHECK_ERRORS, JSON_ERRORS = "check", "json"
ERROR_TEXT = {
    400: "Bad request: a parameter, option or body is wrong; the body says which and what is expected.",
    401: "No key, or a wrong one (answered by the Functions host, empty body).",
    403: "Refused: the signed-in person lacks the role.",
    404: "Not found: unknown tenant, plugin, mode, action, organization, contact or user; the body names it.",
    422: "The change cannot be applied; the body says why.",
    500: "Unexpected error: the body gives its type; the function log has the details.",
    502: "IT Glue refused o365mon's request (its API key, or a record it rejects); the body gives IT Glue's answer.",
    503: "Storage unreachable (within ~4 s on check routes), or IT Glue unreachable or still throttling after a few"
    " attempts (within ~20 s per call): the body says which and why.",
}


@dataclass(frozen=True)
class Operation:
    """One method of one route. `route` is the template as registered on the blueprint (no `api/` prefix);
    `path` documents it under another path (the per-mode check paths); `errors` are the failure statuses the
    route answers with its kind's error body (`error_kind`); `responses` the other ones."""

    method: str
    route: str
    auth: str
    summary: str
    tag: str
    operation_id: str
    responses: Mapping[int, dict[str, Any]]
    description: str = ""
    parameters: tuple[dict[str, Any], ...] = ()
    request_body: dict[str, Any] | None = None
    errors: tuple[int, ...] = ()
    error_kind: str = JSON_ERRORS
    role: str = ""  # SIGNED_IN routes: the app role they need
    path: str = ""

    @property
    def documented_path(self) -> str:
        return self.path or f"{ROUTE_PREFIX}/{self.route.strip('/')}"


_REGISTRY: list[Operation] = []


def describe(*operations: Operation) -> None:
    """Add operations to the description (a route module calls this at import, next to its routes)."""
    _REGISTRY.extend(operations)


def operations() -> list[Operation]:
    """Every described operation: the check routes, the built-in entries and whatever route modules added."""
    from shared.api import checks, routes

    found = [*checks.operations(), *routes.OPERATIONS, *_REGISTRY]
    seen: set[tuple[str, str]] = set()
    for op in found:
        key = (op.method, op.documented_path)
        if key in seen:
            raise ValueError(f"{op.method} {op.documented_path} is described twice")
        seen.add(key)
    return found


# --------------------------------------------------------------------------------------------- helpers
def query(name: str, schema: dict[str, Any], description: str, *, required: bool = False) -> dict[str, Any]:
    # Every route reads `?name=` as absent (a flag: as on), so empty values are part of the contract.
    return {
        "name": name,
        "in": "query",
        "required": required,
        "allowEmptyValue": True,
        "schema": schema,
        "description": description,
    }


def path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = schema or {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def obj(properties: Mapping[str, dict[str, Any]], *, required: Iterable[str] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless `required` says otherwise (the routes always
    answer every field), other properties are allowed (a new field is not a breaking change)."""
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties) if required is None else list(required),
    }


STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
STRINGS: dict[str, Any] = {"type": "array", "items": STRING}

EXIT_CODE_HEADER = "X-Nagios-Exit-Code"
_NAGIOS_STATES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"]

COMPONENT_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": obj({"error": {"type": "string", "minLength": 1, "description": "Why the request failed."}}),
    "Perfdata": obj(
        {
            "label": STRING,
            "value": {"type": "number"},
            "unit": STRING,
            "warning": STRING,
            "critical": STRING,
            "min": STRING,
            "max": STRING,
        }
    ),
    "CheckResult": obj(
        {
            "status": {"enum": _NAGIOS_STATES},
            "exit_code": {"type": "integer", "minimum": 0, "maximum": 3},
            "output": {"type": "string", "description": "The first line without perfdata."},
            "long_output": {**STRINGS, "description": "The --verbose lines."},
            "perfdata": {"type": "array", "items": ref("Perfdata")},
        }
    ),
    "CheckUnknown": {
        "allOf": [
            ref("CheckResult"),
            obj(
                {"status": {"const": "UNKNOWN"}, "exit_code": {"const": 3}, "output": {"pattern": "^UNKNOWN: "}},
                required=(),
            ),
        ]
    },
}


def _exit_code_header(codes: list[str]) -> dict[str, Any]:
    return {
        EXIT_CODE_HEADER: {
            "description": "The plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            "required": True,
            "schema": {"type": "string", "enum": codes},
        }
    }


def check_response(description: str, *, unknown_only: bool) -> dict[str, Any]:
    """A check's answer: the plugin output as text/plain, or its JSON form with `Accept: application/json`;
    the exit code in the X-Nagios-Exit-Code header whatever the HTTP status."""
    text: dict[str, Any] = {"type": "string", "minLength": 1}
    if unknown_only:
        text = {**text, "pattern": "^UNKNOWN: "}
    return {
        "description": description,
        "headers": _exit_code_header(["3"] if unknown_only else ["0", "1", "2", "3"]),
        "content": {
            "text/plain": {
                "schema": text,
                "example": "OK: Active users on 2024-01-15 : 2/3 (66.67%) | 'active_users'=2users;;;0;3\n",
            },
            "application/json": {"schema": ref("CheckUnknown" if unknown_only else "CheckResult")},
        },
    }


def _error_response(status: int, kind: str) -> dict[str, Any]:
    if status == 401:
        return {"description": ERROR_TEXT[401]}
    if kind == CHECK_ERRORS:
        return check_response(ERROR_TEXT.get(status, "Failure"), unknown_only=True)
    return json_body(ERROR_TEXT.get(status, "Failure"), ref("Error"))


# --------------------------------------------------------------------------------------------- build
_ROUTE_PARAM = re.compile(r"\{([^{}:*]+)(?::[^{}]*)?\}")


def _operation_object(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {str(code): body for code, body in sorted(op.responses.items())}
    statuses = set(op.errors)
    if op.auth != ANONYMOUS:
        statuses.add(401)
    for status in sorted(statuses):
        responses.setdefault(str(status), _error_response(status, op.error_kind))
    params = list(op.parameters)
    if not op.path:  # path parameters from the route template, unless the entry describes them itself
        given = {p["name"] for p in params if p["in"] == "path"}
        for name in _ROUTE_PARAM.findall(op.route):
            if name not in given:
                params.append(path_param(name, name.replace("_", " ")))
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": _SECURITY[op.auth],
        "responses": responses,
    }
    if op.description:
        out["description"] = op.description
    if params:
        out["parameters"] = params
    if op.request_body is not None:
        out["requestBody"] = op.request_body
    if op.role:
        out["x-required-role"] = op.role
    out["x-azure-route"] = op.route
    # The Functions host's level: a signed-in route is anonymous to the host (App Service Authentication and the
    # route's role check stand in front of it).
    out["x-auth-level"] = ANONYMOUS if op.auth == SIGNED_IN else op.auth
    return out


def build(extra_schemas: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described route."""
    from shared.api import routes

    paths: dict[str, dict[str, Any]] = {}
    described = operations()
    for op in described:
        paths.setdefault(op.documented_path, {})[op.method.lower()] = _operation_object(op)
    schemas = {**COMPONENT_SCHEMAS, **routes.SCHEMAS, **(extra_schemas or {})}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "o365mon",
            "version": _version(),
            "summary": "Nagios checks of Microsoft 365 from stored Graph data, and the contact-sync admin API.",
            "description": (
                "Check routes answer Centreon's `cloud::microsoft::office365` plugin output (`text/plain`) with the "
                "exit code in the `X-Nagios-Exit-Code` header; one path per plugin and mode lists that mode's "
                "options, `/api/checks/{plugin}/{mode}` takes Centreon's full plugin names too. Admin routes need "
                'the master key and answer JSON, failures as `{"error": ...}`. Generated from the mode specs and '
                "the route registry (shared/api/)."
            ),
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/", "description": "The function app (https://<app>.azurewebsites.net)"}],
        "tags": [{"name": name} for name in sorted({op.tag for op in described})],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": schemas},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("o365mon")
    except PackageNotFoundError:  # deployed without installing the package metadata
        return "0"


@functools.cache
def document_text() -> str:
    """The description as JSON text, built once per process (it only changes with the code)."""
    return json.dumps(build(), ensure_ascii=False, indent=1)
