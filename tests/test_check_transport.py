"""The check path's http.client transport (shared/store/transport.py) over real Azurite: a keep-alive
connection the storage side dropped while idle (load balancers and Azurite do) is sent again on a new one
instead of failing the check."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from shared.store import storage
from shared.store.transport import HttpClientTransport


@pytest.fixture
def closing_proxy(storage_env) -> Iterator[tuple[str, list[int]]]:
    """A TCP proxy to Azurite that closes the client's connection after relaying one response, without
    `Connection: close` (the client learns it only on its next request). Yields (connection string, accepted)."""
    conn_str = storage_env.connection_string
    table_endpoint = next(p.split("=", 1)[1] for p in conn_str.split(";") if p.startswith("TableEndpoint="))
    target = urlsplit(table_endpoint)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[int] = []
    stop = threading.Event()

    def relay_one(client: socket.socket) -> None:
        with client, socket.create_connection((target.hostname, target.port)) as upstream:
            request = client.recv(1 << 20)
            upstream.sendall(request)
            upstream.settimeout(2)
            response = b""
            while True:
                chunk = upstream.recv(1 << 20)
                response += chunk
                head, sep, body = response.partition(b"\r\n\r\n")
                if sep:
                    length = next(
                        (
                            int(line.split(b":")[1])
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length:")
                        ),
                        0,
                    )
                    if len(body) >= length:
                        break
                if not chunk:
                    break
            client.sendall(response)

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            accepted.append(1)
            threading.Thread(target=relay_one, args=(client,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    proxied = conn_str.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{port}")
    try:
        yield proxied, accepted
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_dropped_idle_connection_is_reopened(storage_env, closing_proxy) -> None:
    from azure.data.tables import TableServiceClient

    table = f"transport{uuid.uuid4().hex[:12]}"
    storage.table_service().create_table_if_not_exists(table)
    storage.table_service().get_table_client(table).upsert_entity(entity={"PartitionKey": "p", "RowKey": "r", "V": 42})
    conn_str, accepted = closing_proxy
    transport = HttpClientTransport(connection_timeout=2, read_timeout=2)
    # No retry policy left to hide a failure: the transport itself must recover.
    client = TableServiceClient.from_connection_string(conn_str, transport=transport, retry_total=0).get_table_client(
        table
    )
    values = [client.get_entity(partition_key="p", row_key="r")["V"] for _ in range(3)]
    assert values == [42, 42, 42]
    assert len(accepted) == 3  # each read after a drop went on a new connection
