"""Microsoft Graph access: the only module that imports msgraph (so the HTTP check path never loads it).

One `GraphSession` per tenant: an azure-identity credential against `LOGIN_ENDPOINT`, a msgraph-sdk client
against `GRAPH_ENDPOINT`, and a transport that counts every HTTP request that really goes out (redirect hops
and SDK retries included), because the Graph request count is what throttling budgets are spent on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import datetime as dt
import errno
import importlib.util
import json
import logging
import re
import ssl
import sys
import tempfile
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast
from urllib.parse import urlparse

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity.aio import CertificateCredential, ClientSecretCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

from shared import settings as app_settings
from shared.collect.credentials import AppCredentials
from shared.settings import GraphSettings

# httpcore runs `import sniffio` on every request; with sniffio not installed, each failed import scans sys.path
# (~1.3 ms of CPU, ~200 times per tenant collection: a third of its CPU). A None entry makes the same ImportError
# instant.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]  # None is how the import system spells "absent"

# httpx limits per request; a report download of 100,000 users streams for a few seconds only.
READ_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10.0

# Authorities MSAL knows; anything else (simulator, private authority) must skip instance discovery,
# which would otherwise call login.microsoftonline.com and fail offline after ~5 s.
_KNOWN_AUTHORITY_HOSTS = {
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
}


class GraphFailure(Exception):
    """A Graph or Entra ID failure, with a message fit for a collection record (never a secret).

    `status`: the HTTP status Graph answered, when it answered one (403 names a missing permission upstream)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def throttled(self) -> bool:
        return self.status == 429


@dataclass
class RequestStats:
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0  # seconds really waited before a retry of a 429, not the advertised Retry-After
    token_renewals: int = 0
    paths: list[str] = field(default_factory=list)
    throttled_at: float | None = field(default=None, repr=False)  # when the last 429 of this scope came

    def snapshot(self) -> tuple[int, int, float]:
        return self.requests, self.throttled, self.throttle_wait_s


# The figures of the dataset being collected in this asyncio task: a tenant's datasets run concurrently on one
# session, so a before/after difference of the session's totals would mix them.
_scope: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("o365mon_graph_scope", default=None)


class _CountingTransport(httpx.AsyncBaseTransport):
    """Innermost transport: sees each real request, below the SDK's redirect and retry middleware.

    Throttling waits are measured, not added up from Retry-After: the time from a 429 to the retry the SDK sends
    after it (`Retry-Attempt` header). A 429 the SDK gives up on, or a wait cut short by the tenant's deadline,
    adds nothing."""

    def __init__(self, inner: httpx.AsyncBaseTransport, stats: RequestStats, *, owned: bool) -> None:
        self._inner = inner
        self._stats = stats
        self._owned = owned  # a shared pool outlives the session: closing the session's client leaves it open

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scope = _scope.get()
        # A retry follows the 429 of its own task: the timing lives in the task's scope when there is one.
        timing = scope or self._stats
        counted = (self._stats, scope) if scope is not None else (self._stats,)
        if timing.throttled_at is not None and "Retry-Attempt" in request.headers:
            waited = time.monotonic() - timing.throttled_at
            for stats in counted:
                stats.throttle_wait_s += waited
        timing.throttled_at = None
        for stats in counted:
            stats.requests += 1
        self._stats.paths.append(request.url.path)
        response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            for stats in counted:
                stats.throttled += 1
            timing.throttled_at = time.monotonic()
        return response

    async def aclose(self) -> None:
        if self._owned:
            await self._inner.aclose()


# One connection pool per event loop and CA bundle, shared by every tenant's session in the process: building an
# SSL context, a pool and new connections per tenant was a fixed ~0.1-0.2 s of CPU per collection. The pool holds
# no credential: each session's own client and authentication provider set the Authorization header of each
# request, and cookies live in the per-session httpx client, so nothing of one tenant reaches another's request.
# Per loop because httpcore's connections belong to the loop that opened them (a test's asyncio.run is a new one).
_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncHTTPTransport]] = (
    weakref.WeakKeyDictionary()
)
# Many tenants' datasets in flight at once (batchSize + newBatchThreshold collections, several reports each): no
# cap on open connections (a pool wait would count against CONNECT_TIMEOUT_S), a bounded number kept idle.
_POOL_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=5.0)


