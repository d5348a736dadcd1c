"""The Graph simulator, exercised by the real azure-identity and msgraph-sdk clients."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from devtools.simulator import certs
from devtools.simulator.cli import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, start_from_args
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import (
    EMAIL_ACTIVITY_HEADER,
    STANDARD_QUOTAS,
    SampleTenant,
    email_activity_csv,
    mailbox_usage_csv,
)

CLIENT_ID = "aaaaaaaa-1111-2222-3333-444444444444"
CERT_CLIENT_ID = "bbbbbbbb-1111-2222-3333-444444444444"
SECRET = "Sim~secret+with/odd=chars"
REFRESH = dt.date(2024, 5, 1)
BOM = b"\xef\xbb\xbf"
# The headers as Graph sends them (verbatim, not derived from the simulator's own constants).
EMAIL_HEADER_LINE = (
    b"Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,"
    b"Last Activity Date,Send Count,Receive Count,Read Count,Meeting Created Count,"
    b"Meeting Interacted Count,Assigned Products,Report Period"
)
MAILBOX_HEADER_LINE = (
    b"Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Created Date,"
    b"Last Activity Date,Item Count,Storage Used (Byte),Issue Warning Quota (Byte),"
    b"Prohibit Send Quota (Byte),Prohibit Send/Receive Quota (Byte),Deleted Item Count,"
    b"Deleted Item Size (Byte),Deleted Item Quota (Byte),Has Archive,Report Period"
)

CONTOSO = SampleTenant.generate(1, 40, refresh_date=REFRESH)
FABRIKAM = SampleTenant.generate(2, 25, concealed=True, refresh_date=REFRESH)
EMPTY = SampleTenant.generate(3, 0)


@pytest.fixture(scope="module")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("client") / "client.pem"
    return path, certs.make_client_certificate(path)


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator, client_cert: tuple[Path, str]) -> GraphSimulator:
    cert_path, thumbprint = client_cert
    apps = {
        CLIENT_ID: AppCredential(secret=SECRET),
        CERT_CLIENT_ID: AppCredential(certificate_pem=cert_path.read_bytes()),
    }
    return graph_simulator.serve([CONTOSO, FABRIKAM, EMPTY], apps)


@pytest.fixture(autouse=True)
def _clean(sim: GraphSimulator) -> Iterator[None]:
    yield
    sim.reset()


def sync_credential(
    sim: GraphSimulator, tenant: str, secret: str = SECRET, client_id: str = CLIENT_ID
) -> ClientSecretCredential:
    return ClientSecretCredential(
        tenant,
        client_id,
        secret,
        authority=sim.login_endpoint,
        disable_instance_discovery=True,
        connection_verify=str(sim.ca_path),
    )


def with_client(sim: GraphSimulator, tenant: SampleTenant, call: Callable[[GraphServiceClient], Awaitable[Any]]) -> Any:
    """Run one SDK call the way the app does: async credential, explicit scope, base URL set afterwards."""

    async def run() -> Any:
        cred = AsyncClientSecretCredential(
            tenant.tenant_id,
            CLIENT_ID,
            SECRET,
            authority=sim.login_endpoint,
            disable_instance_discovery=True,
            connection_verify=str(sim.ca_path),
        )
        async with cred:
            client = GraphServiceClient(credentials=cred, scopes=[sim.graph_endpoint + "/.default"])
            client.request_adapter.base_url = sim.graph_endpoint + "/v1.0"
            return await call(client)

    return asyncio.run(run())


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def raw_request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
    """One plain HTTP request without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def bearer(sim: GraphSimulator, tenant: SampleTenant = CONTOSO) -> dict[str, str]:
    token = sync_credential(sim, tenant.tenant_id).get_token(sim.graph_endpoint + "/.default").token
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ login


def test_client_secret_credential_gets_a_token(sim: GraphSimulator) -> None:
    token = sync_credential(sim, CONTOSO.tenant_id).get_token(sim.graph_endpoint + "/.default")
    assert token.token and token.expires_on > time.time() + 3000
    # By domain as well, after OIDC discovery on the https authority.
    assert sync_credential(sim, CONTOSO.domain).get_token("https://graph.microsoft.com/.default").token
    assert sim.request_count("/v2.0/.well-known/openid-configuration") == 2
    token_posts = [r for r in sim.request_log if r.path.endswith("/oauth2/v2.0/token")]
    assert len(token_posts) == 2
    assert all("x-client-sku" in r.headers for r in token_posts)


