"""The local runner's stand-in for App Service Authentication (Easy Auth), used by `o365mon serve --dev-sign-in`,
the demo and the browser tests; never deployed.

As the platform does: client-sent `X-MS-CLIENT-PRINCIPAL*` headers are dropped (the runner does it for every
request), a signed-in person's request reaches the app with the `X-MS-CLIENT-PRINCIPAL` header built as the
platform builds it (base64 JSON: auth_typ, claims with `roles`, name_typ, role_typ), and a request without a
session to a path that is not excluded is redirected to the sign-in page (a page) or answered 401 (anything else).
`/.auth/login/dev` is the sign-in page (a name and a role), `/.auth/logout` ends the session, `/.auth/me` shows it.
The session is a cookie (HttpOnly, SameSite=Strict) signed with a key of this process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote

from shared.console import auth

COOKIE = "o365mon_dev_session"
LOGIN_PATH = "/.auth/login/dev"
LOGOUT_PATH = "/.auth/logout"
ME_PATH = "/.auth/me"
_NAMESPACE = uuid.UUID("5b0f6a53-6f2c-4b83-9c3e-0c5ad0a1d2e4")  # stable object ids for dev names


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def principal_document(name: str, role: str) -> dict:
    """The platform's principal for an Entra ID sign-in of `name` holding app role `role`."""
    oid = str(uuid.uuid5(_NAMESPACE, name.lower()))
    claims = [
        {"typ": auth.OBJECT_ID_CLAIM, "val": oid},
        {"typ": auth.NAME_CLAIM, "val": f"{name.lower().replace(' ', '.')}@dev.local"},
        {"typ": "name", "val": name},
        {"typ": "preferred_username", "val": f"{name.lower().replace(' ', '.')}@dev.local"},
    ]
    claims += [{"typ": "roles", "val": r} for r in ([role] if role else [])]
    return {"auth_typ": "aad", "claims": claims, "name_typ": auth.NAME_CLAIM, "role_typ": auth.ROLE_CLAIM}


def principal_header(name: str, role: str) -> str:
    return base64.b64encode(json.dumps(principal_document(name, role)).encode()).decode("ascii")


def _excluded(path: str) -> bool:
    lowered = path.rstrip("/").lower() or "/"
    for pattern in auth.KEY_PROTECTED_PATHS:
        if pattern.endswith("/*") and (lowered == pattern[:-2] or lowered.startswith(pattern[:-1])):
            return True
        if lowered == pattern:
            return True
    return False