def _transport(ca_bundle: str) -> tuple[httpx.AsyncHTTPTransport, bool]:
    """The loop's shared pool for this CA bundle (False: not owned), or a session's own outside a running loop."""

    def build() -> httpx.AsyncHTTPTransport:
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        return httpx.AsyncHTTPTransport(verify=verify, limits=_POOL_LIMITS)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return build(), True
    pools = _POOLS.setdefault(loop, {})
    if ca_bundle not in pools:
        pools[ca_bundle] = build()
    return pools[ca_bundle], False


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _http_error(status: int | None, code: str | None, message: str | None) -> str:
    text = f"Graph returned HTTP {status} {code}: {message}".rstrip(": ")
    if status == 429:
        return f"throttled: {text} (still 429 after the SDK's retries)"
    return text


def _error_code(body: bytes) -> str:
    try:
        return str((json.loads(body).get("error") or {}).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _http_error_from_body(status: int, body: bytes) -> str:
    """The reason of a failed response whose body we read ourselves (Graph's JSON error, or whatever came)."""
    try:
        error = json.loads(body).get("error") or {}
        return _http_error(status, str(error.get("code", "?")), str(error.get("message", "")))
    except (ValueError, AttributeError):
        return _http_error(status, "(no JSON error body)", repr(body[:60]))


# Hosts whose URLs may be logged or recorded in full: Graph and the login endpoint (registered per session). Any
# other URL is a report download, pre-authenticated by its path and query: only its scheme and host are shown.
_SAFE_HOSTS: set[str] = set()
_URL = re.compile(r"https?://[^\s\"'<>]+")


def safe_url(url: object) -> str:
    """A URL fit for a log line or a reason: Graph's without its query, a download's without path and query."""
    parts = urlparse(str(url))
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.netloc.lower() in _SAFE_HOSTS:
        return origin + parts.path
    return origin + "/<pre-authenticated download URL>"


def redact(text: str) -> str:
    return _URL.sub(lambda m: safe_url(m.group(0)), text)


class _RedactUrls(logging.Filter):
    """httpx logs every request URL at INFO (`HTTP Request: GET <url>`), a report download's token included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = _RedactUrls()
# Report downloads only ever go through httpx; httpcore logs each 302's Location header at DEBUG. A logger's
# filter sees only its own records, hence every httpcore logger by name.
for _name in ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy", "httpcore.socks"):
    if _REDACT not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACT)

# No consent (65001), no service principal (7000229), app not found in the directory (700016): each means that no
# administrator of that tenant consented to the app (700016 also when the client id is wrong for every tenant).
_CONSENT_CODES = ("AADSTS65001", "AADSTS7000229", "AADSTS700016")


def _request_url(exc: BaseException) -> str:
    try:
        return safe_url(exc.request.url)  # type: ignore[attr-defined]  # not every error has one: caught below
    except (AttributeError, RuntimeError):
        return "Graph"


def describe_error(exc: BaseException, consent_url: str = "") -> str:
    """A one-line reason naming what failed: auth, Graph error code, transport. Never includes secrets.

    `consent_url`: the tenant's admin-consent URL, named when Entra ID says the app was never consented to."""
    if isinstance(exc, ClientAuthenticationError):
        text = str(exc.message or exc).splitlines()[0]
        code = next((c for c in _CONSENT_CODES if c in text), "")
        if code:
            where = f" at {consent_url}" if consent_url else ""
            return (
                f"authentication failed: the app has no admin consent in this tenant ({code}): an administrator "
                f"of the tenant must grant it once{where}"
            )
        return f"authentication failed: {redact(text)}"
    if isinstance(exc, ODataError):
        return _http_error(
            exc.response_status_code, exc.error.code if exc.error else "?", exc.error.message if exc.error else ""
        )
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        limit = CONNECT_TIMEOUT_S if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) else READ_TIMEOUT_S
        url = _request_url(exc)
        # A report request's exception names the Graph URL even when its download (a redirect hop) timed out.
        hop = " (or the download it redirects to)" if "/reports/" in url else ""
        return f"{url}{hop} did not answer within {limit:g} s ({kind})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach Graph or the login endpoint at {_request_url(exc)}: ConnectError: {redact(str(exc))}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return (
            f"the connection to {_request_url(exc)} broke mid-response ({type(exc).__name__}: {redact(str(exc))}); "
            "the server was reached"
        )
    if isinstance(exc, httpx.TransportError | AzureError):
        return f"cannot reach Graph or the login endpoint: {type(exc).__name__}: {redact(str(exc))}"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"no space left on the device of the temp dir {tempfile.gettempdir()} (reports over 1 MiB spool there)"
    return f"{type(exc).__name__}: {redact(str(exc))}"


