"""The IT Glue client against the IT Glue simulator: paging, kebab-case, retries, budget, typed errors, no key leaks."""

from __future__ import annotations

import json
import logging
import traceback

import httpx
import pytest

from devtools.itglue import ItGlueFault, ItGlueSimulator
from shared.docs import itglue
from shared.docs.itglue import ItGlueClient, ItGlueError, ItGlueOutcomeUnknown, ItGlueRateLimited, RateBudget


class FakeTime:
    """Client clock and sleep: waits are recorded and advance the clock instead of blocking."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class Recorder(httpx.HTTPTransport):
    """The real transport, keeping every request sent (to check what went on the wire)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


@pytest.fixture
def sim():
    with ItGlueSimulator() as s:
        yield s


@pytest.fixture
def fake():
    return FakeTime()


def make_client(sim, fake, **kwargs):
    kwargs.setdefault("budget", RateBudget(clock=fake.clock))
    return ItGlueClient(
        base_url=sim.url,
        api_key=kwargs.pop("api_key", sim.api_key),
        sleep=fake.sleep,
        clock=fake.clock,
        jitter=lambda: 0.5,
        **kwargs,
    )


def test_lists_follow_meta_in_pages_of_1000(sim, fake):
    org = sim.seed_organization("Contoso")
    for i in range(2345):
        sim.seed_contact(org, first_name=f"U{i}", contact_emails=[{"value": f"u{i}@c.com", "label_name": "Work"}])
    sim.seed_contact(sim.seed_organization("Other"), first_name="Elsewhere")
    with make_client(sim, fake) as client:
        contacts = client.list_contacts(organization_id=org)
    assert len(contacts) == 2345 and len({c.id for c in contacts}) == 2345
    assert contacts[7].get("contact-emails")[0]["value"] == "u7@c.com"
    assert sim.request_counts() == {"GET /contacts": 3}
    assert client.stats.snapshot()["by_endpoint"] == {"GET /contacts": 3}


def test_filters_are_escaped_and_ored(sim, fake):
    for name in ("Foo, Inc", "Foo", "Bar"):
        sim.seed_organization(name)
    with make_client(sim, fake) as client:
        assert [o.get("name") for o in client.list_organizations(name="Foo, Inc")] == ["Foo, Inc"]
        assert sorted(o.get("name") for o in client.list_organizations(name=["Foo, Inc", "Bar"])) == ["Bar", "Foo, Inc"]


def test_writes_send_kebab_case_jsonapi(sim, fake):
    wire = Recorder()
    with make_client(sim, fake, transport=wire) as client:
        org = client.create_organization(name="Contoso", attributes={"quick_notes": "tenant 42"})
        client.create_contacts(
            organization_id=org.id,
            contacts=[
                {
                    "first_name": "Ann",
                    "last_name": "Lee",
                    "contact_emails": [{"value": "ann@contoso.com", "primary": True, "label_name": "Work"}],
                }
            ],
        )
    assert org.get("quick-notes") == "tenant 42"
    posts = [r for r in wire.sent if r.method == "POST"]
    assert all(r.headers["content-type"] == "application/vnd.api+json" for r in posts)
    body = json.loads(posts[1].content)
    assert body == {
        "data": [
            {
                "type": "contacts",
                "attributes": {
                    "first-name": "Ann",
                    "last-name": "Lee",
                    "contact-emails": [{"value": "ann@contoso.com", "primary": True, "label-name": "Work"}],
                },
            }
        ]
    }
    assert posts[1].url.path == f"/organizations/{org.id}/relationships/contacts"
    assert [c["first-name"] for c in sim.contacts()] == ["Ann"]


