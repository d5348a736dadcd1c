"""Table and queue clients from the app settings: a connection string (Azurite) or identity-based URIs.

Clients are cached per process: the check path does one point read per request, and building a client
(credential, pipeline) per call would cost more than the read itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError

from shared import settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.storage.queue import QueueClient

CONNECTION = "AzureWebJobsStorage"

# A check must answer within its deadline even when storage is frozen or gone: azure-core's defaults (300 s
# read timeout, 3 retries with backoff) held a check for five minutes. Collection and sync keep the defaults,
# where a slow storage account is worth waiting for.
CHECK_CONNECT_TIMEOUT_S = 2
CHECK_READ_TIMEOUT_S = 2
CHECK_RETRIES = 1
_CHECK_CLIENT_KWARGS: dict[str, Any] = {
    "connection_timeout": CHECK_CONNECT_TIMEOUT_S,
    "read_timeout": CHECK_READ_TIMEOUT_S,
    "retry_total": CHECK_RETRIES,
    "retry_backoff_factor": 0.2,
}
_check_path: contextvars.ContextVar[bool] = contextvars.ContextVar("o365mon_check_path", default=False)

# Characters Table Storage refuses in PartitionKey/RowKey: a '/' in a key made the SDK retry a 400 for 4.8 s.
_FORBIDDEN_KEY_CHARS = frozenset("/\\#?") | {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
MAX_KEY_LENGTH = 512  # Table Storage's limit is 1 KiB of UTF-16


class StorageConfigError(Exception):
    pass


@functools.cache
def _identity_credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential  # only on Azure; keeps local start-up light

    client_id = settings.get(f"{CONNECTION}__clientId") or None
    return DefaultAzureCredential(managed_identity_client_id=client_id)


class InvalidKeyError(ValueError):
    """A value that cannot be a Table key (from a URL or a file): the caller answers 400 with this text."""


def check_key(value: str, what: str) -> str:
    """`value` unchanged if Table Storage accepts it as a PartitionKey/RowKey, else InvalidKeyError naming `what`."""
    if not value:
        raise InvalidKeyError(f"{what} is empty")
    bad = sorted({c for c in value if c in _FORBIDDEN_KEY_CHARS})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise InvalidKeyError(f"{what} cannot contain {shown} (storage keys refuse / \\ # ? and control characters)")
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"{what} is longer than {MAX_KEY_LENGTH} characters")
    return value


@contextlib.contextmanager
def check_path() -> Iterator[None]:
    """Inside this block, table() returns clients with the check path's short timeouts and single retry."""
    token = _check_path.set(True)
    try:
        yield
    finally:
        _check_path.reset(token)


def _proxy_configured() -> bool:
    """What urllib.request.getproxies() finds on Linux (any non-empty `*_proxy` variable, in any case), without
    importing urllib.request and TLS into every check process."""
    return any(value and name.lower().endswith("_proxy") for name, value in os.environ.items())


def _environment_kwargs() -> dict[str, Any]:
    """What requests would take from the environment, read once: requests otherwise scans the whole environment
    for proxies twice per request (a third of a Table request's CPU on a Functions host's hundred-odd variables)
    and looks for a ~/.netrc (no use with Shared Key or token auth). With a proxy set, requests keeps reading the
    environment; a CA bundle it would have read is passed as the one to verify against, as requests does."""
    if _proxy_configured():
        return {}
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return {"use_env_settings": False, **({"connection_verify": bundle} if bundle else {})}


@functools.cache
def _table_service(conn: str, uri: str, fast: bool = False) -> TableServiceClient:
    environment = _environment_kwargs()
    kwargs: dict[str, Any] = {**(_CHECK_CLIENT_KWARGS if fast else {}), **environment}
    if fast and environment:  # no proxy to go through
        from shared.store.transport import HttpClientTransport

        kwargs["transport"] = HttpClientTransport(
            connection_timeout=CHECK_CONNECT_TIMEOUT_S,
            read_timeout=CHECK_READ_TIMEOUT_S,
            connection_verify=environment.get("connection_verify", True),
        )
    if conn:
        return TableServiceClient.from_connection_string(conn, **kwargs)
    if uri:
        return TableServiceClient(endpoint=uri, credential=_identity_credential(), **kwargs)
    raise StorageConfigError(f"set {CONNECTION} or {CONNECTION}__tableServiceUri")


