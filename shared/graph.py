"""Microsoft Graph access: the only module that imports msgraph (so the HTTP check path never loads it).

One `GraphSession` per tenant: an azure-identity credential against `LOGIN_ENDPOINT`, a msgraph-sdk client
against `GRAPH_ENDPOINT`, and a transport that counts every HTTP request that really goes out (redirect hops
and SDK retries included), because the Graph request count is what throttling budgets are spent on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlparse

import httpx
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity.aio import CertificateCredential, ClientSecretCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

from shared.credentials import AppCredentials
from shared.settings import GraphSettings

# Authorities MSAL knows; anything else (simulator, private authority) must skip instance discovery,
# which would otherwise call login.microsoftonline.com and fail offline after ~5 s.
_KNOWN_AUTHORITY_HOSTS = {
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
}


class GraphFailure(Exception):
    """A Graph or Entra ID failure, with a message fit for a collection record (never a secret)."""


@dataclass
class RequestStats:
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0
    paths: list[str] = field(default_factory=list)


class _CountingTransport(httpx.AsyncBaseTransport):
    """Innermost transport: sees each real request, below the SDK's redirect and retry middleware."""

    def __init__(self, inner: httpx.AsyncBaseTransport, stats: RequestStats) -> None:
        self._inner = inner
        self._stats = stats

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._stats.requests += 1
        self._stats.paths.append(request.url.path)
        response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            self._stats.throttled += 1
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                self._stats.throttle_wait_s += int(retry_after)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _http_error(status: int, code: str, message: str) -> str:
    text = f"Graph returned HTTP {status} {code}: {message}".rstrip(": ")
    if status == 429:
        return f"throttled: {text} (still 429 after the SDK's retries)"
    return text


def _http_error_from_body(status: int, body: bytes) -> str:
    """The reason of a failed response whose body we read ourselves (Graph's JSON error, or whatever came)."""
    try:
        error = json.loads(body).get("error") or {}
        return _http_error(status, str(error.get("code", "?")), str(error.get("message", "")))
    except (ValueError, AttributeError):
        return _http_error(status, "(no JSON error body)", repr(body[:60]))