def test_bulk_create_in_chunks_and_bulk_patches(sim, fake):
    org = sim.seed_organization("Contoso")
    with make_client(sim, fake) as client:
        made = client.create_contacts(organization_id=org, contacts=[{"first_name": f"U{i}"} for i in range(1500)])
        assert [c.get("first-name") for c in made[:2]] == ["U0", "U1"] and len(made) == 1500
        client.patch_contacts(updates={c.id: {"title": "Eng"} for c in made[:3]})
        client.patch_organizations(updates={org: {"description": "customer"}})
    assert sim.request_counts()["POST /organizations/:id/relationships/contacts"] == 2
    assert sorted(c["title"] or "" for c in sim.contacts())[-3:] == ["Eng"] * 3
    assert sim.organizations()[0]["description"] == "customer"


def test_429_honours_retry_after(sim, fake):
    sim.add_fault(ItGlueFault("throttle", times=2, retry_after=7))
    with make_client(sim, fake) as client:
        assert client.list_organizations() == []
    assert fake.sleeps == [7.0, 7.0]
    stats = client.stats.snapshot()
    assert (stats["requests"], stats["throttled"], stats["throttle_wait_seconds"], stats["retries"]) == (3, 2, 14.0, 2)


def test_429_without_retry_after_waits_to_the_window_edge_with_jitter(sim, fake):
    sim.add_fault(ItGlueFault("throttle", times=1, retry_after=None))
    fake.now = 100.0
    with make_client(sim, fake, budget=RateBudget(3000, 300, clock=fake.clock)) as client:
        fake.now = 160.0  # 60 s into the client's window
        client.list_organizations()
    assert fake.sleeps == [240.0 + 0.5 * 30]


def test_throttling_past_the_deadline_is_a_typed_error(sim, fake):
    sim.add_fault(ItGlueFault("throttle", times=None, retry_after=60))
    with make_client(sim, fake, deadline=100) as client, pytest.raises(ItGlueRateLimited) as err:
        client.list_organizations()
    assert err.value.status == 429 and fake.sleeps == [60.0]
    assert sim.request_counts() == {"GET /organizations": 2}


def test_5xx_are_retried_with_backoff_for_reads_and_patches(sim, fake):
    org = sim.seed_organization("Contoso")
    sim.add_fault(ItGlueFault("error", method="GET", status=502, times=2))
    sim.add_fault(ItGlueFault("error", method="PATCH", status=500, times=1))
    with make_client(sim, fake) as client:
        assert [o.id for o in client.list_organizations()] == [str(org)]
        assert client.patch_organization(organization_id=org, attributes={"alert": "x"}).get("alert") == "x"
    assert fake.sleeps == [0.75, 1.5, 0.75]  # 1 s, 2 s, ... times jitter (0.5 + 0.5 / 2)
    stats = client.stats.snapshot()
    assert (stats["retry_wait_seconds"], stats["throttle_wait_seconds"], stats["retries"]) == (3.0, 0.0, 3)
    assert sim.request_counts() == {"GET /organizations": 3, "PATCH /organizations/:id": 2}


def test_post_is_retried_on_503_but_not_after_an_ambiguous_failure(sim, fake):
    org = sim.seed_organization("Contoso")
    sim.add_fault(ItGlueFault("error", method="POST", status=503))
    with make_client(sim, fake) as client:
        client.create_contact(organization_id=org, attributes={"first_name": "Once"})
        sim.add_fault(ItGlueFault("error", method="POST", status=504))
        with pytest.raises(ItGlueOutcomeUnknown) as err:
            client.create_contact(organization_id=org, attributes={"first_name": "Maybe"})
    assert err.value.status == 504
    assert sim.request_counts() == {"POST /contacts": 3}
    assert [c["first-name"] for c in sim.contacts()] == ["Once"]


