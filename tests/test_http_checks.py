"""The HTTP check function through the local runner: keys, status codes, text and JSON bodies, exit header."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support import CENTREON_OUTPUT, FUNCTION_KEY

OBSERVED = CENTREON_OUTPUT


@pytest.fixture
def server(served_app: tuple[str, str]) -> tuple[str, str]:
    return served_app


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
