"""No HTTP answer is a 500 with an empty body: every route says why it failed (UNKNOWN text with exit code 3
for checks, JSON {"error"} for admin routes), in the user's terms, and logs one line plus a short traceback."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import sys

import pytest

from tests.support import FUNCTION_KEY, MASTER_KEY


def request(base: str, method: str, path: str, key: str = MASTER_KEY, body: bytes | None = None, headers=None):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request(method, path, body=body, headers={"x-functions-key": key, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def test_a_slash_in_a_tenant_key_is_refused_up_front(served_app) -> None:
    base, _ = served_app
    status, _, body = request(base, "GET", "/api/review/tenants/a%2Fb/contacts/x")
    assert status == 400
    assert json.loads(body) == {
        "error": "tenant cannot contain '/' (storage keys refuse / \\ # ? and control characters)"
    }


def test_a_control_character_in_a_contact_key_is_refused(served_app) -> None:
    base, tenant_id = served_app
    status, _, body = request(base, "GET", f"/api/review/tenants/{tenant_id}/contacts/a%23b%0A")
    assert status == 400
    assert json.loads(body)["error"].startswith("contact id cannot contain '\\n' '#'")


@pytest.mark.parametrize("limit", ["-1", "abc", "100000"])
def test_sync_logs_limit_out_of_range_says_what_is_expected(served_app, limit: str) -> None:
    base, tenant_id = served_app
    status, _, body = request(base, "GET", f"/api/sync/logs?tenant={tenant_id}&limit={limit}")
    assert status == 400
    assert json.loads(body) == {"error": f"limit must be a whole number from 1 to 1000, got '{limit}'"}


def test_accept_index_that_is_not_a_number_names_the_parameter(served_app) -> None:
    base, tenant_id = served_app
    status, _, body = request(base, "POST", f"/api/review/tenants/{tenant_id}/accept?index=first")
    assert status == 400
    error = json.loads(body)["error"]
    assert error == "index must be a whole number from 0 to 99, got 'first'"
    assert "invalid literal" not in error


def test_match_without_org_says_what_is_missing(served_app) -> None:
    base, tenant_id = served_app
    status, _, body = request(base, "POST", f"/api/review/tenants/{tenant_id}/match")
    assert (status, json.loads(body)) == (400, {"error": "match needs ?org=<organization id>"})


def _deep(n: int) -> int:
    return _deep(n + 1) + 1


def test_unexpected_check_error_is_an_unknown_with_a_reason_and_a_short_log(served_app, monkeypatch, caplog) -> None:
    from shared.checks import service as check_service

    def explode(*args, **kwargs):
        return _deep(0)

    monkeypatch.setattr(check_service, "_answer", explode)
    base, tenant_id = served_app
    with caplog.at_level(logging.INFO):
        status, headers, body = request(
            base, "GET", f"/api/checks/exchange/email-activity?tenant={tenant_id}", key=FUNCTION_KEY
        )
    assert status == 500
    assert headers["X-Nagios-Exit-Code"] == "3"
    assert body.decode() == "UNKNOWN: internal error (RecursionError); the function log has the details \n"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].getMessage().startswith("GET check failed: RecursionError: maximum recursion depth")
    assert len(errors[0].getMessage().splitlines()) <= 45  # the 3,000-line traceback is cut
    assert sys.getrecursionlimit() >= 1000


def test_unexpected_check_error_in_json_form(served_app, monkeypatch) -> None:
    from shared.checks import service as check_service

    monkeypatch.setattr(check_service, "_answer", lambda *a, **k: 1 / 0)
    base, tenant_id = served_app
    status, headers, body = request(
        base, "GET", f"/api/checks/exchange/email-activity?tenant={tenant_id}", key=FUNCTION_KEY,
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert (status, headers["X-Nagios-Exit-Code"]) == (500, "3")
    doc = json.loads(body)
    assert (doc["status"], doc["exit_code"]) == ("UNKNOWN", 3)
    assert doc["output"] == "UNKNOWN: internal error (ZeroDivisionError); the function log has the details"


def test_unexpected_admin_error_is_json_with_a_reason(served_app, monkeypatch) -> None:
    from shared.matching import review

    def explode(*args, **kwargs):
        raise RuntimeError("AccountKey=c2VjcmV0 broke")

    monkeypatch.setattr(review, "list_items", explode)
    base, _ = served_app
    status, headers, body = request(base, "GET", "/api/review/items")
    assert status == 500
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"error": "internal error (RuntimeError); the function log has the details"}


def test_admin_route_on_refused_storage_says_storage_unreachable(served_app, monkeypatch) -> None:
    from devtools.azurite import free_port
    from shared.store import storage
    from tests.test_storage_timeouts import _connection_string

    base, tenant_id = served_app
    port = free_port()
    monkeypatch.setenv("AzureWebJobsStorage", _connection_string(port))
    storage.reset_caches()
    try:
        status, _, body = request(base, "GET", f"/api/sync/logs?tenant={tenant_id}")
    finally:
        monkeypatch.undo()
        storage.reset_caches()
    assert status == 503
    assert json.loads(body) == {"error": f"storage unreachable: connection refused (127.0.0.1:{port})"}


def test_head_health_answers_200(served_app) -> None:
    base, _ = served_app
    status, headers, body = request(base, "HEAD", "/api/health", key="")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == "2"


def test_local_runner_listen_backlog_holds_a_burst_of_connections(served_app) -> None:
    """The stdlib default backlog is 5: a burst of 50 connects overflowed it and waited for SYN retransmits."""
    import devtools.runner as runner_module

    assert runner_module.LISTEN_BACKLOG >= 128
    base, _ = served_app
    host, port = base.removeprefix("http://").split(":")
    # The kernel reports a listening socket's backlog as its send queue size (ss -lnt: Send-Q).
    backlog = _listen_backlog(int(port))
    if backlog is not None:
        assert backlog >= 128
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(50)]
    for s in socks:
        s.close()


def _listen_backlog(port: int) -> int | None:
    import shutil
    import subprocess

    if not shutil.which("ss"):
        return None
    out = subprocess.run(["ss", "-lntH", f"sport = :{port}"], capture_output=True, text=True).stdout.split()
    return int(out[2]) if len(out) > 2 else None