def test_commit_then_drop_surfaces_as_outcome_unknown_without_retrying(sim, fake):
    org = sim.seed_organization("Contoso")
    sim.add_fault(ItGlueFault("commit_then_drop", method="POST", path_contains="/relationships/contacts"))
    with make_client(sim, fake) as client, pytest.raises(ItGlueOutcomeUnknown) as err:
        client.create_contacts(organization_id=org, contacts=[{"first_name": "A"}, {"first_name": "B"}])
    assert isinstance(err.value, ItGlueError) and err.value.status == 0
    assert "may have been applied" in str(err.value)
    # The write committed: a blind retry would have duplicated both contacts.
    assert sorted(c["first-name"] for c in sim.contacts()) == ["A", "B"]
    assert sim.request_counts() == {"POST /organizations/:id/relationships/contacts": 1}


def test_422_is_a_typed_error_with_status_title_detail_and_pointer(sim, fake):
    org = sim.seed_organization("Contoso")
    with make_client(sim, fake) as client, pytest.raises(ItGlueError) as err:
        client.create_contact(
            organization_id=org,
            attributes={
                "first_name": "A",
                "contact_emails": [{"value": "nope", "primary": True, "label_name": "Work"}],
            },
        )
    e = err.value
    assert (e.status, e.title, e.detail, e.pointer) == (
        422,
        "Unprocessable Entity",
        "is not a valid email address",
        "/data/attributes/contact-emails/0/value",
    )
    assert str(e) == (
        "POST /contacts: 422 Unprocessable Entity: is not a valid email address "
        "(/data/attributes/contact-emails/0/value)"
    )
    assert not isinstance(e, ItGlueOutcomeUnknown) and sim.request_counts() == {"POST /contacts": 1}


def test_client_budget_waits_instead_of_hitting_429(sim, fake):
    with make_client(sim, fake, budget=RateBudget(2, 10, clock=fake.clock)) as client:
        for _ in range(3):
            client.list_organizations()
    assert fake.sleeps == [5.0] and client.stats.budget_wait_seconds == 5.0
    assert sim.total_requests() == 3


def test_one_budget_per_account_in_the_process(sim):
    other = sim.add_account("Other")
    a = ItGlueClient(base_url=sim.url, api_key=sim.api_key)
    b = ItGlueClient(base_url=sim.url, api_key=sim.api_key)
    c = ItGlueClient(base_url=sim.url, api_key=other)
    assert a.budget is b.budget and a.budget is not c.budget
    for client in (a, b, c):
        client.close()


def test_each_instance_takes_only_its_share_of_the_accounts_budget(sim, monkeypatch):
    monkeypatch.setenv("ITGLUE_RATE_SHARE", "7")
    key = sim.add_account("Shared with other integrations")  # a budget of its own, built from the setting
    with ItGlueClient(base_url=sim.url, api_key=key) as client:
        for _ in range(7):
            client.list_organizations()
        assert (client.budget.limit, client.budget.window) == (7, 300.0)
        assert client.budget.try_take() > 0  # the 8th request of the window would wait, though IT Glue has room
    assert sim.total_requests() == 7


def test_merge_keeps_traits_a_person_set_and_skips_no_op_writes(sim, fake):
    org = sim.seed_organization("Contoso")
    with make_client(sim, fake) as client:
        ftype = client.create_flexible_asset_type(
            name="Microsoft Licenses",
            fields=[
                {"order": 1, "name": "License Name", "kind": "Text", "show_in_list": True},
                {"order": 2, "name": "Total", "kind": "Number"},
                {"order": 3, "name": "Notes", "kind": "Textbox"},
            ],
        )
        assert [f.get("name-key") for f in client.list_flexible_asset_fields(flexible_asset_type_id=ftype.id)] == [
            "license-name",
            "total",
            "notes",
        ]
        asset = client.create_flexible_asset(
            organization_id=org,
            flexible_asset_type_id=ftype.id,
            traits={"license-name": "E3", "total": 10, "notes": "by hand"},
        )
        merged = client.merge_flexible_asset_traits(flexible_asset_id=asset.id, changes={"total": 12})
        assert merged.get("traits") == {"license-name": "E3", "total": 12, "notes": "by hand"}
        sim.clear_request_counts()
        client.merge_flexible_asset_traits(flexible_asset_id=asset.id, changes={"total": 12})
        assert sim.request_counts() == {"GET /flexible_assets/:id": 1}
        listed = client.list_flexible_assets(flexible_asset_type_id=ftype.id, organization_id=org)
        assert [a.id for a in listed] == [asset.id]
        assert client.list_flexible_asset_types(name="Microsoft Licenses")[0].id == ftype.id
    assert sim.flexible_assets()[0]["traits"] == {"license-name": "E3", "total": 12, "notes": "by hand"}


