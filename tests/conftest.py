"""Shared fixtures: one real Azurite per test run (free ports, loopback, in memory); helpers are in tests/support."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.azurite import Azurite
from devtools.simulator import GraphSimulator
from shared.store import storage
from tests.support import CENTREON_ROWS, FUNCTION_KEY, MASTER_KEY, store_snapshot


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as instance:
        yield instance


@pytest.fixture(scope="session")
def graph_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphSimulator]:
    """One Graph simulator for the run: a module serves its tenants and apps with `graph_simulator.serve()`,
    and calls `reset()` between tests instead of undoing its changes by hand."""
    with GraphSimulator([], {}, tmp_path_factory.mktemp("graph-sim")) as sim:
        yield sim


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
