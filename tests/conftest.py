"""Shared fixtures: one real Azurite per test run (free ports, loopback, in memory)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.azurite import Azurite
from shared.collect.catalog import Dataset
from shared.store import storage


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as instance:
        yield instance


@pytest.fixture
def storage_env(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Azurite:
    """Point the app's storage settings at the test Azurite (connection-string form)."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    for name in ("AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__queueServiceUri", "O365_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    storage.reset_caches()
    return azurite


@pytest.fixture
def tenant_id() -> str:
    """A fresh tenant id per test: tests share the Azurite account but never each other's data."""
    return str(uuid.uuid4())


def pytest_configure(config: pytest.Config) -> None:
    # Tests must never read a developer's local.settings.json.
    os.environ["O365MON_LOCAL_SETTINGS"] = os.devnull


def store_snapshot(tenant_id: str, report: Dataset, rows: list[list], refresh_date: str) -> None:
    """Store rows as a collection would (snapshot + per-mode summaries), without going through Graph."""
    from shared.collect.collector import store_rows

    store_rows(tenant_id, report, rows, refresh_date=refresh_date)


def use_simulator(monkeypatch: pytest.MonkeyPatch, sim: object, client_id: str, secret: str) -> None:
    """Point the app's Graph and credential settings at a running Graph simulator."""
    monkeypatch.setenv("GRAPH_ENDPOINT", sim.graph_endpoint)
    monkeypatch.setenv("LOGIN_ENDPOINT", sim.login_endpoint)
    monkeypatch.setenv("O365_CA_BUNDLE", str(sim.ca_path))
    monkeypatch.setenv("O365_CLIENT_ID", client_id)
    monkeypatch.setenv("O365_CLIENT_SECRET", secret)


# The reference's observed Centreon data and output (email-activity: 3 users over D7, 2 active on 2024-01-15).
CENTREON_ROWS = [
    ["alice@contoso.com", "2024-01-15", 4, 3, 10, 7],
    ["bob@contoso.com", "2024-01-15", 9, 9, 9, 7],
    ["carol@contoso.com", "2024-01-10", 1, 1, 1, 7],
    ["alice@contoso.com", "2024-01-15", 6, 20, 10, 1],
    ["bob@contoso.com", "2024-01-15", 4, 3, 5, 1],
]
CENTREON_OUTPUT = (
    "OK: Active users on 2024-01-15 : 2/3 (66.67%) - Total (active users) Send Count: 10, Receive Count: 23, "
    "Read Count: 15 | 'perfdate'=1705320000;;;; 'active_users'=2users;;;0;3 'total_send_count'=10;;;0; "
    "'total_receive_count'=23;;;0; 'total_read_count'=15;;;0;\n"
)
FUNCTION_KEY, MASTER_KEY = "fk-test-0123456789abcdef", "mk-test-0123456789abcdef"


@pytest.fixture
def served_app(storage_env, tenant_id: str) -> Iterator[tuple[str, str]]:
    """The real function app served by the local runner over Azurite, with the observed data stored for a
    tenant (domain `<first 8 chars of its id>.contoso.com`); yields (base URL, tenant id)."""
    import function_app
    from devtools.azurite import free_port
    from devtools.runner import LocalRunner
    from shared.collect.catalog import EMAIL_ACTIVITY
    from shared.store import tenants

    tenants.add(tenants.Tenant(tenant_id, "Contoso", [f"{tenant_id[:8]}.contoso.com"]))
    store_snapshot(tenant_id, EMAIL_ACTIVITY, CENTREON_ROWS, "2024-01-15")
    port = free_port()
    host_json = Path(function_app.__file__).with_name("host.json")
    runner = LocalRunner(function_app.app, host_json, port=port, function_key=FUNCTION_KEY, master_key=MASTER_KEY)
    runner.start()
    try:
        yield f"http://127.0.0.1:{port}", tenant_id
    finally:
        runner.stop()
