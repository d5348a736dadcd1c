"""The OpenAPI description: it covers every HTTP route of function_app, its check options are the ones the option
parser takes, it is served at /api/openapi.json behind a function key, and the exchange validator that checks
every exchange of the suite (tests/conftest.py) catches answers outside it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import azure.functions as func
import pytest
from openapi_spec_validator import validate

import function_app
from devtools.runner import Exchange, discover
from shared.api.openapi import ROUTE_PREFIX, build
from shared.checks.modes import MODES
from shared.checks.options import parse_options
from shared.checks.result import CheckError
from tests.support import FUNCTION_KEY, MASTER_KEY
from tests.support.openapi_validation import ExchangeValidator

DOCUMENT = build()


def undescribed_routes(app: func.FunctionApp, document: dict) -> list[str]:
    """'METHOD /api/route' of every HTTP function of `app` that the document does not describe, or describes
    with another auth level."""
    missing = []
    for info in discover(app):
        if info.trigger_type != "httpTrigger":
            continue
        path = f"{ROUTE_PREFIX}/{str(info.settings.get('route') or info.name).strip('/')}".replace("{*", "{")
        level = str(info.settings.get("authLevel") or "function").lower()
        for method in info.settings.get("methods") or ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]:
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is None:
                missing.append(f"{method} {path}")
            elif operation["x-auth-level"] != level:
                missing.append(f"{method} {path} (described as {operation['x-auth-level']}, registered {level})")
    return missing


def test_every_route_of_the_function_app_is_described() -> None:
    assert undescribed_routes(function_app.app, DOCUMENT) == []


def test_a_route_without_a_description_is_named() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    bp = func.Blueprint()

    @bp.route(route="health", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
    def health(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("OK")

    @bp.route(route="console/data/forecast", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def forecast(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("{}")

    @bp.route(route="sync/logs", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
    def weaker_logs(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("[]")

    app.register_functions(bp)
    assert undescribed_routes(app, DOCUMENT) == [
        "GET /api/console/data/forecast",
        "GET /api/sync/logs (described as admin, registered function)",
    ]


def test_the_description_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)
    assert json.loads(json.dumps(DOCUMENT)) == DOCUMENT  # plain JSON, nothing else


def test_health_is_the_only_route_without_a_key() -> None:
    anonymous = [
        f"{method.upper()} {path}"
        for path, item in DOCUMENT["paths"].items()
        for method, op in item.items()
        if not op["security"]
    ]
    assert anonymous == ["GET /api/health", "HEAD /api/health"]
    admin = DOCUMENT["paths"]["/api/sync/logs"]["get"]["security"]
    assert admin == [{"adminKey": []}, {"adminKeyQuery": []}]
    assert {"functionKey": []} in DOCUMENT["paths"]["/api/checks/exchange/email-activity"]["get"]["security"]
    assert DOCUMENT["components"]["securitySchemes"]["easyAuth"]["in"] == "cookie"


def _query_names(path: str) -> set[str]:
    return {p["name"] for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["in"] == "query"}


def test_each_mode_has_its_path_with_the_options_of_its_counters() -> None:
    for plugin, mode in MODES:
        assert f"/api/checks/{plugin}/{mode}" in DOCUMENT["paths"]
    names = _query_names("/api/checks/exchange/email-activity")
    assert {"tenant", "warning-active-users", "critical-total-send-count", "filter-user", "units", "verbose"} <= names
    # with --use-new-perfdata the nlabel forms, 'instance-' for per-user counters
    assert {
        "warning-exchange-users-emails-sent-total-count",
        "warning-instance-exchange-users-emails-sent-count",
    } <= names
    status = next(
        p for p in DOCUMENT["paths"]["/api/checks/management/service-status"]["get"]["parameters"]
        if p["name"] == "critical-status"
    )  # fmt: skip
    assert "%{status}" in status["description"] and "serviceOperational" in status["description"]


@pytest.mark.parametrize(("plugin", "mode"), sorted(MODES))
def test_every_described_option_is_one_the_option_parser_takes(plugin: str, mode: str) -> None:
    spec = MODES[(plugin, mode)]
    params = DOCUMENT["paths"][f"/api/checks/{plugin}/{mode}"]["get"]["parameters"]
    for param in params:
        if param["name"] == "tenant":
            continue
        schema = param["schema"]
        value = str(schema["enum"][-1]) if "enum" in schema else "2" if schema.get("type") == "integer" else ""
        options = {param["name"]: value}
        if "only with use-new-perfdata" in param["description"]:
            options["use-new-perfdata"] = "1"
        parse_options(spec, options)  # a name the parser does not take raises
    with pytest.raises(CheckError, match="Unknown option"):
        parse_options(spec, {"warning-not-a-counter": "1"})


def test_the_description_is_served_with_a_function_key(served_app) -> None:
    base, _ = served_app
    for key in (FUNCTION_KEY, MASTER_KEY):
        req = urllib.request.Request(f"{base}/api/openapi.json", headers={"x-functions-key": key})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/json")
            assert json.loads(resp.read()) == DOCUMENT
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/api/openapi.json", timeout=10)
    assert refused.value.code == 401


# --- the validator behind the suite-wide check --------------------------------------------------------------
VALIDATOR = ExchangeValidator(DOCUMENT)
CHECK = "/api/checks/exchange/email-activity?tenant=contoso.com"
KEY = {"x-functions-key": FUNCTION_KEY}
TEXT = [("Content-Type", "text/plain; charset=utf-8")]
JSON = [("Content-Type", "application/json; charset=utf-8")]


def _exchange(
    target: str,
    status: int,
    body: bytes,
    headers: list[tuple[str, str]],
    *,
    method: str = "GET",
    sent: dict | None = None,
) -> Exchange:
    route = "checks/{plugin}/{mode}" if target.startswith("/api/checks") else target.split("?")[0][5:]
    return Exchange(route, method, target, KEY if sent is None else sent, b"", status, headers, body)


def test_conforming_exchanges_pass() -> None:
    ok = _exchange(CHECK, 200, b"OK: Active users on 2024-01-15 : 2/3 (66.67%)\n", [*TEXT, ("X-Nagios-Exit-Code", "0")])
    assert VALIDATOR.mismatches(ok) == []
    # a malformed request on purpose (no tenant), refused as documented
    unknown = [*TEXT, ("X-Nagios-Exit-Code", "3")]
    no_tenant = _exchange(CHECK.split("?")[0], 400, b"UNKNOWN: Need to specify --tenant option. \n", unknown)
    assert VALIDATOR.mismatches(no_tenant) == []
    no_key = _exchange("/api/sync/logs?tenant=x", 401, b"", [], sent={})
    assert VALIDATOR.mismatches(no_key) == []
    admin_error = _exchange("/api/sync/logs?tenant=x&limit=0", 400, b'{"error": "limit must be ..."}', JSON)
    assert VALIDATOR.mismatches(admin_error) == []


@pytest.mark.parametrize(
    ("exchange", "expected"),
    [
        (_exchange(CHECK, 200, b"OK: fine\n", TEXT), "X-Nagios-Exit-Code"),  # the exit code header is missing
        (_exchange(CHECK, 418, b"UNKNOWN: x \n", [*TEXT, ("X-Nagios-Exit-Code", "3")]), "418"),  # undocumented status
        (_exchange(CHECK, 400, b"CRITICAL: x \n", [*TEXT, ("X-Nagios-Exit-Code", "3")]), "UNKNOWN"),  # not an UNKNOWN
        (_exchange("/api/sync/logs?tenant=x", 500, b"", []), "500"),  # a 500 without a body
        (_exchange("/api/sync/logs?tenant=x", 200, b'{"logs": []}', JSON), "array"),  # not the documented body
        (_exchange("/api/sync/logs?limit=5", 200, b"[]", JSON), "tenant"),  # a request outside, accepted
        (_exchange("/api/not-a-route", 200, b"", TEXT), "not-a-route"),  # a route the description lacks
    ],
)
def test_non_conforming_exchanges_are_named(exchange: Exchange, expected: str) -> None:
    found = VALIDATOR.mismatches(exchange)
    assert found, "the validator let a non-conforming exchange through"
    text = str(found[0])
    assert text.startswith(f"{exchange.method} {exchange.target.split('?')[0]} -> {exchange.status}: ")
    assert expected in text


def test_a_mismatch_fails_the_whole_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test whose exchange with the app is outside the description fails the run, though its asserts pass."""
    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("PYTHONPATH", str(root))
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(
        test_inner=f"""
import urllib.error, urllib.request
import function_app
from devtools.azurite import free_port
from devtools.runner import LocalRunner
from shared.checks.result import CheckResult

def test_answers_an_undocumented_status(monkeypatch):
    monkeypatch.setattr("functions.checks.answer", lambda *a: (CheckResult("OK", 0, "OK: teapot "), 418))
    port = free_port()
    with LocalRunner(function_app.app, port=port, function_key="{FUNCTION_KEY}", master_key="{MASTER_KEY}"):
        req = urllib.request.Request(
            f"http://127.0.0.1:{{port}}/api/checks/exchange/email-activity?tenant=x",
            headers={{"x-functions-key": "{FUNCTION_KEY}"}},
        )
        try:
            urllib.request.urlopen(req, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 418
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*exchanges outside the OpenAPI description*", "*GET /api/checks/exchange/email-activity -> 418*"]
    )