def _safe_redirect(target: str) -> str:
    """Only paths of this app (no scheme, no `//host`): the sign-in page is no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/api/console/"


class DevSignIn:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    # -- the session cookie ------------------------------------------------------------------------------
    def _sign(self, payload: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()).decode()

    def session_cookie(self, name: str, role: str) -> str:
        payload = base64.urlsafe_b64encode(json.dumps({"name": name, "role": role}).encode()).decode()
        return f"{payload}.{self._sign(payload)}"

    def session(self, cookie_header: str | None) -> tuple[str, str] | None:
        """(name, role) of a valid session cookie, else None (absent, tampered, unreadable)."""
        if not cookie_header:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:  # a malformed Cookie header is no session
            return None
        morsel = jar.get(COOKIE)
        payload, _, mac = (morsel.value if morsel else "").partition(".")
        if not payload or not hmac.compare_digest(mac.encode(), self._sign(payload).encode()):
            return None
        doc = json.loads(base64.urlsafe_b64decode(payload))
        return str(doc["name"]), str(doc["role"])

    # -- per request -----------------------------------------------------------------------------------
    def principal_headers(self, cookie_header: str | None) -> dict[str, str]:
        """The headers the platform adds for the request's session ({} without one)."""
        found = self.session(cookie_header)
        if found is None:
            return {}
        name, role = found
        doc = principal_document(name, role)
        return {
            "x-ms-client-principal": principal_header(name, role),
            "x-ms-client-principal-id": doc["claims"][0]["val"],
            "x-ms-client-principal-name": doc["claims"][1]["val"],
            "x-ms-client-principal-idp": "aad",
        }

    def gate(self, method: str, path: str, headers: Mapping[str, str]) -> Answer | None:
        """Easy Auth's RedirectToLoginPage for a request without a session; None lets it through."""
        if _excluded(path) or self.session(headers.get("Cookie")) is not None:
            return None
        accept = headers.get("Accept") or ""
        is_page = method in ("GET", "HEAD") and "text/html" in accept and not headers.get("HX-Request")
        if is_page:
            return Answer(302, b"", [("Location", f"{LOGIN_PATH}?post_login_redirect_uri={quote(path, safe='/')}")])
        body = json.dumps({"error": f"sign in first ({LOGIN_PATH})"}).encode()
        return Answer(401, body, [("Content-Type", "application/json; charset=utf-8")])

    def handle(self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]) -> Answer | None:
        """The /.auth/* endpoints; None for any other path."""
        lowered = path.rstrip("/").lower()
        if lowered == LOGIN_PATH:
            if method == "POST":
                return self._sign_in(dict(parse_qsl(body.decode("utf-8", "replace"))))
            target = dict(parse_qsl(query)).get("post_login_redirect_uri", "/api/console/")
            return Answer(200, _login_page(_safe_redirect(target)), [("Content-Type", "text/html; charset=utf-8")])
        if lowered == LOGOUT_PATH:
            target = _safe_redirect(dict(parse_qsl(query)).get("post_logout_redirect_uri", LOGIN_PATH))
            return Answer(302, b"", [("Location", target), ("Set-Cookie", self._cookie("", max_age=0))])
        if lowered == ME_PATH:
            found = self.session(headers.get("Cookie"))
            doc = [] if found is None else [{"provider_name": "aad", **principal_document(*found)}]
            return Answer(200, json.dumps(doc).encode(), [("Content-Type", "application/json; charset=utf-8")])
        return None

    def _sign_in(self, form: dict[str, str]) -> Answer:
        name = " ".join(form.get("name", "").split())[:64]
        role = form.get("role", "")
        if not name or role not in (*auth.ROLES, "none"):
            page = _login_page(_safe_redirect(form.get("post_login_redirect_uri", "/")), "Give a name and a role.")
            return Answer(400, page, [("Content-Type", "text/html; charset=utf-8")])
        target = _safe_redirect(form.get("post_login_redirect_uri", "/api/console/"))
        cookie = self._cookie(self.session_cookie(name, "" if role == "none" else role))
        return Answer(302, b"", [("Location", target), ("Set-Cookie", cookie)])

    @staticmethod
    def _cookie(value: str, max_age: int | None = None) -> str:
        # Not Secure: the runner serves plain HTTP on loopback (in Azure the platform's cookies are Secure).
        extra = f"; Max-Age={max_age}" if max_age is not None else ""
        return f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{extra}"


def _login_page(target: str, error: str = "") -> bytes:
    esc = html.escape
    alert = f'<p role="alert" class="message">{esc(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev sign-in · o365mon</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;font-weight:600;margin:.75rem 0 .25rem}}input[type=text]{{font:inherit;width:100%;padding:.4rem}}
fieldset{{margin:.75rem 0;border:1px solid #d0d7de}}button{{font:inherit;padding:.4rem 1rem;margin-top:1rem}}
:focus-visible{{outline:3px solid #f4a100;outline-offset:2px}}
.message{{border-left:4px solid #cf222e;padding:.5rem}}</style>
</head><body><main>
<h1>Dev sign-in</h1>
<p>The local runner's stand-in for Entra ID sign-in (App Service Authentication). Only in the runner.</p>
{alert}
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="post_login_redirect_uri" value="{esc(target)}">
<label for="name">Name</label><input type="text" id="name" name="name" required autofocus value="Dev User">
<fieldset><legend>App role</legend>
<label><input type="radio" name="role" value="reader" checked> reader (look)</label>
<label><input type="radio" name="role" value="admin"> admin (review actions, manual sync, imports)</label>
<label><input type="radio" name="role" value="none"> none (signed in without a console role)</label>
</fieldset>
<button type="submit" id="sign-in">Sign in</button>
</form></main></body></html>""".encode()