def test_wrong_secret_unknown_app_and_bad_scope(sim: GraphSimulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        sync_credential(sim, CONTOSO.tenant_id, "wrong").get_token(sim.graph_endpoint + "/.default")
    unknown_app = ClientSecretCredential(
        CONTOSO.tenant_id,
        "99999999-9999-9999-9999-999999999999",
        SECRET,
        authority=sim.login_endpoint,
        disable_instance_discovery=True,
        connection_verify=str(sim.ca_path),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        unknown_app.get_token(sim.graph_endpoint + "/.default")
    with pytest.raises(ClientAuthenticationError, match="AADSTS1002012"):
        sync_credential(sim, CONTOSO.tenant_id).get_token(sim.graph_endpoint + "/Reports.Read.All")
    # No secret in what the simulator recorded.
    assert SECRET not in repr(sim.request_log) and "wrong" not in repr(sim.request_log)


def test_unknown_tenant(sim: GraphSimulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS90002|authority configuration"):
        sync_credential(sim, "nosuchtenant.com").get_token(sim.graph_endpoint + "/.default")
    # The discovery document itself answers like Entra ID.
    conn = http.client.HTTPSConnection(
        "127.0.0.1", urlsplit(sim.login_endpoint).port, context=certs.client_ssl_context(sim.state_dir), timeout=10
    )
    conn.request("GET", "/nosuchtenant.com/v2.0/.well-known/openid-configuration")
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 400
    assert body["error"] == "invalid_tenant" and body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nosuchtenant.com' not found.")
    assert {"timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body)


def test_missing_secret_is_7000216(sim: GraphSimulator) -> None:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", urlsplit(sim.login_endpoint).port, context=certs.client_ssl_context(sim.state_dir), timeout=10
    )
    form = f"client_id={CLIENT_ID}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    conn.request(
        "POST",
        f"/{CONTOSO.tenant_id}/oauth2/v2.0/token",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 400 and body["error_codes"] == [7000216]


def test_certificate_credential(sim: GraphSimulator, client_cert: tuple[Path, str], tmp_path: Path) -> None:
    cert_path, thumbprint = client_cert
    assert re.fullmatch(r"[0-9A-F]{40}", thumbprint)
    cred = CertificateCredential(
        FABRIKAM.tenant_id,
        CERT_CLIENT_ID,
        certificate_path=str(cert_path),
        authority=sim.login_endpoint,
        disable_instance_discovery=True,
        connection_verify=str(sim.ca_path),
    )
    assert cred.get_token(sim.graph_endpoint + "/.default").token
    # A certificate the app registration does not know is refused.
    other = tmp_path / "other.pem"
    certs.make_client_certificate(other)
    stranger = CertificateCredential(
        FABRIKAM.tenant_id,
        CERT_CLIENT_ID,
        certificate_path=str(other),
        authority=sim.login_endpoint,
        disable_instance_discovery=True,
        connection_verify=str(sim.ca_path),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        stranger.get_token(sim.graph_endpoint + "/.default")


# ------------------------------------------------------------------ reports through the SDK


def test_sdk_period_report_follows_redirect_without_bearer(sim: GraphSimulator) -> None:
    data = with_client(sim, CONTOSO, lambda c: c.reports.get_email_activity_user_detail_with_period("D7").get())
    assert data.startswith(BOM + EMAIL_HEADER_LINE + b"\n")
    assert data[len(BOM) :].decode() == "".join(email_activity_csv(CONTOSO, "D7"))
    parsed = rows(data)
    assert len(parsed) == CONTOSO.users and {r["Report Period"] for r in parsed} == {"7"}
    report_req = next(r for r in sim.request_log if "getEmailActivityUserDetail(period='D7')" in r.path)
    download_req = next(r for r in sim.request_log if r.path.startswith("/data/download/"))
    assert report_req.headers["authorization"] == "<redacted>"
    assert "authorization" not in download_req.headers
    assert download_req.headers["host"].startswith("localhost:")


def test_sdk_date_report_holds_only_that_days_active_users(sim: GraphSimulator) -> None:
    data = with_client(sim, CONTOSO, lambda c: c.reports.get_email_activity_user_detail_with_date(REFRESH).get())
    assert data.startswith(BOM + EMAIL_HEADER_LINE)
    daily = rows(data)
    d7 = rows(BOM + "".join(email_activity_csv(CONTOSO, "D7")).encode())
    active = [r for r in d7 if r["Last Activity Date"] == REFRESH.isoformat()]
    assert 0.5 < len(daily) / len(d7) < 0.9
    assert [r["User Principal Name"] for r in daily] == [r["User Principal Name"] for r in active]
    assert {r["Report Period"] for r in daily} == {"1"}
    assert {r["Report Refresh Date"] for r in daily} == {REFRESH.isoformat()}


def test_sdk_mailbox_usage_and_report_settings(sim: GraphSimulator) -> None:
    data = with_client(sim, CONTOSO, lambda c: c.reports.get_mailbox_usage_detail_with_period("D7").get())
    assert data.startswith(BOM + MAILBOX_HEADER_LINE + b"\n")
    parsed = rows(data)
    assert len(parsed) == CONTOSO.users and len(parsed[0]) == 17
    settings = with_client(sim, FABRIKAM, lambda c: c.admin.report_settings.get())
    assert settings.display_concealed_names is True


def test_sdk_throttle_fault_is_retried(sim: GraphSimulator) -> None:
    sim.add_fault(Fault("throttle", tenant=CONTOSO.domain, path_contains="getMailboxUsageDetail", retry_after=1))
    started = time.monotonic()
    data = with_client(sim, CONTOSO, lambda c: c.reports.get_mailbox_usage_detail_with_period("D7").get())
    assert data.startswith(BOM + b"Report Refresh Date")
    assert time.monotonic() - started >= 1.0
    assert sim.request_count("getMailboxUsageDetail") == 2
    retried = [r for r in sim.request_log if "getMailboxUsageDetail" in r.path][1]
    assert retried.headers["retry-attempt"] == "1"
    assert sim.faults == []


def test_sdk_errors(sim: GraphSimulator) -> None:
    no_retry = RequestConfiguration(options=[RetryHandlerOption(max_retries=0)])
    too_old = REFRESH - dt.timedelta(days=40)
    with pytest.raises(ODataError) as err:
        with_client(sim, CONTOSO, lambda c: c.reports.get_email_activity_user_detail_with_date(too_old).get())
    assert err.value.response_status_code == 400 and err.value.error.code == "InvalidArgument"
    assert err.value.error.message == (
        f"Invalid date value specified: {too_old}. Only support data for the past 28 days."
    )

    sim.add_fault(Fault("forbidden"))
    with pytest.raises(ODataError) as err:
        with_client(sim, CONTOSO, lambda c: c.reports.get_mailbox_usage_detail_with_period("D7").get())
    assert (err.value.response_status_code, err.value.error.code) == (403, "S2SUnauthorized")

    sim.add_fault(Fault("throttle", times=None, retry_after=1))
    with pytest.raises(ODataError) as err:
        with_client(sim, CONTOSO, lambda c: c.reports.get_mailbox_usage_detail_with_period("D7").get(no_retry))
    assert (err.value.response_status_code, err.value.error.code) == (429, "TooManyRequests")


def test_download_faults_set_over_http(sim: GraphSimulator) -> None:
    status, _, _ = raw_request(
        sim.graph_endpoint + "/_sim/faults",
        "POST",
        {"Content-Type": "application/json"},
        json.dumps([{"kind": "not_csv"}, {"kind": "truncated", "path_contains": "getMailboxUsageDetail"}]).encode(),
    )
    assert status == 201
    html = with_client(sim, CONTOSO, lambda c: c.reports.get_email_activity_user_detail_with_period("D7").get())
    assert html == b"<html>Bad gateway</html>"
    cut = with_client(sim, CONTOSO, lambda c: c.reports.get_mailbox_usage_detail_with_period("D7").get())
    full = BOM + "".join(mailbox_usage_csv(CONTOSO, "D7")).encode()
    assert full.startswith(cut) and len(cut) < len(full) and not cut.endswith(b"\n")
    assert raw_request(sim.graph_endpoint + "/_sim/faults", "POST", body=b'{"kind": "melt"}')[0] == 400
    sim.add_fault(Fault("slow", delay=5))
    assert raw_request(sim.graph_endpoint + "/_sim/faults", "DELETE")[0] == 204
    assert sim.faults == []


def test_slow_fault_delays_then_answers(sim: GraphSimulator) -> None:
    sim.add_fault(Fault("slow", path_contains="reportSettings", delay=0.3))
    started = time.monotonic()
    settings = with_client(sim, CONTOSO, lambda c: c.admin.report_settings.get())
    assert settings.display_concealed_names is False
    assert time.monotonic() - started >= 0.3


# ------------------------------------------------------------------ raw HTTP: shapes the SDK hides


def test_graph_without_token_is_401(sim: GraphSimulator) -> None:
    status, headers, body = raw_request(sim.graph_endpoint + "/v1.0/reports/getEmailActivityUserDetail(period='D7')")
    assert status == 401 and headers["Content-Type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])


def test_report_redirect_and_download_shape(sim: GraphSimulator) -> None:
    auth = bearer(sim)
    status, headers, body = raw_request(
        sim.graph_endpoint + "/v1.0/reports/getEmailActivityUserDetail(period='D30')", headers=auth
    )
    assert (status, headers["Content-Type"], body) == (302, "text/plain", b"")
    location = headers["Location"]
    assert re.fullmatch(r"http://localhost:\d+/data/download/[\w-]+", location)
    assert urlsplit(location).port != urlsplit(sim.graph_endpoint).port
    status, headers, body = raw_request(location)
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert int(headers["Content-Length"]) == len(body) and body.startswith(BOM)
    assert {r["Report Period"] for r in rows(body)} == {"30"}


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("getMailboxUsageDetail(date=2024-04-30)", "BadRequest", "Resource not found for the segment"),
        ("getOffice365ActivationsUserDetail(period='D7')", "BadRequest", "Resource not found for the segment"),
        ("getEmailActivityUserDetail(period='D8')", "BadRequest", "Invalid period"),
        ("getEmailActivityUserDetail(date=2024-05-04)", "InvalidArgument", "Only support data for the past 28 days."),
    ],
)
def test_report_argument_errors(sim: GraphSimulator, path: str, code: str, message: str) -> None:
    status, _, body = raw_request(f"{sim.graph_endpoint}/v1.0/reports/{path}", headers=bearer(sim))
    error = json.loads(body)["error"]
    assert status == 400 and error["code"] == code and message in error["message"]


def test_download_link_expires(sim: GraphSimulator) -> None:
    sim.download_ttl = 0.2
    try:
        status, headers, _ = raw_request(
            sim.graph_endpoint + "/v1.0/reports/getMailboxUsageDetail(period='D7')", headers=bearer(sim)
        )
        assert status == 302
        time.sleep(0.3)
        assert raw_request(headers["Location"])[0] == 404
    finally:
        sim.download_ttl = 300.0


def test_report_throttling_window(sim: GraphSimulator) -> None:
    sim.throttle_limit = 2
    auth = bearer(sim)
    url = sim.graph_endpoint + "/v1.0/reports/getEmailActivityUserDetail(period='D7')"
    assert [raw_request(url, headers=auth)[0] for _ in range(2)] == [302, 302]
    status, headers, body = raw_request(url, headers=auth)
    assert status == 429 and 590 <= int(headers["Retry-After"]) <= 600
    assert json.loads(body)["error"]["innerError"]["status"] == "429"
    # Counted per report API: another report is not affected.
    other = sim.graph_endpoint + "/v1.0/reports/getMailboxUsageDetail(period='D7')"
    assert raw_request(other, headers=auth)[0] == 302


def test_prerendered_bodies_are_served_byte_for_byte_and_still_throttled(sim: GraphSimulator) -> None:
    auth = bearer(sim)
    paths = [
        "getEmailActivityUserDetail(period='D7')",
        f"getEmailActivityUserDetail(date={CONTOSO.report_refresh_date.isoformat()})",
        "getMailboxUsageDetail(period='D7')",
    ]

    def download(path: str) -> tuple[int, bytes]:
        status, headers, _ = raw_request(f"{sim.graph_endpoint}/v1.0/reports/{path}", headers=auth)
        if status != 302:
            return status, b""
        return status, raw_request(headers["Location"])[2]

    fresh = [download(p) for p in paths]
    sim.reset()
    sim.render_cache_bytes = 64 * 1024 * 1024
    sim.throttle_limit = 2
    held = sim.prerender([CONTOSO])
    assert held > sum(len(body) for _, body in fresh)  # every report's forms, not only these three
    assert [download(p) for p in paths] == fresh and all(s == 302 and b for s, b in fresh)
    assert download(paths[2]) == fresh[2]
    assert download(paths[2])[0] == 429, "a cached body is still behind the report request's throttling"


def test_report_settings_patch(sim: GraphSimulator) -> None:
    auth = bearer(sim, FABRIKAM) | {"Content-Type": "application/json"}
    url = sim.graph_endpoint + "/v1.0/admin/reportSettings"
    try:
        assert raw_request(url, "PATCH", auth, b'{"displayConcealedNames": false}')[0] == 204
        status, _, body = raw_request(url, headers=auth)
        assert status == 200 and json.loads(body) == {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",
            "displayConcealedNames": False,
        }
    finally:
        sim.set_concealed(FABRIKAM.tenant_id, True)


# ------------------------------------------------------------------ sample data


def test_same_seed_same_bytes_and_plausible_data() -> None:
    again = SampleTenant.generate(1, 40, refresh_date=REFRESH)
    assert again.tenant_id == CONTOSO.tenant_id and again.domain == "contoso.com"
    for report in (email_activity_csv, mailbox_usage_csv):
        assert "".join(report(again, "D7")) == "".join(report(CONTOSO, "D7"))
    big = SampleTenant.generate(7, 5000, refresh_date=REFRESH)
    mailboxes = rows("".join(mailbox_usage_csv(big, "D7")).encode())
    upns = [r["User Principal Name"] for r in mailboxes]
    assert len(set(upns)) == len(upns) and all(re.fullmatch(r"[a-z]+\.[a-z]+\d+@\S+", u) for u in upns)
    standard = [r for r in mailboxes if int(r["Prohibit Send/Receive Quota (Byte)"]) == STANDARD_QUOTAS[2]]
    assert 0.85 < len(standard) / len(mailboxes) < 0.97
    over = [r for r in mailboxes if int(r["Storage Used (Byte)"]) >= int(r["Issue Warning Quota (Byte)"])]
    assert 0.02 < len(over) / len(mailboxes) < 0.06
    recent = [r for r in mailboxes if r["Last Activity Date"] == REFRESH.isoformat()]
    assert 0.65 < len(recent) / len(mailboxes) < 0.75
    email = {r["User Principal Name"]: r for r in rows("".join(email_activity_csv(big, "D7")).encode())}
    assert set(email) == set(upns)
    assert any(r["Send Count"] == "" for r in email.values()) and any(r["Deleted Date"] for r in email.values())


def test_concealed_names_are_stable_hex() -> None:
    email = rows("".join(email_activity_csv(FABRIKAM, "D7")).encode())
    mailbox = rows("".join(mailbox_usage_csv(FABRIKAM, "D7")).encode())
    for r in email + mailbox:
        assert re.fullmatch(r"[0-9A-F]{32}", r["User Principal Name"])
        assert re.fullmatch(r"[0-9A-F]{32}", r["Display Name"])
    assert [r["User Principal Name"] for r in email] == [r["User Principal Name"] for r in mailbox]


def test_csv_variants_and_header_only() -> None:
    text = "".join(email_activity_csv(CONTOSO, "D7", crlf=True, reorder=True, extra_columns=True))
    header = text.split("\r\n", 1)[0].split(",")
    assert text.count("\r\n") == CONTOSO.users + 1 and "\n" not in text.replace("\r\n", "")
    assert sorted(header) == sorted([*EMAIL_ACTIVITY_HEADER, "Recipient Type"])
    assert header != list(EMAIL_ACTIVITY_HEADER)
    plain = "".join(mailbox_usage_csv(CONTOSO, "D7", extra_columns=True)).split("\n", 1)[0].split(",")
    assert plain[-2:] == ["Recipient Type", "Report Period"]
    assert "".join(email_activity_csv(EMPTY, "D7")).encode() == EMAIL_HEADER_LINE + b"\n"
    assert "".join(mailbox_usage_csv(CONTOSO, "D7", header_only=True)).count("\n") == 1


def test_streaming_scales_without_materialising() -> None:
    huge = SampleTenant.generate(9, 200_000, refresh_date=REFRESH)
    chunks = email_activity_csv(huge, "D7")
    first = next(chunks)  # only the first chunk is computed
    assert first.startswith("Report Refresh Date") and first.count("\n") < 1000
    assert huge.user(199_999).upn.endswith(f"199999@{huge.domain}")


# ------------------------------------------------------------------ command line


def test_start_from_args_writes_state_file(tmp_path: Path) -> None:
    sim = start_from_args(users=5, tenants=2, seed=1, state_dir=tmp_path)
    try:
        state = json.loads((tmp_path / "simulator.json").read_text())
        assert state["login_endpoint"] == sim.login_endpoint and state["graph_endpoint"] == sim.graph_endpoint
        assert Path(state["ca_path"]).is_file()
        assert [t["domain"] for t in state["tenants"]] == ["contoso.com", "fabrikam.com"]
        assert (state["client_id"], state["client_secret"]) == (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        cred = ClientSecretCredential(
            state["tenants"][1]["tenant_id"],
            state["client_id"],
            state["client_secret"],
            authority=state["login_endpoint"],
            disable_instance_discovery=True,
            connection_verify=state["ca_path"],
        )
        assert cred.get_token(state["graph_endpoint"] + "/.default").token
    finally:
        sim.stop()


def test_cli_runs_until_sigterm(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.simulator", "--users", "3", "--state-dir", str(tmp_path)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Graph simulator: login https://127.0.0.1:")
        assert "secret" not in line
        state = json.loads((tmp_path / "simulator.json").read_text())
        assert raw_request(state["graph_endpoint"] + "/v1.0/admin/reportSettings")[0] == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
