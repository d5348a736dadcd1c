"""Table and queue clients from the app settings: a connection string (Azurite) or identity-based URIs.

Clients are cached per process: the check path does one point read per request, and building a client
(credential, pipeline) per call would cost more than the read itself.
"""

from __future__ import annotations

import functools

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient

from shared import settings

CONNECTION = "AzureWebJobsStorage"


class StorageConfigError(Exception):
    pass


@functools.cache
def _identity_credential() -> object:
    from azure.identity import DefaultAzureCredential  # only on Azure; keeps local start-up light

    client_id = settings.get(f"{CONNECTION}__clientId") or None
    return DefaultAzureCredential(managed_identity_client_id=client_id)


@functools.cache
def _table_service(conn: str, uri: str) -> TableServiceClient:
    if conn:
        return TableServiceClient.from_connection_string(conn)
    if uri:
        return TableServiceClient(endpoint=uri, credential=_identity_credential())
    raise StorageConfigError(f"set {CONNECTION} or {CONNECTION}__tableServiceUri")


def table_service() -> TableServiceClient:
    return _table_service(settings.get(CONNECTION), settings.get(f"{CONNECTION}__tableServiceUri"))


_created: set[tuple[str, str]] = set()


def table(name: str) -> TableClient:
    """A client for table `name`, created on first use in this process."""
    service = table_service()
    key = (service.url, name)
    if key not in _created:
        try:
            service.create_table(name)
        except ResourceExistsError:
            pass
        _created.add(key)
    return service.get_table_client(name)


def queue(name: str) -> object:
    """A queue client that Base64-encodes messages, as the Functions queue trigger expects."""
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

    policies = {
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
    }
    conn = settings.get(CONNECTION)
    if conn:
        client = QueueClient.from_connection_string(conn, name, **policies)
    else:
        uri = settings.get(f"{CONNECTION}__queueServiceUri")
        if not uri:
            raise StorageConfigError(f"set {CONNECTION} or {CONNECTION}__queueServiceUri")
        client = QueueClient(uri, name, credential=_identity_credential(), **policies)
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client


def reset_caches() -> None:
    """Tests switch storage accounts between runs."""
    _table_service.cache_clear()
    _created.clear()
