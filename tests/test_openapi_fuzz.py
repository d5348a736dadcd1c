"""A bounded property-based run (schemathesis) over the check and admin routes, from the OpenAPI description,
against the function app in the local runner over Azurite, loopback only: no 500 and no answer outside the
description (status codes, content types, headers, bodies). Derandomised, so CI runs the same cases each time.

The data: one simulator tenant (seed 7601) collected from the Graph simulator, so that the checks run on real
stored reports, and the sample documentation imported for the admin routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import function_app
from devtools.azurite import Azurite, free_port
from devtools.runner import LocalRunner
from devtools.simulator import GraphSimulator
from devtools.simulator.server import AppCredential
from devtools.simulator.tenants import SampleTenant
from shared.api.openapi import build
from tests.support import FUNCTION_KEY, MASTER_KEY, use_simulator

SEED = 7601
CLIENT_ID = "7601aaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "fuzz~secret~7601"
# A few hundred cases in all: each operation gets this many (fewer where its inputs are few).
EXAMPLES_PER_OPERATION = 8


def _config() -> SchemathesisConfig:
    config = SchemathesisConfig(seed=SEED)
    # The coverage phase would add every boundary value of every option (hundreds of cases per check mode):
    # the bounded run is the fuzzing phase's EXAMPLES_PER_OPERATION, positive and negative.
    config.projects.default.phases.coverage.enabled = False
    return config


schema = schemathesis.openapi.from_dict(build(), config=_config()).exclude(path_regex=r"^/api/(health|openapi\.json)$")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_target(azurite: Azurite, graph_simulator: GraphSimulator) -> Iterator[tuple[str, str]]:
    """The app served over Azurite with one collected tenant and the sample documentation; (base URL, domain)."""
    from shared.collect.collector import collect_all
    from shared.docs import transfer
    from shared.docs.tables import TableDocumentationStore
    from shared.store import storage, tenants

    sample = SampleTenant.generate(SEED, 12)
    sim = graph_simulator.serve([sample], {CLIENT_ID: AppCredential(secret=SECRET)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AzureWebJobsStorage", azurite.connection_string)
        for name in ("AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__queueServiceUri", "O365_TENANT_ID"):
            mp.delenv(name, raising=False)
        use_simulator(mp, sim, CLIENT_ID, SECRET)
        storage.reset_caches()
        tenants.add(tenants.Tenant(sample.tenant_id, sample.display_name, [sample.domain]))
        for timer in ("reports", "health"):
            asyncio.run(collect_all(sample.tenant_id, schedule=timer))
        docs = Path(function_app.__file__).with_name("devtools") / "sample_docs" / "documentation.json"
        transfer.import_text(TableDocumentationStore(), docs.read_text(encoding="utf-8"), "json")
        port = free_port()
        host_json = Path(function_app.__file__).with_name("host.json")
        runner = LocalRunner(
            function_app.app, host_json, port=port, function_key=FUNCTION_KEY, master_key=MASTER_KEY,
            enable_timers=False, enable_queues=False,
        )  # fmt: skip
        with runner:
            yield f"http://127.0.0.1:{port}", sample.domain
        sim.reset()
        storage.reset_caches()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_answer_outside_the_description(case: schemathesis.Case, fuzz_target) -> None:
    base, domain = fuzz_target
    query = case.query if isinstance(case.query, dict) else None
    # Most cases name the collected tenant, so that the checks run on stored data rather than answer 404.
    if query is not None and isinstance(query.get("tenant"), str) and len(query["tenant"]) % 4 != 3:
        query["tenant"] = domain
    case.call_and_validate(base_url=base, headers={"x-functions-key": MASTER_KEY}, checks=CHECKS, timeout=15)
