"""Per-tenant sync settings on Azurite: set and shown through the CLI and the admin API (refused input named), and
applied by the matcher through Policy.for_tenant (subscription filter, guests, licences)."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request

import azure.functions as func
import pytest

from functions import review as http
from shared.cli import sync as sync_cli
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs.model import CREATED, Contact
from shared.matching import contacts
from shared.matching.policy import Policy
from shared.store import tenants
from tests.support import MASTER_KEY

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
BP = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
SKUS = [
    {"skuId": E3, "skuPartNumber": "SPE_E3", "capabilityStatus": "Enabled", "consumedUnits": 2, "enabled": 25},
    {"skuId": BP, "skuPartNumber": "SPB", "capabilityStatus": "Enabled", "consumedUnits": 3, "enabled": 10},
]


@pytest.fixture
def tenant(storage_env, tenant_id) -> tuple[str, str]:
    """A monitored tenant with a stored directory (two subscriptions); yields (tenant id, its domain)."""
    domain = f"{tenant_id[:8]}.contoso.com"
    name = f"Contoso {tenant_id[:8]}"  # tests share Azurite: a name of its own resolves to this tenant only
    tenants.add(tenants.Tenant(tenant_id, name, [domain]))
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name=name, skus=SKUS), [])
    return tenant_id, domain


def cli(*args: str) -> int | None:
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    return sync_cli.handle(parser.parse_args(["sync", "settings", *args]))


def request(method: str, tenant: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    req = func.HttpRequest(method, f"/api/review/tenants/{tenant}/settings", route_params={"tenant": tenant},
                           body=data)  # fmt: skip
    resp = http.review_settings(req)
    return resp.status_code, json.loads(resp.get_body())


def test_cli_sets_and_shows_a_tenants_settings_by_domain(tenant, capsys) -> None:
    t, domain = tenant
    assert cli(domain) == 0
    shown = capsys.readouterr().out
    assert f"tenant {t} (Contoso {t[:8]})" in shown and "every licensed user (default)" in shown
    assert "licences:      synced (app setting SYNC_LICENCES)" in shown
    assert "guests:        skipped (app setting SYNC_INCLUDE_GUESTS)" in shown
    assert cli(domain, "--skus", f"spe_e3,{BP.upper()}", "--licences", "off", "--guests", "on") == 0
    out = capsys.readouterr().out
    assert f"users of SPE_E3, {BP}" in out  # as the tenant spells them
    assert "licences:      not synced\n" in out and "guests:        included\n" in out
    assert cli(f"contoso {t[:8]}", "--json") == 0  # by display name too; stored, not only printed
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"] == {"skus": ["SPE_E3", BP], "licences": False, "guests": True}
    assert [s["synced"] for s in doc["subscriptions"]] == [True, True]
    assert cli(t, "--skus", "SPE_E3") == 0  # other settings keep their value
    assert "[x] SPE_E3" in (out := capsys.readouterr().out) and "[ ] SPB" in out and "not synced" in out
    assert cli("") == 0 and f"{t}  skus=SPE_E3 licences=off guests=on" in capsys.readouterr().out
    assert cli(t, "--all-licensed", "--guests", "default", "--licences", "default") == 0
    assert "every licensed user (default)" in capsys.readouterr().out
    assert cli(t, "--skus", "SPE_E5") == 1
    err = capsys.readouterr().err
    assert err == "error: skus: the tenant has no subscription 'SPE_E5' (it has: SPB, SPE_E3)\n"
    assert cli("nowhere.example", "--guests", "on") == 3  # unknown tenant: not found


def test_admin_api_sets_shows_and_refuses_bad_input_with_a_reason(tenant) -> None:
    t, domain = tenant
    code, doc = request("GET", domain)
    assert code == 200 and doc["settings"] == {"skus": None, "licences": None, "guests": None}
    assert doc["effective"] == {"contacts_for": "every licensed user", "sku_ids": None, "licences": True,
                                "guests": False}  # fmt: skip
    code, doc = request("PUT", t, {"skus": ["SPB"], "guests": True})
    assert code == 200 and doc["settings"] == {"skus": ["SPB"], "licences": None, "guests": True}
    assert doc["effective"]["sku_ids"] == [BP] and doc["effective"]["guests"] is True
    assert request("GET", t)[1]["settings"] == doc["settings"]
    code, doc = request("PUT", t, {"guests": None, "licences": False})  # null: back to the app setting
    assert doc["settings"] == {"skus": ["SPB"], "licences": False, "guests": None}
    refused = {
        "unknown key": ({"sku": ["SPB"]}, "unknown setting 'sku' (the settings are: skus, licences, guests)"),
        "not a list": (
            {"skus": "SPB"}, "skus must be a list of SKU part numbers or SKU ids, or null (every licensed user)"
        ),
        "empty list": ({"skus": []}, "skus: name at least one subscription, or use null (every licensed user)"),
        "unknown SKU": (
            {"skus": ["SPB", "VISIO"]}, "skus: the tenant has no subscription 'VISIO' (it has: SPB, SPE_E3)"
        ),
        "not a SKU": ({"skus": ["a b"]}, "skus: 'a b' is neither a SKU part number (e.g. SPE_E3) nor a SKU id"),
        "not a bool": ({"licences": "yes"}, 'licences must be true, false or null (the app setting), got "yes"'),
        "not an object": (["SPB"], 'the body must be a JSON object, e.g. {"skus": ["SPE_E3"], "licences": true}'),
    }  # fmt: skip
    for case, (body, message) in refused.items():
        assert request("PUT", t, body) == (400, {"error": message}), case
    code, doc = request("PUT", t, raw=b"{skus: 1}")
    assert code == 400 and doc["error"].startswith("the body is not JSON (Expecting property name")
    assert request("GET", t)[1]["settings"] == {"skus": ["SPB"], "licences": False, "guests": None}  # unchanged
    code, doc = request("GET", "nowhere.example")
    assert code == 404 and "nowhere.example" in doc["error"]


def test_settings_route_is_served_next_to_the_review_actions(served_app) -> None:
    base, t = served_app

    def call(method: str, path: str, body: object = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers={"x-functions-key": MASTER_KEY})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    code, doc = call("PUT", f"/api/review/tenants/{t[:8]}.contoso.com/settings", {"licences": False})
    assert code == 200 and doc["tenant_id"] == t and doc["effective"]["licences"] is False
    assert doc["directory_stored"] is False and doc["subscriptions"] == []
    assert call("GET", f"/api/review/tenants/{t}/settings")[1]["settings"]["licences"] is False
    code, doc = call("POST", f"/api/review/tenants/{t}/settings")  # the review actions' route: no such action
    assert code == 404 and doc["error"].startswith("unknown action 'settings'")


def member(uid: str, *skus: str, **kw) -> DirectoryUser:
    kw.setdefault("upn", f"{uid}@contoso.com")
    return DirectoryUser(id=uid, given_name=uid.title(), surname="User", mail=f"{uid}@contoso.com",
                         sku_ids=list(skus), **kw)  # fmt: skip


def test_matcher_creates_contacts_only_for_the_chosen_subscriptions_and_keeps_links(tenant) -> None:
    t, _ = tenant
    info = directory.load_info(t)
    users = [
        member("ann", E3.upper()),  # Graph's case may differ from the stored SKU's
        member("bob", BP),
        member("cy", BP, E3),
        member("dee"),  # no licence at all
        member("eve", BP),  # already linked: stays linked and updated
    ]
    linked = Contact(organization_id="org", id="c-eve", first_name="Eve", last_name="Old", emails=["eve@contoso.com"],
                     link_tenant=t, link_user="eve", link_source=CREATED)  # fmt: skip
    assert cli(t, "--skus", "SPE_E3") == 0
    policy = Policy.for_tenant(t, info)
    assert policy.sku_ids == frozenset({E3})
    plan = contacts.plan(t, "org", users, [linked], policy)
    got = {o.user_id: (o.status, o.rule) for o in plan.outcomes}
    assert got == {
        "ann": ("created", ""), "bob": ("skipped", "subscription not synced"), "cy": ("created", ""),
        "dee": ("skipped", "unlicensed"), "eve": ("matched", "link"),
    }  # fmt: skip
    assert next(c for c in plan.writes if c.id == "c-eve").last_name == "User"  # still updated
    assert cli(t, "--all-licensed") == 0  # back to today's policy: every licensed user
    plan = contacts.plan(t, "org", users, [linked], Policy.for_tenant(t, info))
    assert {o.user_id for o in plan.outcomes if o.status == "created"} == {"ann", "bob", "cy"}


def test_a_chosen_subscription_the_tenant_no_longer_has_creates_no_one(tenant) -> None:
    t, _ = tenant
    assert cli(t, "--skus", "SPB") == 0
    info = directory.load_info(t)
    gone = DirectoryInfo(tenant_id=t, skus=[s for s in info.skus if s["skuId"] != BP])
    plan = contacts.plan(t, "org", [member("bob", BP), member("ann", E3)], [], Policy.for_tenant(t, gone))
    assert {o.status for o in plan.outcomes} == {"skipped"}
    assert Policy.for_tenant(t, None).sku_ids == frozenset()  # a part number needs the directory to resolve


def test_guests_and_licences_follow_the_tenant_else_the_app_settings(tenant, monkeypatch) -> None:
    t, _ = tenant
    guest = member("gus", E3, user_type="Guest", upn="gus_x.com#EXT#@contoso.onmicrosoft.com")
    monkeypatch.setenv("SYNC_INCLUDE_GUESTS", "false")
    monkeypatch.setenv("SYNC_LICENCES", "false")

    def gus() -> tuple[str, str]:
        o = contacts.plan(t, "org", [guest], [], Policy.for_tenant(t)).outcomes[0]
        return o.status, o.rule

    assert gus() == ("skipped", "guest") and Policy.for_tenant(t).sync_licences is False  # the app settings
    assert cli(t, "--guests", "on", "--licences", "on") == 0
    assert gus() == ("created", "") and Policy.for_tenant(t).sync_licences is True
    monkeypatch.setenv("SYNC_INCLUDE_GUESTS", "true")
    assert cli(t, "--guests", "off") == 0
    assert gus() == ("skipped", "guest")
    assert cli(t, "--guests", "default") == 0
    assert gus() == ("created", "")
    other = Policy.for_tenant("7d4e0c1a-0000-4000-8000-000000000000")  # no settings stored: the app settings
    assert (other.include_guests, other.sync_licences, other.sku_ids) == (True, False, None)
