"""Microsoft Graph access: the only module that imports msgraph (so the HTTP check path never loads it).

One `GraphSession` per tenant: an azure-identity credential against `LOGIN_ENDPOINT`, a msgraph-sdk client
against `GRAPH_ENDPOINT`, and a transport that counts every HTTP request that really goes out (redirect hops
and SDK retries included), because the Graph request count is what throttling budgets are spent on.
"""

from __future__ import annotations

import datetime as dt
import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity.aio import CertificateCredential, ClientSecretCredential
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


def describe_error(exc: BaseException) -> str:
    """A one-line reason naming what failed: auth, Graph error code, transport. Never includes secrets."""
    if isinstance(exc, ClientAuthenticationError):
        text = str(exc.message or exc).splitlines()[0]
        return f"authentication failed: {text}"
    if isinstance(exc, ODataError):
        code = exc.error.code if exc.error else "?"
        message = exc.error.message if exc.error else ""
        return f"Graph returned HTTP {exc.response_status_code} {code}: {message}".rstrip(": ")
    if isinstance(exc, httpx.TransportError | AzureError):
        return f"cannot reach Graph or the login endpoint: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class GraphSession:
    """Graph client for one tenant; use as `async with GraphSession(...) as g:`."""

    def __init__(self, tenant_id: str, credentials: AppCredentials, settings: GraphSettings) -> None:
        self.tenant_id = tenant_id
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
        self._http_client = http_client
        self.client = GraphServiceClient(request_adapter=adapter)

    async def __aenter__(self) -> GraphSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http_client.aclose()
        await self._credential.close()

    async def report(self, function: str, *, period: str | None = None, date: str | None = None) -> bytes:
        """Download one CSV report (the SDK follows the 302 to the pre-authenticated URL)."""
        builder_name = _snake(function)
        if date:
            builder = getattr(self.client.reports, f"{builder_name}_with_date")(dt.date.fromisoformat(date))
        else:
            builder = getattr(self.client.reports, f"{builder_name}_with_period")(period or "D7")
        try:
            body = await builder.get()
        except Exception as exc:  # every failure becomes a recorded reason, not a crash
            raise GraphFailure(describe_error(exc)) from None
        return body or b""
