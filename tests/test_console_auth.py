"""Console sign-in, roles and CSRF: the principal header is believed only with the platform's authentication on
(a forged one names nobody otherwise), reader looks and admin acts, every console route refuses nobody, every
console POST needs a token of the same person; the local runner's Easy Auth stand-in (dev sign-in) drops
client-sent principal headers, redirects pages and answers 401 to scripts, and the key-protected JSON routes keep
working with keys alone."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import httpx
import pytest

from devtools.dev_sign_in import COOKIE, principal_header
from shared.console import auth
from shared.console.auth import ADMIN, READER, Principal

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def platform_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("CONSOLE_CSRF_KEY", "test-key-" + uuid.uuid4().hex)


# -- the principal ------------------------------------------------------------------------------------------
def test_forged_principal_is_nobody_when_platform_authentication_is_off(monkeypatch):
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED", raising=False)
    forged = {"X-MS-CLIENT-PRINCIPAL": principal_header("Mallory", ADMIN)}
    assert auth.principal_from_headers(forged) is None
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "False")
    assert auth.principal_from_headers(forged) is None


def test_principal_from_the_platform_header(platform_auth):
    p = auth.principal_from_headers({"x-ms-client-principal": principal_header("Ada Admin", ADMIN)})
    assert p is not None and p.name == "Ada Admin" and p.role == ADMIN
    assert p.can(ADMIN) and p.can(READER)  # admin implies reader
    r = auth.principal_from_headers({"X-MS-CLIENT-PRINCIPAL": principal_header("Rita", READER)})
    assert r is not None and r.can(READER) and not r.can(ADMIN)
    assert r.user_id != p.user_id
    nobody = auth.principal_from_headers({"X-MS-CLIENT-PRINCIPAL": principal_header("Nora", "")})
    assert nobody is not None and not nobody.can(READER) and nobody.role == ""


def test_roles_under_the_platform_role_claim_type_and_unknown_roles(platform_auth):
    doc = {
        "auth_typ": "aad",
        "claims": [
            {"typ": auth.OBJECT_ID_CLAIM, "val": "oid-1"},
            {"typ": "name", "val": "Sam"},
            {"typ": auth.ROLE_CLAIM, "val": READER},
            {"typ": "roles", "val": "Global.Admin"},  # another app's role: not a console role
        ],
        "name_typ": auth.NAME_CLAIM,
        "role_typ": auth.ROLE_CLAIM,
    }
    header = base64.b64encode(json.dumps(doc).encode()).decode()
    p = auth.principal_from_headers({"X-MS-CLIENT-PRINCIPAL": header})
    assert p == Principal(user_id="oid-1", name="Sam", roles=frozenset({READER}))


@pytest.mark.parametrize("raw", ["not base64!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{").decode()])
def test_unreadable_principal_header_is_nobody(platform_auth, raw):
    assert auth.principal_from_headers({"X-MS-CLIENT-PRINCIPAL": raw}) is None


# -- CSRF ----------------------------------------------------------------------------------------------------
def test_csrf_token_is_bound_to_the_person_the_key_and_a_lifetime(platform_auth, monkeypatch):
    ada = Principal("oid-ada", "Ada", frozenset({ADMIN}))
    eve = Principal("oid-eve", "Eve", frozenset({ADMIN}))
    token = auth.csrf_token(ada, now=1_000_000)
    assert auth.csrf_ok(ada, token, now=1_000_010)
    assert not auth.csrf_ok(eve, token, now=1_000_010)  # someone else's page
    assert not auth.csrf_ok(ada, token, now=1_000_000 + auth.CSRF_TTL_S + 1)  # too old
    assert not auth.csrf_ok(ada, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], now=1_000_010)
    assert not auth.csrf_ok(ada, "", now=1_000_010) and not auth.csrf_ok(ada, None, now=1_000_010)
    # Another instance with the same key accepts it (no shared state); another key does not.
    assert auth.csrf_ok(ada, token, now=1_000_020)
    monkeypatch.setenv("CONSOLE_CSRF_KEY", "another-key")
    assert not auth.csrf_ok(ada, token, now=1_000_020)


# -- every console route, called as the host calls it -------------------------------------------------------
def _console_routes() -> list[tuple[str, list[str], object]]:
    import function_app

    function_app.app.functions_bindings = {}
    found = []
    for fn in function_app.app.get_functions():
        for binding in fn.get_bindings():
            data = binding.get_dict_repr()
            if data.get("type") == "httpTrigger" and (str(data["route"]) + "/").startswith("console/"):
                methods = [str(getattr(m, "value", m)).upper() for m in data.get("methods") or ["GET"]]
                found.append((str(data["route"]), methods, fn.get_user_function()))
    function_app.app.functions_bindings = {}
    return found


def _filled(route: str) -> tuple[str, dict[str, str]]:
    params = {name.lstrip("*").split(":")[0].rstrip("?"): "x1" for name in re.findall(r"\{([^}]+)\}", route)}
    return "/api/" + re.sub(r"\{[^}]+\}", "x1", route), params


def test_every_console_route_refuses_nobody_and_a_signed_in_person_without_a_role(platform_auth):
    routes = _console_routes()
    assert len(routes) >= 6
    for route, methods, handler in routes:
        url, params = _filled(route)
        for method in methods:
            # Nobody; then someone signed in whom the app registration gave no console role.
            for principal, status in ({}, 401), ({"X-MS-CLIENT-PRINCIPAL": principal_header("Nora", "")}, 403):
                headers = {"Accept": "application/json", **principal}
                req = func.HttpRequest(method, url, headers=headers, body=b"", route_params=params)
                resp = handler(req)
                assert resp.status_code == status, (route, method, resp.get_body())
                assert json.loads(resp.get_body())["error"], route


# -- over HTTP, in the local runner -------------------------------------------------------------------------
@pytest.fixture
def runner_url(storage_env, request) -> Iterator[str]:
    import function_app
    from devtools.azurite import free_port
    from devtools.runner import LocalRunner

    runner = LocalRunner(
        function_app.app,
        ROOT / "host.json",
        port=free_port(),
        function_key="fk-" + uuid.uuid4().hex,
        master_key="mk-test-console",
        enable_timers=False,
        enable_queues=False,
        dev_sign_in=getattr(request, "param", True),
    )
    runner.start()
    try:
        yield runner.base_url
    finally:
        runner.stop()


def _signed_in_client(base: str, role: str, name: str = "Pat") -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=10)
    resp = client.post(
        "/.auth/login/dev", data={"name": name, "role": role, "post_login_redirect_uri": "/api/console/review"}
    )
    assert resp.status_code == 302 and resp.headers["location"] == "/api/console/review"
    cookie = resp.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return client


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'"x-csrf-token": "([^"]+)"', page)
    assert found, page[:2000]
    return found.group(1)


@pytest.mark.parametrize("runner_url", [False], indirect=True)
def test_without_platform_authentication_a_forged_header_gets_nothing(runner_url, monkeypatch):
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED", raising=False)
    forged = {"X-MS-CLIENT-PRINCIPAL": principal_header("Mallory", ADMIN), "Accept": "application/json"}
    resp = httpx.get(f"{runner_url}/api/console/review", headers=forged)
    assert resp.status_code == 401 and "App Service Authentication is off" in resp.json()["error"]
    assert httpx.get(f"{runner_url}/.auth/login/dev").status_code == 404  # no dev sign-in outside its mode


def test_dev_sign_in_gate_pages_redirect_scripts_get_401(runner_url):
    page = httpx.get(f"{runner_url}/api/console/review?status=", headers={"Accept": "text/html"})
    assert page.status_code == 302
    assert page.headers["location"] == "/.auth/login/dev?post_login_redirect_uri=/api/console/review"
    api = httpx.get(f"{runner_url}/api/console/review", headers={"Accept": "application/json"})
    assert api.status_code == 401 and "sign in" in api.json()["error"]
    # A forged principal header does not get past the gate either: the runner drops it, as App Service does.
    forged = httpx.get(
        f"{runner_url}/api/console/review", headers={"X-MS-CLIENT-PRINCIPAL": principal_header("M", ADMIN)}
    )
    assert forged.status_code == 401


def test_forged_header_is_replaced_by_the_session_and_csrf_is_checked(runner_url):
    reader = _signed_in_client(runner_url, READER, "Rita")
    forged = {"X-MS-CLIENT-PRINCIPAL": principal_header("Mallory", ADMIN)}
    page = reader.get("/api/console/review?status=", headers=forged)
    assert page.status_code == 200 and "Rita" in page.text and "Mallory" not in page.text
    assert 'data-action="accept"' not in page.text  # no buttons for a reader
    token = _token(page.text)
    refused = reader.post("/api/console/review/sync", data={"csrf_token": token}, headers=forged)
    assert refused.status_code == 403 and "admin role" in refused.text  # the server refuses too

    admin = _signed_in_client(runner_url, ADMIN, "Ada")
    page = admin.get("/api/console/review?status=")
    assert "Start a manual sync of every tenant" in page.text
    assert admin.post("/api/console/review/sync").status_code == 403  # no token
    assert admin.post("/api/console/review/sync", data={"csrf_token": token}).status_code == 403  # Rita's token
    done = admin.post(
        "/api/console/review/sync", data={"csrf_token": _token(page.text), "back": "https://evil.example/"}
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/api/console/review?notice=sync+enqueued")
    htmx = admin.post("/api/console/review/sync", headers={"HX-Request": "true", "X-CSRF-Token": _token(page.text)})
    assert htmx.status_code == 200 and "sync enqueued" in htmx.text


def test_dev_session_cookie_cannot_be_forged_and_sign_in_is_no_open_redirect(runner_url):
    client = httpx.Client(base_url=runner_url, follow_redirects=False)
    resp = client.post(
        "/.auth/login/dev", data={"name": "Ada", "role": ADMIN, "post_login_redirect_uri": "//evil.example/x"}
    )
    assert resp.headers["location"] == "/api/console/"
    value = client.cookies[COOKIE]
    payload, _, mac = value.partition(".")
    promoted = base64.urlsafe_b64encode(json.dumps({"name": "Ada", "role": ADMIN}).encode()).decode()
    assert payload == promoted
    reader_payload = base64.urlsafe_b64encode(json.dumps({"name": "Eve", "role": ADMIN}).encode()).decode()
    fake = httpx.get(
        f"{runner_url}/api/console/review",
        headers={"Cookie": f"{COOKIE}={reader_payload}.{mac}", "Accept": "application/json"},
    )
    assert fake.status_code == 401
    me = client.get("/.auth/me").json()
    assert {"typ": "roles", "val": ADMIN} in me[0]["claims"]
    out = client.get("/.auth/logout")
    assert out.status_code == 302 and "Max-Age=0" in out.headers["set-cookie"]


def test_key_protected_json_routes_keep_working_with_keys_under_sign_in(runner_url):
    ok = httpx.get(f"{runner_url}/api/review/items", headers={"x-functions-key": "mk-test-console"})
    assert ok.status_code == 200 and isinstance(ok.json(), list)
    assert httpx.get(f"{runner_url}/api/review/items").status_code == 401  # the key is still needed
    assert httpx.get(f"{runner_url}/api/health").status_code in (200, 503)
