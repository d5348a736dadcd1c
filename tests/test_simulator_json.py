"""The simulator's JSON collections and new report routes, over plain HTTP (what the SDK sees on the wire)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from azure.identity import ClientSecretCredential

from devtools.simulator import directory
from devtools.simulator.server import AppCredential, Fault, GraphSimulator
from devtools.simulator.tenants import SampleTenant, report_csv
from devtools.simulator.workloads import HEADERS, TEAMS_USER_ACTIVITY_DOC_HEADER
from tests.test_simulator import raw_request

CLIENT_ID = "eeeeeeee-1111-2222-3333-444444444444"
SECRET = "json~secret"
T = SampleTenant.generate(5, 12)


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    return graph_simulator.serve([T], {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture(scope="module")
def auth(sim: GraphSimulator) -> dict[str, str]:
    cred = ClientSecretCredential(
        T.tenant_id, CLIENT_ID, SECRET, authority=sim.login_endpoint, disable_instance_discovery=True,
        connection_verify=str(sim.ca_path),
    )  # fmt: skip
    return {"Authorization": "Bearer " + cred.get_token(sim.graph_endpoint + "/.default").token}


@pytest.fixture(autouse=True)
def _reset(sim: GraphSimulator) -> Iterator[None]:
    yield
    sim.reset()


def csv_rows(tenant: SampleTenant, function: str, **options: bool) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(report_csv(tenant, function, "D7", **options)))))


def get(sim: GraphSimulator, auth: dict[str, str], path: str) -> tuple[int, dict]:
    status, _, body = raw_request(sim.graph_endpoint + path, headers=auth)
    return status, json.loads(body or b"{}")


def follow(sim: GraphSimulator, auth: dict[str, str], path: str) -> tuple[list[dict], list[str]]:
    items, links = [], []
    status, page = get(sim, auth, path)
    while True:
        assert status == 200, page
        items += page["value"]
        link = page.get("@odata.nextLink")
        if not link:
            return items, links
        links.append(link)
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == sim.graph_endpoint  # absolute
        status, page = get(sim, auth, f"{parts.path}?{parts.query}")


def test_users_select_top_and_skiptoken(sim: GraphSimulator, auth: dict[str, str]) -> None:
    select = ",".join(directory.ALL_FIELDS)
    items, links = follow(sim, auth, f"/v1.0/users?$select={select}&$top=5")
    assert items == [u.to_json(directory.ALL_FIELDS) for u in directory.directory_users(T)]
    assert len(links) == -(-len(items) // 5) - 1
    assert all(link.count("$select=") == 1 and "$top=5" in link and "$skiptoken=" in link for link in links)
    upns = {u["userPrincipalName"] for u in items}
    email = csv_rows(T, "getEmailActivityUserDetail")
    reports = {r["User Principal Name"] for r in email if r["Is Deleted"] == "False"}
    assert reports <= upns
    guests = [u for u in items if u["userType"] == "Guest"]
    assert guests and all("#EXT#@" in u["userPrincipalName"] for u in guests)
    assert any(not u["accountEnabled"] for u in items) and any(not u["assignedLicenses"] for u in items)
    assert any(u["displayName"] == "José García" and u["mail"] != u["userPrincipalName"] for u in items)
    names = [u["displayName"] for u in items if u["userType"] == "Member"]
    assert any(names.count(n) > 1 for n in names)
    assert all(p.startswith("SMTP:") for u in items if u["proxyAddresses"] for p in u["proxyAddresses"][:1])
    # Without $select: only the default properties.
    _, page = get(sim, auth, "/v1.0/users")
    assert "proxyAddresses" not in page["value"][0] and "businessPhones" in page["value"][0]
    status, error = get(sim, auth, "/v1.0/users?$top=1000")
    assert status == 400 and "Must be between 1 and 999 inclusive" in error["error"]["message"]


def test_health_paging_keeps_expand_and_casing_switch(sim: GraphSimulator, auth: dict[str, str]) -> None:
    sim.page_size = 2
    items, links = follow(sim, auth, "/v1.0/admin/serviceAnnouncement/healthOverviews?$expand=issues")
    assert items == sim.service_health(T.tenant_id) and len(links) == 3
    assert all("$expand=issues" in link for link in links)
    _, page = get(sim, auth, "/v1.0/admin/serviceAnnouncement/healthOverviews")
    assert "issues" not in page["value"][0] and page["@odata.context"].endswith(
        "#admin/serviceAnnouncement/healthOverviews"
    )
    sim.pascal_case_enums = True
    try:
        _, page = get(sim, auth, "/v1.0/admin/serviceAnnouncement/healthOverviews?$expand=issues")
    finally:
        sim.pascal_case_enums = False
    assert page["value"][0]["status"][0].isupper()


def test_fault_on_page_two_only(sim: GraphSimulator, auth: dict[str, str]) -> None:
    sim.page_size = 2
    sim.add_fault(Fault("unavailable", path_contains="subscribedSkus", page=2))
    status, page = get(sim, auth, "/v1.0/subscribedSkus")
    assert status == 200
    link = urlsplit(page["@odata.nextLink"])
    assert get(sim, auth, f"{link.path}?{link.query}")[0] == 503
    assert get(sim, auth, f"{link.path}?{link.query}")[0] == 200


def test_organization_applications_and_service_throttling(sim: GraphSimulator, auth: dict[str, str]) -> None:
    for path in ("/v1.0/organization", "/beta/organization"):
        status, page = get(sim, auth, path)
        assert status == 200 and page["value"][0]["directorySizeQuota"]["total"] == 50000
    apps, _ = follow(sim, auth, "/v1.0/applications")
    ends = [c["endDateTime"] for a in apps for c in a["keyCredentials"] + a["passwordCredentials"]]
    today = T.today.isoformat()
    assert min(ends) < today < max(ends)
    sim.service_throttle_limit = 2
    try:
        codes = [get(sim, auth, "/v1.0/admin/serviceAnnouncement/healthOverviews")[0] for _ in range(3)]
    finally:
        sim.service_throttle_limit = None
        sim.reset_throttling()
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("function", sorted(HEADERS))
def test_new_reports_redirect_and_download(sim: GraphSimulator, auth: dict[str, str], function: str) -> None:
    for arg in ("period='D30'", f"date={T.report_refresh_date.isoformat()}"):
        status, headers, _ = raw_request(f"{sim.graph_endpoint}/v1.0/reports/{function}({arg})", headers=auth)
        assert status == 302
        status, _, body = raw_request(headers["Location"])
        assert status == 200 and body.startswith(b"\xef\xbb\xbf")
        header = body.decode("utf-8-sig").splitlines()[0].split(",")
        assert tuple(header) == HEADERS[function]


def test_teams_doc_order_and_concealment() -> None:
    doc = "".join(report_csv(T, "getTeamsUserActivityUserDetail", "D7", reorder=True)).splitlines()
    assert tuple(doc[0].split(",")) == TEAMS_USER_ACTIVITY_DOC_HEADER
    concealed = csv_rows(T, "getTeamsUserActivityUserDetail", concealed=True)
    assert {r["User Id"] for r in concealed} == {"00000000-0000-0000-0000-000000000000"}
    assert all(len(r["User Principal Name"]) == 32 for r in concealed)
    assert all(r["Audio Duration"].startswith("PT") and r["Has Other Action"] in ("Yes", "No") for r in concealed)