class _RenewableCredential:
    """The azure-identity credential, replaceable by a fresh one (with an empty token cache) when Graph rejects a
    token before its expiry: azure-identity would otherwise hand out the same cached token until it expires."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._inner = factory()
        self._retired: list[Any] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return await self._inner.get_token(*scopes, **kwargs)

    async def renew(self) -> None:
        # The old one stays open until the session closes: a tenant's datasets run concurrently, and another
        # request may be fetching a token through it right now.
        self._retired.append(self._inner)
        self._inner = self._factory()

    async def close(self) -> None:
        for credential in (*self._retired, self._inner):
            await credential.close()


def roles_of(access_token: str) -> frozenset[str] | None:
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    roles = claims.get("roles") or []
    return frozenset(str(r) for r in roles) if isinstance(roles, list) else None


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # handed to the caller, who closes it


class GraphSession:
    """Graph client for one tenant; use as `async with GraphSession(...) as g:`."""

    def __init__(self, tenant_id: str, credentials: AppCredentials, settings: GraphSettings) -> None:
        self.tenant_id = tenant_id
        self.graph_endpoint = settings.graph_endpoint
        self.stats = RequestStats()
        self.max_pages = app_settings.integer("COLLECT_MAX_PAGES")
        authority = settings.login_endpoint
        self.consent_url = f"{authority}/{tenant_id}/adminconsent?client_id={credentials.client_id}"
        _SAFE_HOSTS.update(h.lower() for h in (urlparse(authority).netloc, urlparse(self.graph_endpoint).netloc))
        kwargs: dict = {"authority": authority}
        if urlparse(authority).hostname not in _KNOWN_AUTHORITY_HOSTS:
            kwargs["disable_instance_discovery"] = True
        if settings.ca_bundle:
            kwargs["connection_verify"] = settings.ca_bundle

        def credential() -> CertificateCredential | ClientSecretCredential:
            if credentials.certificate_path:
                return CertificateCredential(
                    tenant_id, credentials.client_id, certificate_path=credentials.certificate_path, **kwargs
                )
            if credentials.certificate_pem:
                return CertificateCredential(
                    tenant_id, credentials.client_id, certificate_data=credentials.certificate_pem.encode(), **kwargs
                )
            return ClientSecretCredential(tenant_id, credentials.client_id, credentials.client_secret, **kwargs)

        self._credential = _RenewableCredential(credential)
        pool, owned = _transport(settings.ca_bundle or "")
        transport = _CountingTransport(pool, self.stats, owned=owned)
        http_client = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(
                transport=transport, timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
            )
        )
        # Duck-typed: it has the get_token/close that the provider calls, not the whole AsyncTokenCredential protocol.
        token_credential = cast(AsyncTokenCredential, self._credential)
        auth = AzureIdentityAuthenticationProvider(token_credential, scopes=[f"{settings.graph_endpoint}/.default"])
        adapter = GraphRequestAdapter(auth, client=http_client)
        adapter.base_url = f"{settings.graph_endpoint}/v1.0"
        self._auth = auth
        self._http_client = http_client
        self.client = GraphServiceClient(request_adapter=adapter)

    async def __aenter__(self) -> GraphSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http_client.aclose()
        await self._credential.close()

    async def report(self, function: str, *, period: str | None = None, date: str | None = None) -> IO[bytes]:
        """Download one CSV report into a temporary file (rewound), streamed chunk by chunk.

        The SDK's `.get()` would return the whole body as one `bytes` (~20 MB per 100,000 users, per report), so
        the request is built and authenticated by the SDK and sent through its middleware (retry with
        Retry-After, redirect to the pre-authenticated URL without the bearer, request counting), but the
        response is streamed: the collector's memory stays flat in the tenant's size.
        """
        builder_name = _snake(function)
        if date:
            builder = getattr(self.client.reports, f"{builder_name}_with_date")(dt.date.fromisoformat(date))
        else:
            builder = getattr(self.client.reports, f"{builder_name}_with_period")(period or "D7")
        out = _spool()
        try:
            for attempt in (1, 2):
                response = await self._send_report_request(builder)
                try:
                    if response.status_code >= 400:
                        body = await response.aread()
                        if attempt == 1 and self._token_rejected(response.status_code, body):
                            await self._renew_token()
                            continue
                        raise GraphFailure(_http_error_from_body(response.status_code, body), response.status_code)
                    await self._stream_body(function, response, out)
                finally:
                    await response.aclose()
                break
        except GraphFailure:
            out.close()
            raise
        except Exception as exc:  # every failure becomes a recorded reason, not a crash
            out.close()
            raise GraphFailure(f"{function}: {self.describe(exc)}") from None
        out.seek(0)
        return out

    async def _send_report_request(self, builder: Any) -> httpx.Response:
        info = builder.to_get_request_information()
        # The client's adapter is kiota's httpx adapter, typed as the abstract RequestAdapter.
        adapter = cast(HttpxRequestAdapter, self.client.request_adapter)
        adapter.set_base_url_for_request_information(info)
        await self._auth.authenticate_request(info)
        span = adapter.start_tracing_span(info, "report_download")
        try:
            request = adapter.get_request_from_request_information(info, span, span)
        finally:
            span.end()
        return await self._http_client.send(request, stream=True)

    @staticmethod
    async def _stream_body(function: str, response: httpx.Response, out: IO[bytes]) -> None:
        """Copy the body; a body shorter than its Content-Length is a failure, never a report."""
        announced = response.headers.get("Content-Length", "")
        expected = f" of {announced}" if announced.isdigit() else ""
        try:
            async for chunk in response.aiter_bytes():
                out.write(chunk)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise GraphFailure(
                f"{function}: the download connection was dropped after {response.num_bytes_downloaded}{expected} "
                f"bytes ({type(exc).__name__}); nothing stored"
            ) from None
        except httpx.TimeoutException:
            raise GraphFailure(
                f"{function}: the download at {safe_url(response.request.url)} stalled for {READ_TIMEOUT_S:g} s "
                f"after {response.num_bytes_downloaded}{expected} bytes (ReadTimeout); nothing stored"
            ) from None
        if announced.isdigit() and "Content-Encoding" not in response.headers:
            if response.num_bytes_downloaded != int(announced):
                raise GraphFailure(
                    f"{function}: the download ended after {response.num_bytes_downloaded} of {announced} bytes "
                    "(Content-Length); nothing stored"
                )

    @staticmethod
    def _token_rejected(status: int, body: bytes) -> bool:
        return status == 401 and _error_code(body) == "InvalidAuthenticationToken"

    async def _renew_token(self) -> None:
        """Graph rejected a token before its expiry (revoked, or a clock skew): get a new one, once per request."""
        self.stats.token_renewals += 1
        await self._credential.renew()

    def describe(self, exc: BaseException) -> str:
        return describe_error(exc, self.consent_url)

    @contextlib.contextmanager
    def measured(self) -> Iterator[RequestStats]:
        """Inside this block, this task's requests are also counted in the yielded stats (one dataset's)."""
        mine = RequestStats()
        token = _scope.set(mine)
        try:
            yield mine
        finally:
            _scope.reset(token)

    async def granted_roles(self) -> frozenset[str] | None:
        """The application permissions of the app in this tenant: the `roles` claim of its access token (the token
        the requests use, from azure-identity's cache). The payload is read without verifying the signature: the
        token came from Entra ID over TLS, and only Graph needs to trust it. None when the token is not a JWT
        (nothing can be said); an empty set when it has no `roles` (Entra omits the claim when none is granted).
        Authentication failures propagate (ClientAuthenticationError)."""
        token = await self._credential.get_token(f"{self.graph_endpoint}/.default")
        return roles_of(token.token)

    # -- directory (contact sync): Graph's JSON as sent; shared/directory/model.py reshapes it, once ---------
    USER_SELECT = (
        "id", "givenName", "surname", "displayName", "userPrincipalName", "mail", "proxyAddresses", "otherMails",
        "jobTitle", "mobilePhone", "businessPhones", "accountEnabled", "userType", "assignedLicenses",
    )  # fmt: skip

    async def directory_organization(self) -> dict:
        """`GET /organization`: the tenant's organization (id, display name, verified domains), {} if none."""
        orgs = await self._all_pages("organization", "v1.0/organization")
        return orgs[0] if orgs else {}

    def directory_users(self) -> AsyncIterator[list[dict]]:
        """`GET /users?$select=...&$top=999`, following `@odata.nextLink`; one list of users per page, so a
        100,000-user directory is never held whole (the caller stores it page by page)."""
        return self._pages("users", f"v1.0/users?$select={','.join(self.USER_SELECT)}&$top=999")

    # ------------------------------------------------------------------ JSON collections
    # Read as raw JSON through the SDK's pipeline (see _get_json). A page is followed with its nextLink verbatim
    # and a nextLink seen twice is a failure, not a loop; any failed page fails the whole collection, so a caller
    # never stores part of it.

    async def _send_bytes(self, info: RequestInformation, kind: str, errors: dict[str, Any]) -> bytes | None:
        # kiota types its result with a TypeVar no argument binds (mypy reads it as None): the body is bytes.
        send: Callable[..., Awaitable[bytes | None]] = self.client.request_adapter.send_primitive_async
        return await send(info, kind, errors)

    async def _get_json(self, url: str) -> dict:
        """One GET through the SDK's pipeline (auth, retry, redirect, request counting), parsed as plain JSON.

        Raw JSON rather than the SDK's models: values stay as Graph sent them (Centreon prints them as is:
        `Incident`, an enum value newer than the SDK), and the first model parse would import ~1,200 modules
        (+1-1.7 s, +30 MB) for nothing.
        """
        for attempt in (1, 2):
            info = RequestInformation()
            info.http_method = Method.GET
            info.url = url
            info.headers.try_add("Accept", "application/json")
            try:
                body = await self._send_bytes(info, "bytes", {"XXX": ODataError})
            except ODataError as exc:
                code = exc.error.code if exc.error else ""
                if attempt == 1 and exc.response_status_code == 401 and code == "InvalidAuthenticationToken":
                    await self._renew_token()
                    continue
                raise
            break
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            raise GraphFailure(f"{url}: Graph answered a body that is not JSON: {(body or b'')[:60]!r}") from None
        if not isinstance(doc, dict):
            raise GraphFailure(f"{url}: Graph answered JSON that is not an object")
        return doc

    async def _pages(self, what: str, path: str) -> AsyncIterator[list[dict]]:
        """The items of a collection, page by page. A page is followed with its `@odata.nextLink` verbatim (its
        own query string: `$expand`, `$skiptoken`...), never re-applying the first request's parameters
        (Centreon's infinite loop). A nextLink seen twice is a failure, not a loop; any failed page fails the
        whole collection, so a caller never stores part of it."""
        seen: set[str] = set()
        url: str | None = f"{self.graph_endpoint}/{path}"
        pages = 0
        try:
            while url:
                if pages >= self.max_pages:
                    raise GraphFailure(
                        f"{what}: still a nextLink after {pages} pages (COLLECT_MAX_PAGES); stopped, nothing stored"
                    )
                pages += 1
                page = await self._get_json(url)
                yield page.get("value") or []
                url = page.get("@odata.nextLink")
                if url in seen:
                    raise GraphFailure(
                        f"{what}: Graph returned the same @odata.nextLink twice ({url}); stopped instead of looping"
                    )
                if url:
                    seen.add(url)
        except GraphFailure:
            raise
        except Exception as exc:
            status = exc.response_status_code if isinstance(exc, ODataError) else None
            raise GraphFailure(f"{what}: {self.describe(exc)}", status) from None

    async def _all_pages(self, what: str, path: str) -> list[dict]:
        return [item async for items in self._pages(what, path) for item in items]

    async def service_health(self) -> list[dict]:
        return await self._all_pages("healthOverviews", "v1.0/admin/serviceAnnouncement/healthOverviews?$expand=issues")

    async def subscribed_skus(self) -> list[dict]:
        return await self._all_pages("subscribedSkus", "v1.0/subscribedSkus")

    async def applications(self) -> list[dict]:
        return await self._all_pages("applications", "v1.0/applications")

    async def organization(self) -> list[dict]:
        """`GET /beta/organization`, as Centreon's directory-size-usage: only beta has `directorySizeQuota`."""
        return await self._all_pages("organization", "beta/organization")

    async def delegated_admin_customers(self) -> list[dict]:
        """GDAP, in a partner tenant: its customers (`id`, `tenantId`, today's `displayName`); needs
        DelegatedAdminRelationship.Read.All. Followed page by page like every collection."""
        return await self._all_pages("delegatedAdminCustomers", "v1.0/tenantRelationships/delegatedAdminCustomers")

    async def delegated_admin_relationships(self) -> list[dict]:
        """GDAP, in a partner tenant: every relationship in every state (same permission)."""
        return await self._all_pages(
            "delegatedAdminRelationships", "v1.0/tenantRelationships/delegatedAdminRelationships"
        )

    async def report_settings(self) -> dict:
        """`GET /admin/reportSettings` (one entity): `displayConcealedNames`."""
        try:
            return await self._get_json(f"{self.graph_endpoint}/v1.0/admin/reportSettings")
        except GraphFailure:
            raise
        except Exception as exc:
            status = exc.response_status_code if isinstance(exc, ODataError) else None
            raise GraphFailure(f"reportSettings: {self.describe(exc)}", status) from None
