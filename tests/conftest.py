"""Shared fixtures: one real Azurite per test run (free ports, loopback, in memory); helpers are in tests/support."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.azurite import Azurite
from devtools.simulator import GraphSimulator
from shared.store import storage
from tests.support import CENTREON_ROWS, FUNCTION_KEY, MASTER_KEY, store_snapshot

pytest_plugins = ("pytester",)  # tests/test_openapi.py runs an inner session to show a mismatch fails the run


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


# --- OpenAPI: every exchange the suite makes with the function app validates against its description ----------
_exchanges: list = []  # (test node id, devtools.runner.Exchange) not yet validated
_mismatches: list[str] = []
_current_test = ["(session fixtures)"]


def _record_exchange(runner, exchange) -> None:
    import sys

    app_module = sys.modules.get("function_app")
    if app_module is not None and runner.app is app_module.app:  # runners of other apps serve other routes
        _exchanges.append((_current_test[0], exchange))


@functools.cache
def _exchange_validator():
    import function_app  # noqa: F401  (its blueprints add their routes' descriptions)
    from shared.api.openapi import build
    from tests.support.openapi_validation import ExchangeValidator

    return ExchangeValidator(build())


def _validate_recorded() -> list[str]:
    found = []
    while _exchanges:
        test, exchange = _exchanges.pop(0)
        found += [f"{test}: {m}" for m in _exchange_validator().mismatches(exchange)]
    return found


@pytest.fixture(autouse=True)
def _openapi_conformance(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test (at teardown) on any of its exchanges that the OpenAPI description does not allow."""
    _current_test[0] = request.node.nodeid
    yield
    found = _validate_recorded()
    _current_test[0] = "(session fixtures)"
    if found:
        _mismatches.extend(found)
        pytest.fail("exchanges outside the OpenAPI description:\n" + "\n".join(found), pytrace=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    from devtools.runner import EXCHANGE_OBSERVERS

    EXCHANGE_OBSERVERS.append(_record_exchange)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    found = _validate_recorded()  # what session fixtures exchanged outside any test
    if found:
        _mismatches.extend(found)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _mismatches:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", f"{len(_mismatches)} exchanges outside the OpenAPI description", red=True)
            for line in _mismatches:
                reporter.write_line(line)
