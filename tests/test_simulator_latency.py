"""The simulator's Graph latency and report throttling: off by default, realistic on request.

These test the simulator's behaviour (a delay is applied, a budget runs out), not the speed of our code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.simulator import latency as latency_module
from devtools.simulator.cli import _parser, start_from_args
from devtools.simulator.latency import (
    REPORT_LIMIT_PER_APP,
    REPORT_LIMIT_PER_TENANT,
    Latency,
    family,
    realistic_options,
)
from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from tests.test_simulator import raw_request, sync_credential

APPS = [f"cccccccc-1111-2222-3333-00000000000{n}" for n in range(3)]
SECRET = "latency-test-secret"
CONTOSO = SampleTenant.generate(1, 20)
FABRIKAM = SampleTenant.generate(2, 10)
EMAIL = "/v1.0/reports/getEmailActivityUserDetail(period='D7')"
MAILBOX = "/v1.0/reports/getMailboxUsageDetail(period='D7')"


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve([CONTOSO, FABRIKAM], {app: AppCredential(secret=SECRET) for app in APPS})


@pytest.fixture(autouse=True)
def _clean(sim: GraphSimulator) -> Iterator[None]:
    yield
    sim.reset()


@pytest.fixture(scope="module")
def tokens(sim: GraphSimulator) -> dict[tuple[str, str], dict[str, str]]:
    """A bearer header per (app, tenant id)."""
    headers = {}
    for app in APPS:
        for tenant in (CONTOSO, FABRIKAM):
            credential = sync_credential(sim, tenant.tenant_id, SECRET, client_id=app)
            token = credential.get_token(sim.graph_endpoint + "/.default").token
            headers[(app, tenant.tenant_id)] = {"Authorization": f"Bearer {token}"}
    return headers


def statuses(sim: GraphSimulator, path: str, auth: dict[str, str], count: int) -> list[int]:
    return [raw_request(sim.graph_endpoint + path, headers=auth)[0] for _ in range(count)]


# ------------------------------------------------------------------ latency


def test_off_by_default_no_added_delay(sim: GraphSimulator, tokens: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(latency_module.time, "sleep", slept.append)
    fresh = GraphSimulator([], {}, Path("unused"))
    assert (fresh.latency, fresh.throttle_limit, fresh.tenant_throttle_limit) == (None, None, None)
    auth = tokens[(APPS[0], CONTOSO.tenant_id)]
    assert statuses(sim, EMAIL, auth, 20) == [302] * 20  # nor any throttling
    assert statuses(sim, "/v1.0/admin/reportSettings", auth, 1) == [200]
    assert slept == []


def test_delays_drawn_within_each_familys_bounds() -> None:
    lat = Latency(scale=0.01)
    assert lat.bounds("report") == pytest.approx((0.01, 0.05))
    assert lat.bounds("json") == pytest.approx((0.002, 0.01))
    assert lat.bounds("token") == pytest.approx((0.001, 0.005))
    # A download: a base plus its size at the configured rate (10 MB at 10 MB/s: one more second, scaled).
    assert lat.bounds("download", 10 * 1024 * 1024) == pytest.approx((0.011, 0.015))
    for name in ("report", "json", "token"):
        low, high = lat.bounds(name)
        assert all(low <= lat.draw(name) <= high for _ in range(200))
    with pytest.raises(ValueError, match="unknown latency family"):
        lat.draw("beta")
    with pytest.raises(ValueError, match="low <= high"):
        Latency(report=(5.0, 1.0))
    assert [family("login", 200), family("download", 200), family("graph", 302), family("graph", 429)] == [
        "token",
        "download",
        "report",
        "json",
    ]


def test_same_seed_same_delays_families_independent() -> None:
    first, second, other = Latency(seed=7), Latency(seed=7), Latency(seed=8)
    reports = [first.draw("report") for _ in range(5)]
    second.draw("json")  # another family in between does not shift the report sequence
    assert [second.draw("report") for _ in range(5)] == reports
    assert [other.draw("report") for _ in range(5)] != reports
    first.restart()
    assert [first.draw("report") for _ in range(5)] == reports


def test_latency_applied_to_requests_when_on(
    sim: GraphSimulator, tokens: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    real_sleep = time.sleep

    def record(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(latency_module.time, "sleep", record)
    sim.latency = Latency(report=(1.0, 2.0), json=(0.2, 0.4), download_base=(0.1, 0.2), scale=0.05)
    auth = tokens[(APPS[0], CONTOSO.tenant_id)]
    started = time.monotonic()
    status, headers, _ = raw_request(sim.graph_endpoint + EMAIL, headers=auth)
    elapsed = time.monotonic() - started
    assert status == 302 and elapsed >= 0.05  # the report family's minimum, scaled
    status, _, body = raw_request(headers["Location"])
    assert status == 200
    assert raw_request(sim.graph_endpoint + "/v1.0/admin/reportSettings", headers=auth)[0] == 200
    report_delay, download_delay, json_delay = slept
    assert 0.05 <= report_delay <= 0.1
    low, high = sim.latency.bounds("download", len(body))
    assert low <= download_delay <= high and low >= 0.005
    assert 0.01 <= json_delay <= 0.02
    # The control routes answer at once.
    assert raw_request(sim.graph_endpoint + "/_sim/faults")[0] == 200 and len(slept) == 3


# ------------------------------------------------------------------ throttling


def test_fifteenth_report_request_in_a_window_is_429_with_retry_after(sim: GraphSimulator, tokens: dict) -> None:
    for name, value in realistic_options().items():
        if name != "latency":
            setattr(sim, name, value)
    auth = tokens[(APPS[0], CONTOSO.tenant_id)]
    assert statuses(sim, EMAIL, auth, REPORT_LIMIT_PER_APP) == [302] * 14
    status, headers, body = raw_request(sim.graph_endpoint + EMAIL, headers=auth)
    assert status == 429 and headers["Content-Type"] == "application/json"
    assert 590 <= int(headers["Retry-After"]) <= 600
    error = json.loads(body)["error"]
    assert (error["code"], error["message"]) == ("TooManyRequests", "Please retry again later.")
    assert error["innerError"]["status"] == "429"
    # Each report API has its own budget; so has each tenant.
    assert statuses(sim, MAILBOX, auth, 14) == [302] * 14
    assert statuses(sim, EMAIL, tokens[(APPS[0], FABRIKAM.tenant_id)], 1) == [302]


def test_forty_per_tenant_for_all_apps(sim: GraphSimulator, tokens: dict) -> None:
    sim.throttle_limit, sim.tenant_throttle_limit = REPORT_LIMIT_PER_APP, REPORT_LIMIT_PER_TENANT
    first, second, third = (tokens[(app, CONTOSO.tenant_id)] for app in APPS)
    assert statuses(sim, EMAIL, first, 14) + statuses(sim, EMAIL, second, 14) == [302] * 28
    assert statuses(sim, EMAIL, third, 12) == [302] * 12
    # The third app has used 12 of its 14, but the tenant's 40 for this report are gone.
    status, headers, _ = raw_request(sim.graph_endpoint + EMAIL, headers=third)
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert statuses(sim, MAILBOX, third, 1) == [302]
    assert statuses(sim, EMAIL, tokens[(APPS[2], FABRIKAM.tenant_id)], 1) == [302]


def test_window_scale_shortens_the_windows(sim: GraphSimulator, tokens: dict) -> None:
    options = realistic_options(latency_scale=0.0, window_scale=0.0005)  # 0.3 s windows
    assert options["service_throttle_window"] == pytest.approx(0.03)
    for name, value in options.items():
        setattr(sim, name, value)
    auth = tokens[(APPS[1], CONTOSO.tenant_id)]
    assert statuses(sim, EMAIL, auth, 15) == [302] * 14 + [429]
    time.sleep(0.35)
    assert statuses(sim, EMAIL, auth, 1) == [302]


# ------------------------------------------------------------------ the command line


def test_realistic_option_turns_both_on(tmp_path: Path) -> None:
    args = vars(_parser().parse_args(["--realistic", "--latency-scale", "0.01", "--window-scale", "0.1"]))
    assert (args["realistic"], args["latency_scale"], args["window_scale"]) == (True, 0.01, 0.1)
    sim = start_from_args(state_dir=tmp_path, realistic=True, latency_scale=0.01, window_scale=0.1, seed=3)
    try:
        assert sim.latency == Latency(scale=0.01, seed=3)
        assert (sim.throttle_limit, sim.tenant_throttle_limit, sim.service_throttle_limit) == (14, 40, 240)
        assert sim.throttle_window == pytest.approx(60.0)
    finally:
        sim.stop()
    sim = start_from_args(state_dir=tmp_path, realistic=True, throttle_limit=5)
    try:
        assert sim.throttle_limit == 5 and sim.latency is not None
    finally:
        sim.stop()
    plain = start_from_args(state_dir=tmp_path)
    try:
        assert (plain.latency, plain.throttle_limit, plain.tenant_throttle_limit) == (None, None, None)
    finally:
        plain.stop()