def describe_error(exc: BaseException) -> str:
    """A one-line reason naming what failed: auth, Graph error code, transport. Never includes secrets."""
    if isinstance(exc, ClientAuthenticationError):
        text = str(exc.message or exc).splitlines()[0]
        return f"authentication failed: {text}"
    if isinstance(exc, ODataError):
        code = exc.error.code if exc.error else "?"
        message = exc.error.message if exc.error else ""
        return _http_error(exc.response_status_code, code, message)
    if isinstance(exc, httpx.TransportError | AzureError):
        return f"cannot reach Graph or the login endpoint: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class GraphSession:
    """Graph client for one tenant; use as `async with GraphSession(...) as g:`."""

    def __init__(self, tenant_id: str, credentials: AppCredentials, settings: GraphSettings) -> None:
        self.tenant_id = tenant_id
        self.graph_endpoint = settings.graph_endpoint
        self.stats = RequestStats()
        authority = settings.login_endpoint
        kwargs: dict = {"authority": authority}
        if urlparse(authority).hostname not in _KNOWN_AUTHORITY_HOSTS:
            kwargs["disable_instance_discovery"] = True
        if settings.ca_bundle:
            kwargs["connection_verify"] = settings.ca_bundle
        if credentials.certificate_path:
            self._credential = CertificateCredential(
                tenant_id, credentials.client_id, certificate_path=credentials.certificate_path, **kwargs
            )
        elif credentials.certificate_pem:
            self._credential = CertificateCredential(
                tenant_id, credentials.client_id, certificate_data=credentials.certificate_pem.encode(), **kwargs
            )
        else:
            self._credential = ClientSecretCredential(
                tenant_id, credentials.client_id, credentials.client_secret, **kwargs
            )
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
        )
        transport = _CountingTransport(httpx.AsyncHTTPTransport(verify=verify), self.stats)
        http_client = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(60.0, connect=10.0))
        )
        auth = AzureIdentityAuthenticationProvider(self._credential, scopes=[f"{settings.graph_endpoint}/.default"])
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
        out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - handed to the caller
        try:
            info = builder.to_get_request_information()
            adapter = self.client.request_adapter
            adapter.set_base_url_for_request_information(info)
            await self._auth.authenticate_request(info)
            span = adapter.start_tracing_span(info, "report_download")
            try:
                request = adapter.get_request_from_request_information(info, span, span)
            finally:
                span.end()
            response = await self._http_client.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    raise GraphFailure(_http_error_from_body(response.status_code, await response.aread()))
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
            finally:
                await response.aclose()
        except GraphFailure:
            out.close()
            raise
        except Exception as exc:  # every failure becomes a recorded reason, not a crash
            out.close()
            raise GraphFailure(describe_error(exc)) from None
        out.seek(0)
        return out

    # -- directory (contact sync, issue 4): plain dicts so callers never see SDK models ------------------
    USER_SELECT = (
        "id", "givenName", "surname", "displayName", "userPrincipalName", "mail", "proxyAddresses", "otherMails",
        "jobTitle", "mobilePhone", "businessPhones", "accountEnabled", "userType", "assignedLicenses",
    )  # fmt: skip

    async def directory_organization(self) -> dict:
        """`GET /organization`: id, display name and verified domains (name, isDefault, isInitial)."""
        orgs = await self._all_pages("organization", "v1.0/organization")
        if not orgs:
            return {}
        org = orgs[0]
        domains = [
            {"name": d.get("name") or "", "isDefault": bool(d.get("isDefault")), "isInitial": bool(d.get("isInitial"))}
            for d in org.get("verifiedDomains") or []
        ]
        return {"id": org.get("id") or "", "displayName": org.get("displayName") or "", "verifiedDomains": domains}

    async def directory_users(self):  # noqa: ANN201 - an async iterator of pages (list[dict])
        """`GET /users?$select=...&$top=999`, following `@odata.nextLink`; yields one list of dicts per page, so
        a 100,000-user directory is never held whole (the caller stores it page by page)."""
        path = f"v1.0/users?$select={','.join(self.USER_SELECT)}&$top=999"
        async for users in self._pages("users", path):
            yield [
                {
                    "id": u.get("id") or "", "givenName": u.get("givenName"), "surname": u.get("surname"),
                    "displayName": u.get("displayName"), "userPrincipalName": u.get("userPrincipalName") or "",
                    "mail": u.get("mail"), "proxyAddresses": list(u.get("proxyAddresses") or []),
                    "otherMails": list(u.get("otherMails") or []), "jobTitle": u.get("jobTitle"),
                    "mobilePhone": u.get("mobilePhone"), "businessPhones": list(u.get("businessPhones") or []),
                    "accountEnabled": u.get("accountEnabled"), "userType": u.get("userType"),
                    "skuIds": [str(a["skuId"]) for a in u.get("assignedLicenses") or [] if a.get("skuId")],
                }
                for u in users
            ]  # fmt: skip

    async def directory_skus(self) -> list[dict]:
        """`GET /subscribedSkus` (all pages): sku id, part number, status, prepaid enabled and consumed units."""
        return [
            {
                "skuId": str(s.get("skuId") or ""), "skuPartNumber": s.get("skuPartNumber") or "",
                "capabilityStatus": s.get("capabilityStatus") or "", "consumedUnits": s.get("consumedUnits") or 0,
                "enabled": (s.get("prepaidUnits") or {}).get("enabled") or 0,
            }
            for s in await self.subscribed_skus()
        ]  # fmt: skip

    # ------------------------------------------------------------------ JSON collections
    # Read as raw JSON through the SDK's pipeline (see _get_json). A page is followed with its nextLink verbatim
    # and a nextLink seen twice is a failure, not a loop; any failed page fails the whole collection, so a caller
    # never stores part of it.

    async def _get_json(self, url: str) -> dict:
        """One GET through the SDK's pipeline (auth, retry, redirect, request counting), parsed as plain JSON.

        Raw JSON rather than the SDK's models: values stay as Graph sent them (Centreon prints them as is:
        `Incident`, an enum value newer than the SDK), and the first model parse would import ~1,200 modules
        (+1-1.7 s, +30 MB) for nothing.
        """
        info = RequestInformation()
        info.http_method = Method.GET
        info.url = url
        info.headers.try_add("Accept", "application/json")
        body = await self.client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            raise GraphFailure(f"{url}: Graph answered a body that is not JSON: {(body or b'')[:60]!r}") from None
        if not isinstance(doc, dict):
            raise GraphFailure(f"{url}: Graph answered JSON that is not an object")
        return doc

    async def _pages(self, what: str, path: str):  # noqa: ANN202 - an async iterator of item lists
        """The items of a collection, page by page. A page is followed with its `@odata.nextLink` verbatim (its
        own query string: `$expand`, `$skiptoken`...), never re-applying the first request's parameters
        (Centreon's infinite loop). A nextLink seen twice is a failure, not a loop; any failed page fails the
        whole collection, so a caller never stores part of it."""
        seen: set[str] = set()
        url: str | None = f"{self.graph_endpoint}/{path}"
        try:
            while url:
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
            raise GraphFailure(f"{what}: {describe_error(exc)}") from None

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

    async def report_settings(self) -> dict:
        """`GET /admin/reportSettings` (one entity): `displayConcealedNames`."""
        try:
            return await self._get_json(f"{self.graph_endpoint}/v1.0/admin/reportSettings")
        except GraphFailure:
            raise
        except Exception as exc:
            raise GraphFailure(f"reportSettings: {describe_error(exc)}") from None
