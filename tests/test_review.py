"""Review workflow on Azurite: suggestions, accept, match to another organization, ignore (kept across syncs),
create the organization, compare a contact with its user, manage link; the admin HTTP API and the CLI."""

from __future__ import annotations

import argparse
import json
import uuid

import azure.functions as func
import pytest

from functions import review as http
from shared.cli import sync as sync_cli
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.docs import transfer
from shared.docs.model import organization_id_for
from shared.docs.tables import TableDocumentationStore
from shared.matching import messages, review
from shared.matching.actions import ACTIONS
from shared.matching.run import handle_message
from shared.store import tenants


@pytest.fixture
def setup(storage_env, tenant_id):
    docs = TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])
    users = [
        DirectoryUser(id="u1", given_name="Ana", surname="Silva", upn="ana@fab.com", mail="ana@fab.com",
                      job_title="CEO", sku_ids=["s"], business_phones=["+1 1"]),
    ]  # fmt: skip
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name="Fabrikam"), users)
    transfer.import_json(docs, json.dumps({"organizations": [
        {"id": "fab", "name": "Fabrikham Inc", "contacts": [{"id": "c1", "first_name": "Ana", "last_name": "Silva",
                                                              "emails": ["ana@fab.com"], "title": "Boss"}]},
        {"id": "other", "name": "Other Corp"},
    ]}))  # fmt: skip
    return docs, tenant_id


def sync(tenant_id: str, docs) -> None:
    handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "test"}), store=docs)


def status(tenant_id: str, docs) -> dict:
    return next(i for i in review.list_items(tenant_id=tenant_id, store=docs) if i["kind"] == "organization")


def test_suggest_accept_compare_rematch_ignore_create(setup) -> None:
    docs, t = setup
    sync(t, docs)
    s = status(t, docs)
    assert s["status"] == "suggested" and s["suggestions"][0]["org_id"] == "fab" and s["org_id"] == ""
    assert [i["tenant_id"] for i in review.list_items("suggested", store=docs)].count(t) == 1
    assert review.accept(t)["enqueued"] == messages.MATCH_QUEUE
    assert status(t, docs)["decision"]["action"] == "accept"  # takes effect at the next sync
    sync(t, docs)
    s = status(t, docs)
    assert (s["status"], s["org_id"], s["rule"], s["decision"]) == ("matched", "fab", "link", {})
    out = review.compare(t, "c1", store=docs)
    assert out["differences"] == [] and out["contact"]["link_source"] == "linked"
    assert out["manage_url"] == "https://admin.microsoft.com/Adminportal/Home#/users/:/UserDetails/u1"
    assert docs.contact("fab", "c1").title == "CEO"  # the sync updated it: nothing differs any more
    review.match_to(t, "other", store=docs)
    sync(t, docs)
    assert status(t, docs)["org_id"] == "other" and docs.organization("fab").tenant_id == ""
    review.ignore(t)
    sync(t, docs)
    sync(t, docs)
    assert status(t, docs)["status"] == "ignored"  # stays ignored across syncs
    review.create_organization(t)
    sync(t, docs)
    sync(t, docs)
    new = docs.organization(organization_id_for(t))
    assert new.name == "Fabrikam" and new.tenant_id == t and status(t, docs)["org_id"] == new.id
    assert [o.tenant_id for o in docs.organizations()].count(t) == 1
    with pytest.raises(review.ReviewError):
        review.match_to(t, "nope", store=docs)


def test_admin_http_api_and_cli(setup, capsys) -> None:
    docs, t = setup
    sync(t, docs)
    app = func.FunctionApp()
    app.register_functions(http.bp)
    levels = {json.loads(f.get_function_json())["bindings"][0]["authLevel"] for f in app.get_functions()}
    assert levels == {"ADMIN"}
    req = func.HttpRequest("GET", "/api/review/items", params={"status": "suggested"}, body=b"")
    items = json.loads(http.review_items(req).get_body())
    assert any(i["tenant_id"] == t for i in items)
    req = func.HttpRequest("POST", "/x", route_params={"tenant": t, "action": "ignore"}, body=b"")
    assert http.review_action(req).status_code == 202
    req = func.HttpRequest("POST", "/x", route_params={"tenant": t, "action": "bogus"}, body=b"")
    assert http.review_action(req).status_code == 404
    tenants.add(tenants.Tenant(tenant_id=t))
    logs = json.loads(http.sync_logs(func.HttpRequest("GET", "/x", params={"tenant": t}, body=b"")).get_body())
    assert logs[0]["status"] == "success" and logs[0]["organization_status"] == "suggested"
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    assert sync_cli.handle(parser.parse_args(["review", "manage-link", "u1"])) == 0
    assert sync_cli.handle(parser.parse_args(["sync", "logs", "--tenant", t])) == 0
    assert sync_cli.handle(argparse.Namespace(command="tenants")) is None
    out = capsys.readouterr().out
    assert "UserDetails/u1" in out and "org=suggested" in out


# -- the review actions are one table: the admin API and the CLI accept the same names and parameters
def _cli(args: list[str]) -> int | None:
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    return sync_cli.handle(parser.parse_args(["review", *args]))


def _post(tenant: str, action: str, **params: str) -> tuple[int, dict]:
    req = func.HttpRequest("POST", "/x", route_params={"tenant": tenant, "action": action}, params=params, body=b"")
    resp = http.review_action(req)
    return resp.status_code, json.loads(resp.get_body())


def test_create_organization_has_one_name_on_the_cli_and_the_api(setup, capsys) -> None:
    docs, t = setup
    sync(t, docs)
    assert _cli(["create-organization", t]) == 0  # the API's name; the CLI only knew `create-org`
    assert status(t, docs)["decision"]["action"] == "create"
    assert _cli(["create-org", t]) == 0  # the old CLI spelling still works
    assert _post(t, "create-organization")[0] == 202
    assert capsys.readouterr().out.count(f"{t}: create recorded; takes effect at the next sync") == 2


def test_every_action_of_the_table_is_served_by_both(setup) -> None:
    docs, t = setup
    sync(t, docs)
    tenants.add(tenants.Tenant(tenant_id=t))  # a manual sync needs a monitored tenant
    for action in ACTIONS:
        if action.parameter and not action.parameter.whole_number:
            # Dispatched with its parameter to the same review function by both (the organization is unknown
            # to the default documentation store, which both then name).
            assert _post(t, action.name, org="nope") == (404, {"error": "unknown organization 'nope'"})
            assert _cli([action.name, t, "nope"]) == 3  # not found: exit 3, as for an unknown tenant
            continue
        assert _post(t, action.name)[0] == 202, action.name
        assert _cli([action.name, t]) == 0, action.name


def test_unknown_action_and_missing_parameter_name_what_is_expected(setup) -> None:
    _, t = setup
    code, body = _post(t, "bogus")
    assert code == 404
    assert body["error"] == (
        "unknown action 'bogus' (one of: accept, match, ignore, unignore, create-organization, sync)"
    )
    assert _post(t, "match") == (400, {"error": "match needs ?org=<organization id>"})
    assert review.ReviewError  # the CLI maps the same errors through shared.matching.review.ReviewError
