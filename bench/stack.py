"""The local stack the benchmarks measure against: Azurite + Graph simulator + registered sample tenants."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from devtools.azurite import Azurite
from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant

CLIENT_ID = "99999999-8888-7777-6666-555555555555"
SECRET = "bench-secret"


@contextlib.contextmanager
def storage_alone() -> Iterator[Azurite]:
    """An Azurite of its own with the app pointed at it (no Graph simulator): for benchmarks of storage reads."""
    from shared.store import storage

    with Azurite() as azurite:
        os.environ["AzureWebJobsStorage"] = azurite.connection_string
        os.environ["O365MON_LOCAL_SETTINGS"] = os.devnull
        storage.reset_caches()
        yield azurite


def stack_settings(azurite: Azurite, sim: GraphSimulator) -> dict[str, str]:
    """The app settings that point o365mon at this Azurite and this Graph simulator."""
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "GRAPH_ENDPOINT": sim.graph_endpoint,
        "LOGIN_ENDPOINT": sim.login_endpoint,
        "O365_CA_BUNDLE": str(sim.ca_path),
        "O365_CLIENT_ID": CLIENT_ID,
        "O365_CLIENT_SECRET": SECRET,
        "O365MON_LOCAL_SETTINGS": os.devnull,
        "COLLECT_SCHEDULE": "0 0 */6 * * *",
        "HEALTH_SCHEDULE": "0 */5 * * * *",
        "SYNC_SCHEDULE": "0 0 */6 * * *",
    }


@contextlib.contextmanager
def local_stack(sizes: list[int], render_cache_mb: int = 0) -> Iterator[tuple[list[SampleTenant], GraphSimulator]]:
    """Start everything, point the app settings at it, register one tenant per size."""
    from shared.store import storage, tenants

    sample = [SampleTenant.generate(seed, users) for seed, users in enumerate(sizes, start=1)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Azurite() as azurite,
        GraphSimulator(
            tenants=sample,
            apps={CLIENT_ID: AppCredential(secret=SECRET)},
            state_dir=Path(tmp),
            render_cache_mb=render_cache_mb,
        ) as sim,
    ):
        os.environ.update(stack_settings(azurite, sim))
        storage.reset_caches()
        for t in sample:
            tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
        yield sample, sim


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]
