"""Who is signed in to the console, and the CSRF token of their forms.

People sign in through App Service Authentication (Easy Auth, Entra ID): the platform validates the session and
hands the app the person as the `X-MS-CLIENT-PRINCIPAL` header (base64 JSON), stripping any such header a client
sent. That header is therefore believed only when the platform's authentication is on, which App Service announces
with `WEBSITE_AUTH_ENABLED=True` (the local runner sets it only while its dev sign-in emulates Easy Auth): on a
deployment without Easy Auth a forged header names nobody.

CSRF: every console POST carries `issued.mac`, an HMAC-SHA256 over (issue time, the person's id) with
`CONSOLE_CSRF_KEY`, the same Key Vault secret on every Flex instance. Nothing is stored, so any instance checks a
token another one issued, and a token taken from one person's page is worthless for another person.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from shared import settings
from shared.settings import Setting

READER = "reader"
ADMIN = "admin"  # implies reader
ROLES = (READER, ADMIN)

PRINCIPAL_HEADER = "x-ms-client-principal"
PLATFORM_AUTH_SETTING = "WEBSITE_AUTH_ENABLED"
CSRF_KEY_SETTING = "CONSOLE_CSRF_KEY"
CSRF_HEADER = "x-csrf-token"  # sent by htmx (hx-headers on <body>)
CSRF_FIELD = "csrf_token"  # hidden field of plain forms
CSRF_TTL_S = 12 * 3600  # a page left open longer asks for a reload before acting

# Paths App Service Authentication lets through without a signed-in person: machines call them with function keys
# (pollers, scripts). infra/app/api.bicep excludes exactly these (tests/test_infra.py), the local runner too.
KEY_PROTECTED_PATHS = ("/api/health", "/api/checks/*", "/api/review/*", "/api/sync/*", "/api/docs/*")

# Claim types of the principal (the platform's names for Entra ID sign-ins).
OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
NAME_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"

settings.SETTINGS[PLATFORM_AUTH_SETTING] = Setting(
    "Set by App Service to True when its authentication (Easy Auth) is on; only then is the signed-in person's "
    "header believed (the local runner sets it with its dev sign-in)"
)
settings.SETTINGS[CSRF_KEY_SETTING] = Setting(
    "Key of the console's CSRF tokens, the same on every instance (a Key Vault reference in Azure; unset: a "
    "random key per process)"
)

log = logging.getLogger(__name__)
_process_key: bytes | None = None


@dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    roles: frozenset[str]

    def can(self, role: str) -> bool:
        return role in self.roles or (role == READER and ADMIN in self.roles)

    @property
    def role(self) -> str:
        """The strongest console role held ('' for none), as the pages show it."""
        return ADMIN if ADMIN in self.roles else READER if READER in self.roles else ""


def platform_auth_on() -> bool:
    return settings.get(PLATFORM_AUTH_SETTING).lower() == "true"


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict (tests, scripts): headers are case-insensitive
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return str(value or "")


def principal_from_headers(headers: Mapping[str, str]) -> Principal | None:
    """The signed-in person of a request, or None (nobody, platform authentication off, or an unreadable header)."""
    if not platform_auth_on():
        return None
    raw = _header(headers, PRINCIPAL_HEADER).strip()
    if not raw:
        return None
    try:
        doc = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True))
    except (binascii.Error, ValueError):
        log.warning("unreadable %s header ignored", PRINCIPAL_HEADER)
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        return None
    name_typ = str(doc.get("name_typ") or NAME_CLAIM)
    role_typ = str(doc.get("role_typ") or ROLE_CLAIM)
    claims: dict[str, list[str]] = {}
    for claim in doc["claims"]:
        if isinstance(claim, dict) and isinstance(claim.get("typ"), str) and isinstance(claim.get("val"), str):
            claims.setdefault(claim["typ"], []).append(claim["val"])

    def first(*types: str) -> str:
        return next((claims[t][0] for t in types if claims.get(t)), "")

    user_id = first(OBJECT_ID_CLAIM, "oid", "sub", name_typ)
    if not user_id:
        return None
    # Entra ID app roles arrive as `roles` claims; the platform may also map them to its role claim type.
    roles = frozenset(r for t in {role_typ, "roles"} for r in claims.get(t, []) if r in ROLES)
    return Principal(user_id=user_id, name=first("name", name_typ, "preferred_username") or user_id, roles=roles)


def _csrf_key() -> bytes:
    global _process_key
    configured = settings.get(CSRF_KEY_SETTING)
    # An unresolved Key Vault reference (the secret not set yet) arrives as its own text, which is no secret.
    if configured and not configured.startswith("@Microsoft.KeyVault("):
        return configured.encode("utf-8")
    if _process_key is None:
        _process_key = secrets.token_bytes(32)
        if platform_auth_on() and os.environ.get("WEBSITE_INSTANCE_ID"):
            log.warning("%s is not set: console forms work only on the instance that served them", CSRF_KEY_SETTING)
    return _process_key


def _mac(issued: int, principal: Principal) -> str:
    digest = hmac.new(_csrf_key(), f"{issued}|{principal.user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def csrf_token(principal: Principal, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_mac(issued, principal)}"


def csrf_ok(principal: Principal, token: str | None, *, now: float | None = None) -> bool:
    """True for a token issued to this person within CSRF_TTL_S (by any instance sharing the key)."""
    issued_text, _, mac = (token or "").partition(".")
    if not issued_text.isdigit() or not mac:
        return False
    issued = int(issued_text)
    age = (time.time() if now is None else now) - issued
    if not -60 <= age <= CSRF_TTL_S:  # a minute of clock skew between instances
        return False
    return hmac.compare_digest(mac.encode(), _mac(issued, principal).encode())