def table_service() -> TableServiceClient:
    return _table_service(settings.get(CONNECTION), settings.get(f"{CONNECTION}__tableServiceUri"), _check_path.get())


def unreachable_reason(exc: BaseException) -> str | None:
    """A short, secret-free reason when `exc` means storage could not be reached or did not answer, else None."""
    if isinstance(exc, StorageConfigError):
        return f"storage not configured: {exc}"
    if isinstance(exc, HttpResponseError) and (exc.status_code or 0) >= 500:
        where = _endpoint()
        return f"storage answered HTTP {exc.status_code}" + (f" ({where})" if where else "")
    if not isinstance(exc, ServiceRequestError | ServiceResponseError):
        return None
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 20:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    names = " ".join(type(e).__name__ for e in chain)
    texts = " ".join(str(e) for e in chain).lower()
    where = _endpoint()
    fast = _check_path.get()
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in texts:
        reason = "connection refused"
    elif "ConnectTimeout" in names or "connect timeout" in texts or "connection timed out" in texts:
        reason = f"no connection within {CHECK_CONNECT_TIMEOUT_S} s" if fast else "no connection (connect timeout)"
    elif "ReadTimeout" in names or "read timed out" in texts or isinstance(exc, ServiceResponseError):
        reason = f"no answer within {CHECK_READ_TIMEOUT_S} s" if fast else "no answer (read timeout)"
    elif "name or service not known" in texts or "nodename nor servname" in texts or "getaddrinfo" in texts:
        reason = "host name not found"
    else:
        reason = type(exc).__name__
    return f"{reason} ({where})" if where else reason


def _endpoint() -> str:
    try:
        url = table_service().url
    except Exception:  # only decorates a message
        return ""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


_created: set[tuple[str, str]] = set()
_clients: dict[tuple[int, str], TableClient] = {}
# get_table_client wires the service's shared policy objects into a new pipeline: done by two threads at once (a
# tenant's datasets store from worker threads), a request in flight lost its chain ("'_SansIOHTTPPolicyRunner'
# object has no attribute 'next'"). One client per table and service, built under a lock, then shared: Azure
# SDK clients are thread-safe once built.
_clients_lock = threading.Lock()


def table(name: str) -> TableClient:
    """A client for table `name` (the table created on first use in this process)."""
    service = table_service()
    key = (id(service), name)
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if (service.url, name) not in _created:
                service.create_table_if_not_exists(name)
                _created.add((service.url, name))
            client = _clients[key] = service.get_table_client(name)
    return client


BATCH = 100  # Table Storage's limit of operations per transaction (all in one partition)


def delete_rows(client: TableClient, partition: str, row_keys: Iterable[str]) -> int:
    """Delete these rows of one partition in transactions of up to BATCH; a transaction refused because a row is
    already gone (another writer) is done row by row, where delete_entity ignores a 404. Returns the count."""
    keys = list(row_keys)
    for i in range(0, len(keys), BATCH):
        chunk = keys[i : i + BATCH]
        try:
            client.submit_transaction([("delete", {"PartitionKey": partition, "RowKey": r}) for r in chunk])
        except TableTransactionError:
            for r in chunk:
                client.delete_entity(partition_key=partition, row_key=r)
    return len(keys)


def newest_first_key(ns: int) -> str:
    """A RowKey from a nanosecond clock, inverted so that a partition query returns the newest record first."""
    return f"{2**63 - ns:020d}"


def now_iso(timespec: str = "seconds") -> str:
    """The current UTC time as stored in the tables (ISO 8601 with +00:00)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec=timespec)


def queue(name: str) -> QueueClient:
    """A queue client that Base64-encodes messages, as the Functions queue trigger expects."""
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    conn = settings.get(CONNECTION)
    if conn:
        client = QueueClient.from_connection_string(
            conn, name, message_encode_policy=encode, message_decode_policy=decode
        )
    else:
        uri = settings.get(f"{CONNECTION}__queueServiceUri")
        if not uri:
            raise StorageConfigError(f"set {CONNECTION} or {CONNECTION}__queueServiceUri")
        client = QueueClient(
            uri, name, credential=_identity_credential(), message_encode_policy=encode, message_decode_policy=decode
        )
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client


def reset_caches() -> None:
    """Tests switch storage accounts between runs."""
    _table_service.cache_clear()
    _created.clear()
    _clients.clear()
