"""Shared fixtures: one real Azurite per test run (free ports, loopback, in memory)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devtools.azurite import Azurite
from shared import storage
from shared.reports.catalog import ReportDef


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


def store_snapshot(tenant_id: str, report: ReportDef, rows: list[list], refresh_date: str) -> None:
    """Store rows as a collection would (snapshot + per-mode summaries), without going through Graph."""
    from shared.collector import store_rows

    store_rows(tenant_id, report, rows, refresh_date=refresh_date)


def use_simulator(monkeypatch: pytest.MonkeyPatch, sim: object, client_id: str, secret: str) -> None:
    """Point the app's Graph and credential settings at a running Graph simulator."""
    monkeypatch.setenv("GRAPH_ENDPOINT", sim.graph_endpoint)
    monkeypatch.setenv("LOGIN_ENDPOINT", sim.login_endpoint)
    monkeypatch.setenv("O365_CA_BUNDLE", str(sim.ca_path))
    monkeypatch.setenv("O365_CLIENT_ID", client_id)
    monkeypatch.setenv("O365_CLIENT_SECRET", secret)
