"""The login family: Entra ID's token endpoint and OpenID metadata, with its AADSTS errors."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from jwt.utils import base64url_decode

from . import certs
from .faults import Fault
from .tenants import SampleTenant
from .wire import Grant, Reply, json_reply

TOKEN_LIFETIME = 3599
# What a fully consented o365mon app holds (README's app registration, plus GDAP discovery in a partner tenant).
DEFAULT_ROLES = frozenset(
    {
        "Reports.Read.All", "ServiceHealth.Read.All", "Organization.Read.All", "Application.Read.All",
        "ReportSettings.Read.All", "User.Read.All", "DelegatedAdminRelationship.Read.All",
    }
)  # fmt: skip
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class AppCredential:
    """An app registration: what the token endpoint accepts for one client id."""

    secret: str | None = None
    thumbprint: str | None = None  # SHA-1 hex of a registered certificate (certs.make_client_certificate)
    certificate_pem: bytes | None = None  # optional: when given, the assertion signature is verified too
    tenants: frozenset[str] | None = None  # tenant ids where the app is consented; None: every tenant

    def __post_init__(self) -> None:
        if self.certificate_pem and not self.thumbprint:
            cert = x509.load_pem_x509_certificate(self.certificate_pem)
            object.__setattr__(self, "thumbprint", certs.certificate_thumbprint(cert))
        if self.thumbprint:
            object.__setattr__(self, "thumbprint", self.thumbprint.replace(":", "").upper())

    def __repr__(self) -> str:
        # Keep the secret out of reprs that may end up in logs or test output.
        return f"AppCredential(secret={'***' if self.secret else None}, thumbprint={self.thumbprint!r})"


def _aad_timestamp(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%SZ")


class LoginEndpoints:
    """GraphSimulator's login routes (a mixin: the state lives on GraphSimulator)."""

    def _aad_error(self, status: int, error: str, code: int, message: str, headers: Any) -> Reply:
        now = dt.datetime.now(dt.UTC)
        trace_id = str(uuid.uuid4())
        correlation_id = headers.get("client-request-id") or str(uuid.uuid4())
        stamp = _aad_timestamp(now)
        return json_reply(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\n"
                f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}",
                "error_codes": [code],
                "timestamp": stamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
        )

    def _unknown_tenant(self, segment: str, headers: Any) -> Reply:
        return self._aad_error(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing "
            "into the correct cloud. Check with your subscription administrator, this may happen if there are "
            "no active subscriptions for the tenant.",
            headers,
        )

    def _handle_login(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return Reply(404, b"Not Found", "text/plain")
        tenant = self.tenant(parts[0])
        rest = "/".join(parts[1:])
        if rest == "v2.0/.well-known/openid-configuration" and method == "GET":
            if tenant is None:
                return self._unknown_tenant(parts[0], headers)
            return json_reply(200, self._openid_configuration(tenant))
        if rest == "discovery/v2.0/keys" and method == "GET":
            return json_reply(200, {"keys": []})
        if rest == "oauth2/v2.0/token" and method == "POST":
            if tenant is None:
                return self._unknown_tenant(parts[0], headers)
            fault = self._faults.take(paths=(path,), tenant_keys=self._tenant_keys(tenant), download=False, login=True)
            if fault is not None:
                return self._login_fault(fault, tenant, body, headers)
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
            return self._token(tenant, form, headers)
        return Reply(404, b"Not Found", "text/plain")

    def _login_fault(self, fault: Fault, tenant: SampleTenant, body: bytes, headers: Any) -> Reply:
        form = parse_qs(body.decode("utf-8", "replace"))
        client_id = (form.get("client_id") or [""])[0]
        if fault.kind == "no_service_principal":
            # The app was never consented to in this tenant, so it has no service principal there.
            return self._aad_error(
                400,
                "invalid_client",
                7000229,
                f"The client application {client_id} is missing service principal in the tenant {tenant.tenant_id}. "
                "See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
                headers,
            )
        return self._aad_error(
            400,
            "invalid_grant",
            65001,
            f"The user or administrator has not consented to use the application with ID '{client_id}' named "
            "'o365mon'. Send an interactive authorization request for this user and resource.",
            headers,
        )

    def _openid_configuration(self, tenant: SampleTenant) -> dict[str, object]:
        base = f"{self.login_endpoint}/{tenant.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }

    def _token(self, tenant: SampleTenant, form: dict[str, str], headers: Any) -> Reply:
        client_id = form.get("client_id", "")
        if not client_id:
            return self._aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
                headers,
            )
        grant_type = form.get("grant_type", "")
        if grant_type != "client_credentials":
            return self._aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
                headers,
            )
        app = self.apps.get(client_id)
        if app is None or (app.tenants is not None and tenant.tenant_id not in app.tenants):
            return self._aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.display_name}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                "your authentication request to the wrong tenant.",
                headers,
            )
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if not secret and not assertion:
            return self._aad_error(
                400,
                "invalid_request",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                headers,
            )
        if secret:
            if app.secret is None or not secrets.compare_digest(secret.encode(), app.secret.encode()):
                return self._aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                    headers,
                )
        else:
            problem = self._assertion_problem(
                tenant, client_id, app, form.get("client_assertion_type", ""), assertion or ""
            )
            if problem is not None:
                code, message = problem
                return self._aad_error(401, "invalid_client", code, message, headers)
        scopes = [s for s in form.get("scope", "").split() if s not in _RESERVED_SCOPES]
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope', '')} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier (application ID "
                "URI).",
                headers,
            )
        now = time.time()
        resource = scopes[0][: -len("/.default")]
        roles = self.roles(tenant.tenant_id)
        token = self._access_token(tenant, client_id, resource, roles, now, cert=not secret)
        with self._lock:
            for key in [k for k, g in self._grants.items() if g.expires_at < now]:
                del self._grants[key]
            self._grants[token] = Grant(tenant.tenant_id, client_id, resource, now + TOKEN_LIFETIME, roles)
        return json_reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )

    def _access_token(
        self, tenant: SampleTenant, client_id: str, resource: str, roles: frozenset[str], now: float, *, cert: bool
    ) -> str:
        """An app-only v1.0 access token shaped as Entra ID issues them for Graph (RS256 JWT; `roles` lists the
        application permissions granted in the tenant and is absent when there are none). Signed with a key of
        this simulator's own: only the simulator's Graph checks it, by lookup."""
        issuer = f"https://sts.windows.net/{tenant.tenant_id}/"
        service_principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant.tenant_id}/{client_id}"))
        claims: dict[str, object] = {
            "aud": resource, "iss": issuer, "iat": int(now), "nbf": int(now), "exp": int(now) + TOKEN_LIFETIME,
            "aio": secrets.token_urlsafe(24), "app_displayname": "o365mon", "appid": client_id,
            "appidacr": "2" if cert else "1", "idp": issuer, "idtyp": "app", "oid": service_principal,
            "rh": secrets.token_urlsafe(12), "sub": service_principal, "tid": tenant.tenant_id,
            "uti": secrets.token_urlsafe(16), "ver": "1.0",
        }  # fmt: skip
        if roles:
            claims["roles"] = sorted(roles)
        key, kid = self._token_signing_key()
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "x5t": kid})

    def _token_signing_key(self) -> tuple[Any, str]:
        with self._lock:
            if getattr(self, "_signing_key", None) is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._signing_key, "o365mon-simulator"

    def _assertion_problem(
        self, tenant: SampleTenant, client_id: str, app: AppCredential, assertion_type: str, assertion: str
    ) -> tuple[int, str] | None:
        """Check a private_key_jwt client assertion; return (AADSTS code, message) when it is not acceptable."""
        if assertion_type != _JWT_BEARER:
            return 700027, "Client assertion failed signature validation. [Reason - unsupported assertion type.]"
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return 700027, "Client assertion failed signature validation. [Reason - malformed JWT.]"
        if "x5t" in header:
            used = base64url_decode(header["x5t"]).hex().upper()
            registered = app.thumbprint
        elif "x5t#S256" in header and app.certificate_pem:
            used = base64url_decode(header["x5t#S256"]).hex().upper()
            cert = x509.load_pem_x509_certificate(app.certificate_pem)
            registered = cert.fingerprint(hashes.SHA256()).hex().upper()
        else:
            used, registered = "", None
        if not registered or used != registered:
            return (
                700027,
                "The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: '{used}', "
                "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys "
                f"for app Id '{client_id}'.]",
            )
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
        aud = urlsplit(str(claims.get("aud", "")))
        aud_parts = aud.path.strip("/").split("/")
        if (
            f"{aud.scheme}://{aud.netloc}" != self.login_endpoint
            or len(aud_parts) != 4
            or aud_parts[1:] != ["oauth2", "v2.0", "token"]
            or self.tenant(aud_parts[0]) is not tenant
        ):
            return 700027, "Client assertion failed signature validation. [Reason - The audience is not valid.]"
        now = time.time()
        if not (float(claims.get("nbf", claims.get("iat", 0))) - 300 <= now < float(claims.get("exp", 0)) + 300):
            return 700024, "Client assertion is not within its valid time range."
        if app.certificate_pem:
            public_key = x509.load_pem_x509_certificate(app.certificate_pem).public_key()
            try:
                # The signature alone: the claims were checked above, with AADSTS's own codes.
                jwt.PyJWS().decode(assertion, public_key, algorithms=["RS256", "PS256"])  # type: ignore[arg-type]  # any key type: a non-RSA one fails as a bad signature
            except jwt.InvalidTokenError:
                return 700027, "Client assertion failed signature validation."
        return None
