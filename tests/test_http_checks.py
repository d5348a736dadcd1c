"""The HTTP check function through the local runner: keys, status codes, text and JSON bodies, exit header."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

import function_app
from devtools.azurite import free_port
from devtools.runner import LocalRunner
from shared import tenants
from shared.reports.catalog import EMAIL_ACTIVITY
from tests.conftest import store_snapshot

FUNCTION_KEY, MASTER_KEY = "fk-test-0123456789", "mk-test-0123456789"
ROWS = [  # the reference's observed data: 3 users over D7, 2 active on 2024-01-15
    ["alice@contoso.com", "2024-01-15", 4, 3, 10, 7],
    ["bob@contoso.com", "2024-01-15", 9, 9, 9, 7],
    ["carol@contoso.com", "2024-01-10", 1, 1, 1, 7],
    ["alice@contoso.com", "2024-01-15", 6, 20, 10, 1],
    ["bob@contoso.com", "2024-01-15", 4, 3, 5, 1],
]
OBSERVED = (
    "OK: Active users on 2024-01-15 : 2/3 (66.67%) - Total (active users) Send Count: 10, Receive Count: 23, "
    "Read Count: 15 | 'perfdate'=1705320000;;;; 'active_users'=2users;;;0;3 'total_send_count'=10;;;0; "
    "'total_receive_count'=23;;;0; 'total_read_count'=15;;;0;\n"
)


@pytest.fixture
def server(storage_env, tenant_id: str) -> Iterator[tuple[str, str]]:
    tenants.add(tenants.Tenant(tenant_id, "Contoso", [f"{tenant_id[:8]}.contoso.com"]))
    store_snapshot(tenant_id, EMAIL_ACTIVITY, ROWS, "2024-01-15")
    port = free_port()
    runner = LocalRunner(
        function_app.app, function_app_host_json(), port=port, function_key=FUNCTION_KEY, master_key=MASTER_KEY
    )
    runner.start()
    try:
        yield f"http://127.0.0.1:{port}", tenant_id
    finally:
        runner.stop()


def function_app_host_json():
    from pathlib import Path

    return Path(function_app.__file__).with_name("host.json")


def get(url: str, key: str | None = FUNCTION_KEY, accept: str = "") -> tuple[int, dict, str]:
    headers = {"Accept": accept} if accept else {}
    if key:
        headers["x-functions-key"] = key
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_observed_centreon_output_byte_identical_over_http(server) -> None:
    base, tenant = server
    status, headers, body = get(f"{base}/api/checks/exchange/email-activity?tenant={tenant}")
    assert (status, headers["X-Nagios-Exit-Code"], body) == (200, "0", OBSERVED)
    assert headers["Content-Type"].startswith("text/plain")


def test_centreon_plugin_name_and_domain_work(server) -> None:
    base, tenant = server
    plugin = "cloud::microsoft::office365::exchange::plugin"
    url = f"{base}/api/checks/{plugin}/email-activity?tenant={tenant[:8]}.contoso.com"
    assert get(url)[2] == OBSERVED


def test_key_required(server) -> None:
    base, tenant = server
    assert get(f"{base}/api/checks/exchange/email-activity?tenant={tenant}", key=None)[0] == 401
    assert get(f"{base}/api/checks/exchange/email-activity?tenant={tenant}", key="wrong")[0] == 401
    assert get(f"{base}/api/health", key=None)[0] == 200


def test_json_answer(server) -> None:
    base, tenant = server
    status, _, body = get(
        f"{base}/api/checks/exchange/email-activity?tenant={tenant}&warning-active-users=90:",
        accept="application/json",
    )
    doc = json.loads(body)
    assert status == 200 and doc["status"] == "WARNING" and doc["exit_code"] == 1
    assert doc["output"].startswith("WARNING: Active users on 2024-01-15 : 2/3 (66.67%)")
    assert {"label": "active_users", "value": 2}.items() <= doc["perfdata"][1].items()


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        (
            "exchange/email-activity?tenant={t}&warning-active-users=abc",
            400,
            "UNKNOWN: Wrong warning-active-users threshold 'abc'.",
        ),
        ("exchange/email-activity?tenant={t}&no-such-option=1", 400, "UNKNOWN: Unknown option: --no-such-option"),
        ("exchange/email-activity?tenant={t}&filter-user=(", 400, "UNKNOWN:"),
        ("exchange/no-such-mode?tenant={t}", 404, "UNKNOWN:"),
        ("nosuchplugin/email-activity?tenant={t}", 404, "UNKNOWN:"),
        ("exchange/email-activity?tenant=00000000-0000-0000-0000-000000000000", 404, "UNKNOWN: unknown tenant"),
        ("exchange/email-activity", 400, "UNKNOWN: Need to specify --tenant option."),
    ],
)
def test_bad_requests_answer_unknown(server, path: str, status: int, text: str) -> None:
    base, tenant = server
    code, headers, body = get(f"{base}/api/checks/{path.format(t=tenant)}")
    assert code == status and headers["X-Nagios-Exit-Code"] == "3"
    assert body.startswith(text)
