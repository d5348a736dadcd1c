"""The IT Glue simulator answers as IT Glue's documented API does, driven over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devtools.itglue import ItGlueFault, ItGlueSimulator

ROOT = Path(__file__).resolve().parents[1]
JSONAPI = "application/vnd.api+json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim():
    with ItGlueSimulator() as s:
        yield s


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim.url, headers={"x-api-key": sim.api_key}, timeout=10) as client:
        yield client


def post(http, path, body):
    return http.post(path, json=body, headers={"Content-Type": JSONAPI})


def patch(http, path, body):
    return http.patch(path, json=body, headers={"Content-Type": JSONAPI})


def email(value, primary=True, label="Work"):
    return {"value": value, "primary": primary, "label-name": label}


def test_paging_default_50_max_1000_with_meta_and_links(sim, http):
    org = sim.seed_organization("Contoso")
    for i in range(120):
        sim.seed_contact(org, first_name=f"U{i:03}", last_name="X")

    first = http.get("/contacts", params={"filter[organization_id]": str(org)})
    assert first.status_code == 200 and first.headers["content-type"] == JSONAPI
    doc = first.json()
    assert len(doc["data"]) == 50
    assert {k: doc["meta"][k] for k in ("current-page", "next-page", "prev-page", "total-pages", "total-count")} == {
        "current-page": 1,
        "next-page": 2,
        "prev-page": None,
        "total-pages": 3,
        "total-count": 120,
    }
    assert doc["meta"]["filters"] == {"organization-id": str(org)}
    assert "page%5Bnumber%5D=2" in doc["links"]["next"] and "prev" not in doc["links"]

    last = http.get("/contacts", params={"filter[organization_id]": str(org), "page[number]": "3"}).json()
    assert len(last["data"]) == 20
    assert (last["meta"]["next-page"], last["meta"]["prev-page"]) == (None, 2)

    big = http.get("/contacts", params={"page[size]": "5000"}).json()
    assert len(big["data"]) == 120 and big["meta"]["total-pages"] == 1
    assert [c["attributes"]["first-name"] for c in big["data"]][:2] == ["U000", "U001"]
    assert http.get("/contacts", params={"page[number]": "0"}).status_code == 400


def test_links_can_be_turned_off():
    with ItGlueSimulator(links=False) as s:
        doc = httpx.get(f"{s.url}/organizations", headers={"x-api-key": s.api_key}).json()
    assert "links" not in doc and doc["meta"]["total-count"] == 0


def test_filters_are_exact_comma_means_or_and_backslash_escapes_a_comma(sim, http):
    for name in ("Foo", "Bar", "Foo, Inc", "foo", "Foobar"):
        sim.seed_organization(name)

    def names(value):
        r = http.get("/organizations", params={"filter[name]": value})
        assert r.status_code == 200
        return sorted(o["attributes"]["name"] for o in r.json()["data"])

    assert names("Foo, Bar") == ["Bar", "Foo"]
    assert names("Foo\\, Inc") == ["Foo, Inc"]
    assert names("Foo") == ["Foo"]  # exact and case-sensitive by default
    assert names("Fo") == [] and names("Fo*") == []  # no substring, no wildcard
    assert http.get("/organizations", params={"filter[nickname]": "x"}).status_code == 400

    with ItGlueSimulator(ignore_case=True) as s:
        s.seed_organization("Foo")
        r = httpx.get(f"{s.url}/organizations", params={"filter[name]": "FOO"}, headers={"x-api-key": s.api_key})
        assert [o["attributes"]["name"] for o in r.json()["data"]] == ["Foo"]


def test_contact_filters_primary_email_and_names_and_nested_route_ignores_filters(sim, http):
    org = sim.seed_organization("Contoso")
    other = sim.seed_organization("Other")
    sim.seed_contact(
        org,
        first_name="Ann",
        last_name="Lee",
        contact_emails=[email("ann@contoso.com"), email("a.lee@contoso.com", primary=False)],
    )
    sim.seed_contact(org, first_name="Bob", last_name="Lee", contact_emails=[email("bob@contoso.com")])
    sim.seed_contact(other, first_name="Ann", last_name="Lee", contact_emails=[email("ann@other.com")])

    def firsts(**filters):
        params = {f"filter[{k}]": v for k, v in filters.items()}
        return sorted(c["attributes"]["first-name"] for c in http.get("/contacts", params=params).json()["data"])

    assert firsts(organization_id=str(org), primary_email="ann@contoso.com") == ["Ann"]
    assert firsts(organization_id=str(org), primary_email="a.lee@contoso.com") == []  # no secondary e-mail filter
    assert firsts(organization_id=str(org), last_name="Lee") == ["Ann", "Bob"]
    assert firsts(first_name="Ann") == ["Ann", "Ann"]
    nested = http.get(f"/organizations/{org}/relationships/contacts", params={"filter[first_name]": "Bob"}).json()
    assert len(nested["data"]) == 2


def test_requests_in_kebab_or_snake_case_answer_kebab_case_with_nulls(sim, http):
    org = sim.seed_organization("Contoso")
    kebab = post(
        http,
        "/contacts",
        {
            "data": {
                "type": "contacts",
                "attributes": {
                    "organization-id": org,
                    "first-name": "Ann",
                    "last-name": "Lee",
                    "contact-emails": [{"value": "ann@contoso.com", "primary": True, "label-name": "Work"}],
                    "contact-phones": [{"value": "415-555-2156", "label-name": "Work", "label-type": "phone"}],
                },
            }
        },
    )
    snake = post(
        http,
        "/contacts",
        {
            "data": {
                "type": "contacts",
                "attributes": {
                    "organization_id": org,
                    "first_name": "Bob",
                    "last_name": "Ray",
                    "contact_emails": [{"value": "bob@contoso.com", "primary": True, "label_name": "Work"}],
                },
            }
        },
    )
    assert (kebab.status_code, snake.status_code) == (201, 201)
    a, b = kebab.json()["data"], snake.json()["data"]
    assert a["type"] == "contacts" and isinstance(a["id"], str)
    assert a["attributes"]["name"] == "Ann Lee" and b["attributes"]["name"] == "Bob Ray"
    assert a["attributes"]["organization-name"] == "Contoso"
    assert b["attributes"]["contact-emails"] == [{"value": "bob@contoso.com", "primary": True, "label-name": "Work"}]
    assert a["attributes"]["contact-phones"] == [
        {
            "value": "4155552156",
            "extension": None,
            "primary": False,
            "label-name": "Work",
            "label-type": "phone",
            "formatted-value": "(415) 555-2156",
        }
    ]
    assert a["attributes"]["title"] is None and a["attributes"]["notes"] is None
    assert all("_" not in key for key in a["attributes"])
    # The parameter tables put contact_emails beside attributes: accepted too.
    beside = post(
        http,
        "/contacts",
        {
            "data": {
                "type": "contacts",
                "attributes": {"organization_id": org, "first_name": "Cy"},
                "contact_emails": [email("cy@contoso.com")],
            }
        },
    )
    assert beside.json()["data"]["attributes"]["contact-emails"][0]["value"] == "cy@contoso.com"


def test_bad_or_missing_key_answers_403_and_spends_no_budget():
    with ItGlueSimulator(rate_limit=1) as s:
        for headers in ({"x-api-key": "ITG.wrong"}, {}):
            r = httpx.get(f"{s.url}/organizations", headers=headers)
            assert r.status_code == 403 and r.json()["errors"][0]["status"] == 403
        assert httpx.get(f"{s.url}/organizations", headers={"x-api-key": s.api_key}).status_code == 200


def test_422_shapes_numeric_status_title_pointer(sim, http):
    org = sim.seed_organization("Contoso")
    bad_email = post(
        http,
        "/contacts",
        {
            "data": {
                "type": "contacts",
                "attributes": {"organization_id": org, "first_name": "A", "contact_emails": [email("not-an-email")]},
            }
        },
    )
    assert bad_email.status_code == 422
    assert bad_email.json() == {
        "errors": [
            {
                "status": 422,
                "title": "Unprocessable Entity",
                "detail": "is not a valid email address",
                "source": {"pointer": "/data/attributes/contact-emails/0/value"},
            }
        ]
    }
    no_org = post(http, "/contacts", {"data": {"type": "contacts", "attributes": {"first_name": "A"}}})
    assert no_org.status_code == 422
    assert no_org.json()["errors"][0] == {
        "status": 422,
        "title": "Valid organization_id is required",
        "source": {"pointer": "/data/attributes/organization_id"},
    }
    no_name = post(http, "/organizations", {"data": {"type": "organizations", "attributes": {"description": "x"}}})
    assert no_name.status_code == 422 and no_name.json()["errors"][0]["source"]["pointer"] == "/data/attributes/name"
    assert sim.contacts() == []


def test_writes_to_synced_records_answer_422(sim, http):
    psa = sim.seed_organization("Synced Org", psa_integration="manage")
    body = {"data": {"type": "organizations", "attributes": {"name": "Renamed"}}}
    assert patch(http, f"/organizations/{psa}", body).status_code == 422
    notes = patch(
        http, f"/organizations/{psa}", {"data": {"type": "organizations", "attributes": {"quick_notes": "n"}}}
    )
    assert notes.status_code == 200 and notes.json()["data"]["attributes"]["quick-notes"] == "n"
    assert notes.json()["data"]["attributes"]["name"] == "Synced Org"

    org = sim.seed_organization("Contoso")
    synced = sim.seed_contact(org, first_name="Ann", synced=True)
    r = patch(http, f"/contacts/{synced}", {"data": {"type": "contacts", "attributes": {"title": "CEO"}}})
    assert r.status_code == 422 and r.json()["errors"][0]["detail"] == "cannot update an externally synced record"
    assert sim.contacts()[0]["title"] is None


def test_415_without_jsonapi_content_type(sim, http):
    r = http.post(
        "/organizations", content=b'{"data":{"attributes":{"name":"X"}}}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 415 and sim.organizations() == []


def test_organizations_create_patch_bulk_patch_and_asynchronous_delete():
    clock = FakeClock()
    with (
        ItGlueSimulator(clock=clock, delete_delay=30) as sim,
        httpx.Client(base_url=sim.url, headers={"x-api-key": sim.api_key}) as http,
    ):
        created = post(http, "/organizations", {"data": {"type": "organizations", "attributes": {"name": "A"}}})
        assert created.status_code == 201
        a = created.json()["data"]["id"]
        b = sim.seed_organization("B")
        one = patch(http, f"/organizations/{a}", {"data": {"type": "organizations", "attributes": {"short-name": "a"}}})
        assert one.json()["data"]["attributes"]["short-name"] == "a"
        bulk = patch(
            http,
            "/organizations",
            {
                "data": [
                    {"type": "organizations", "attributes": {"id": int(a), "description": "first"}},
                    {"type": "organizations", "attributes": {"id": b, "description": "second"}},
                ]
            },
        )
        assert bulk.status_code == 200
        assert {o["id"]: o["description"] for o in sim.organizations()} == {a: "first", str(b): "second"}
        no_id = patch(http, "/organizations", {"data": [{"type": "organizations", "attributes": {"name": "Z"}}]})
        assert no_id.status_code == 422 and no_id.json()["errors"][0]["source"]["pointer"] == "/data/0/attributes/id"

        sim.seed_contact(b, first_name="Gone")
        gone = http.request(
            "DELETE",
            "/organizations",
            json={"data": [{"type": "organizations", "attributes": {"id": b}}]},
            headers={"Content-Type": JSONAPI},
        )
        assert gone.status_code == 204
        assert http.get(f"/organizations/{b}").status_code == 200  # accepted, not done yet
        clock.now += 31
        assert http.get(f"/organizations/{b}").status_code == 404
        assert [o["name"] for o in sim.organizations()] == ["A"] and sim.contacts() == []


def test_contacts_bulk_create_on_nested_route_and_bulk_patch(sim, http):
    org = sim.seed_organization("Contoso")
    body = {
        "data": [
            {"type": "contacts", "attributes": {"first-name": f"U{i}", "contact-emails": [email(f"u{i}@contoso.com")]}}
            for i in range(3)
        ]
    }
    r = post(http, f"/organizations/{org}/relationships/contacts", body)
    assert r.status_code == 200 and [c["attributes"]["organization-id"] for c in r.json()["data"]] == [org] * 3
    ids = [c["id"] for c in r.json()["data"]]
    # One invalid item: nothing is created, every error is reported with its item's pointer.
    bad = {
        "data": [
            {"type": "contacts", "attributes": {"first-name": "Ok"}},
            {"type": "contacts", "attributes": {"contact-emails": [email("nope")]}},
        ]
    }
    r = post(http, f"/organizations/{org}/relationships/contacts", bad)
    assert r.status_code == 422
    assert r.json()["errors"][0]["source"]["pointer"] == "/data/1/attributes/contact-emails/0/value"
    assert len(sim.contacts()) == 3

    upd = patch(
        http, "/contacts", {"data": [{"type": "contacts", "attributes": {"id": int(i), "title": "Eng"}} for i in ids]}
    )
    assert upd.status_code == 200 and {c["title"] for c in sim.contacts()} == {"Eng"}
    single = patch(http, f"/contacts/{ids[0]}", {"data": {"type": "contacts", "attributes": {"notes": "n"}}})
    got = single.json()["data"]["attributes"]
    assert (got["notes"], got["title"], got["first-name"]) == ("n", "Eng", "U0")  # contact PATCH is partial


LICENCE_FIELDS = [
    {"order": 1, "name": "License Name", "kind": "Text", "show_in_list": True, "required": True},
    {"order": 2, "name": "Total", "kind": "Number"},
    {"order": 3, "name": "Notes", "kind": "Textbox"},
]


def test_flexible_assets_need_a_type_filter_and_patch_replaces_every_trait(sim, http):
    org = sim.seed_organization("Contoso")
    ftype = sim.seed_flexible_asset_type("Microsoft Licenses", LICENCE_FIELDS)
    created = post(
        http,
        "/flexible_assets",
        {
            "data": {
                "type": "flexible_assets",
                "attributes": {
                    "organization_id": org,
                    "flexible_asset_type_id": ftype,
                    "traits": {"license-name": "E3", "total": 10, "notes": "keep me"},
                },
            }
        },
    )
    assert created.status_code == 201
    asset = created.json()["data"]
    assert (
        asset["attributes"]["name"] == "E3" and asset["attributes"]["flexible-asset-type-name"] == "Microsoft Licenses"
    )

    assert http.get("/flexible_assets").status_code == 400
    listed = http.get("/flexible_assets", params={"filter[flexible-asset-type-id]": str(ftype)}).json()
    assert [a["id"] for a in listed["data"]] == [asset["id"]]

    r = patch(
        http,
        f"/flexible_assets/{asset['id']}",
        {"data": {"type": "flexible_assets", "attributes": {"traits": {"license-name": "E5", "total": 20}}}},
    )
    assert r.status_code == 200
    assert sim.flexible_assets()[0]["traits"] == {"license-name": "E5", "total": 20}  # "notes" was deleted
    missing = patch(
        http,
        f"/flexible_assets/{asset['id']}",
        {"data": {"type": "flexible_assets", "attributes": {"traits": {"total": 5}}}},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["source"]["pointer"] == "/data/attributes/traits/license-name"

    no_list = post(
        http,
        "/flexible_asset_types",
        {
            "data": {
                "type": "flexible_asset_types",
                "attributes": {"name": "T"},
                "relationships": {
                    "flexible_asset_fields": {
                        "data": [
                            {"type": "flexible_asset_fields", "attributes": {"order": 1, "name": "A", "kind": "Text"}}
                        ]
                    }
                },
            }
        },
    )
    assert no_list.status_code == 422


def test_token_bucket_answers_429_with_or_without_retry_after():
    clock = FakeClock()
    with ItGlueSimulator(rate_limit=3, rate_window=30, clock=clock) as sim:
        get = lambda: httpx.get(f"{sim.url}/organizations", headers={"x-api-key": sim.api_key})  # noqa: E731
        assert [get().status_code for _ in range(3)] == [200, 200, 200]
        over = get()
        assert over.status_code == 429 and over.headers["Retry-After"] == "10"
        assert over.json()["errors"][0]["status"] == 429
        clock.now += 10
        assert get().status_code == 200 and get().status_code == 429
        other = sim.add_account("Other")  # the bucket is per account
        assert httpx.get(f"{sim.url}/organizations", headers={"x-api-key": other}).status_code == 200
    with ItGlueSimulator(rate_limit=1, retry_after=False, clock=FakeClock()) as sim:
        httpx.get(f"{sim.url}/organizations", headers={"x-api-key": sim.api_key})
        over = httpx.get(f"{sim.url}/organizations", headers={"x-api-key": sim.api_key})
        assert over.status_code == 429 and "Retry-After" not in over.headers


def test_faults_429_storm_5xx_on_nth_request_slow_and_commit_then_drop(sim, http):
    org = sim.seed_organization("Contoso")
    sim.add_fault(ItGlueFault("throttle", path_contains="/contacts", times=3, retry_after=7))
    codes = [http.get("/contacts").status_code for _ in range(4)]
    assert codes == [429, 429, 429, 200]
    assert http.get("/organizations").status_code == 200

    sim.add_fault(ItGlueFault("error", method="GET", path_contains="/organizations", nth=2, status=502))
    assert [http.get("/organizations").status_code for _ in range(3)] == [200, 502, 200]

    sim.add_fault(ItGlueFault("slow", path_contains="/organizations", delay=1.0))
    with pytest.raises(httpx.ReadTimeout):
        http.get("/organizations", timeout=0.1)

    sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/contacts"))
    with pytest.raises(httpx.RemoteProtocolError):
        post(
            http,
            "/contacts",
            {"data": {"type": "contacts", "attributes": {"organization_id": org, "first_name": "Committed"}}},
        )
    assert [c["first-name"] for c in sim.contacts()] == ["Committed"]  # the write happened
    assert sim.faults() == []


def test_request_counts_per_endpoint_and_reset(sim, http):
    org = sim.seed_organization("Contoso")
    http.get("/organizations")
    http.get(f"/organizations/{org}")
    http.get(f"/organizations/{org}/relationships/contacts")
    http.get(f"/organizations/{org}/relationships/contacts")
    assert sim.request_counts() == {
        "GET /organizations": 1,
        "GET /organizations/:id": 1,
        "GET /organizations/:id/relationships/contacts": 2,
    }
    assert sim.total_requests() == 4
    sim.add_fault(ItGlueFault("throttle", times=None))
    sim.reset()
    assert sim.organizations() == [] and sim.request_counts() == {} and sim.faults() == []
    assert http.get("/organizations").status_code == 200  # the key still works


def test_run_standalone_prints_url_and_key(tmp_path):
    state = tmp_path / "itglue.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.itglue", "--state-file", str(state)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("ITGLUE_API_URL=")
        key = proc.stdout.readline().strip().removeprefix("ITGLUE_API_KEY=")
        assert key.startswith("ITG.")
        assert httpx.get(f"{url}/organizations", headers={"x-api-key": key}).status_code == 200
        assert state.stat().st_mode & 0o077 == 0
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_hostile_bodies_answer_4xx_not_500(sim, http):
    org = sim.seed_organization("Contoso")
    cases = [
        ("PATCH", "/organizations", {"data": [{"type": "organizations", "attributes": {"id": "abc", "name": "x"}}]}),
        ("PATCH", "/contacts", {"data": [{"type": "contacts", "attributes": {"id": None}}]}),
        ("POST", "/contacts", {"data": {"type": "contacts", "attributes": {"organization_id": "x; DROP"}}}),
        ("POST", "/contacts", {"data": [1, 2]}),
        ("POST", f"/organizations/{org}/relationships/contacts", {"data": {"type": "contacts"}}),
        ("POST", "/flexible_assets", {"data": {"type": "flexible_assets", "attributes": {"traits": "x"}}}),
        ("POST", "/organizations", {"data": {"type": "contacts", "attributes": {"name": "x"}}}),
        ("GET", "/contacts?page[size]=ten", None),
        ("GET", "/nowhere", None),
    ]
    for method, path, body in cases:
        r = http.request(method, path, json=body, headers={"Content-Type": JSONAPI} if body is not None else {})
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
        assert r.json()["errors"][0]["status"] == r.status_code
    not_json = http.post("/organizations", content=b"{oops", headers={"Content-Type": JSONAPI})
    assert not_json.status_code == 400
    assert [o["name"] for o in sim.organizations()] == ["Contoso"] and sim.contacts() == []