def test_settings_give_url_and_key(sim, monkeypatch):
    monkeypatch.setenv("ITGLUE_API_URL", sim.url + "/")
    monkeypatch.setenv("ITGLUE_API_KEY", sim.api_key)
    with ItGlueClient() as client:
        assert client.base_url == sim.url and client.list_organizations() == []
    monkeypatch.delenv("ITGLUE_API_KEY")
    with pytest.raises(ValueError, match="ITGLUE_API_KEY"):
        ItGlueClient()
    assert itglue.DEFAULT_API_URL == "https://api.itglue.com"


def test_the_key_never_appears_in_errors_reprs_or_logs(sim, fake, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    org = sim.seed_organization("Contoso")
    key = sim.api_key
    texts = []
    with make_client(sim, fake, api_key="ITG.not-the-right-key-0123456789") as wrong, pytest.raises(ItGlueError) as e:
        wrong.list_organizations()
    assert e.value.status == 403
    texts += [str(e.value), repr(e.value), "".join(traceback.format_exception(e.value)), repr(wrong)]
    with make_client(sim, fake) as client:
        texts.append(repr(client))
        sim.add_fault(ItGlueFault("commit_then_drop", method="POST"))
        sim.add_fault(ItGlueFault("throttle", method="GET", retry_after=1))
        sim.add_fault(ItGlueFault("error", method="GET", status=500))
        client.list_contacts(organization_id=org)
        for call in (
            lambda: client.create_contact(organization_id=org, attributes={"first_name": "A"}),
            lambda: client.create_contact(organization_id=org, attributes={"contact_emails": [{"value": "x"}]}),
        ):
            with pytest.raises(ItGlueError) as err:
                call()
            texts += [str(err.value), repr(err.value), "".join(traceback.format_exception(err.value))]
        texts.append(json.dumps(client.stats.snapshot()))
    assert any("RemoteProtocolError" in t for t in texts) and "IT Glue GET /contacts -> 429" in caplog.text
    for text in [*texts, caplog.text]:
        assert key not in text and "not-the-right-key" not in text


def test_5xx_that_outlasts_the_retries_is_the_servers_error(sim, fake):
    sim.add_fault(ItGlueFault("error", method="GET", status=502, times=None))
    with make_client(sim, fake, max_attempts=3) as client, pytest.raises(ItGlueError) as err:
        client.list_organizations()
    assert not isinstance(err.value, ItGlueRateLimited)
    assert (err.value.status, err.value.title) == (502, "Bad Gateway") and len(fake.sleeps) == 2
    with make_client(sim, fake, deadline=1.0) as client, pytest.raises(ItGlueError) as err:
        client.list_organizations()
    assert err.value.status == 502 and fake.sleeps[2:] == [0.75]  # the next backoff (1.5 s) would pass the deadline


def test_a_429_holds_off_every_client_sharing_the_accounts_budget(sim, fake):
    budget = RateBudget(clock=fake.clock)
    sim.add_fault(ItGlueFault("throttle", times=1, retry_after=30))
    with make_client(sim, fake, budget=budget, max_attempts=1) as a, make_client(sim, fake, budget=budget) as b:
        with pytest.raises(ItGlueRateLimited):
            a.list_organizations()
        b.list_organizations()  # waits out the pause without sending
    assert fake.sleeps == [30.0] and b.stats.budget_wait_seconds == 30.0 and b.stats.requests == 1
    assert sim.request_counts() == {"GET /organizations": 2}
