"""The review screens over HTTP with both documentation backends (o365mon's tables and IT Glue, the simulator):
the filter lists the tenant with its suggestion, "Match to" finds organizations by part of their name (bounded),
an admin's match is recorded and applied by the next run, the tenant page lists its contacts with their status
and its sync logs, and a contact is shown beside its Microsoft 365 user with the manage link. The browser walk
of the same screens is tests/browser/test_review_flow.py."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Iterator

import azure.functions as func
import pytest

from devtools.dev_sign_in import principal_header
from devtools.itglue import ItGlueSimulator
from functions import console
from shared import docs
from shared.console import review as review_view
from shared.console.auth import ADMIN, READER
from shared.docs import transfer
from tests.support.docs_backends import store_directory, sync, user


@pytest.fixture(scope="module")
def itglue() -> Iterator[ItGlueSimulator]:
    with ItGlueSimulator() as sim:
        yield sim


@pytest.fixture(params=["tables", "itglue"])
def backend(request, storage_env, monkeypatch, itglue) -> Iterator[str]:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("CONSOLE_CSRF_KEY", "k-" + uuid.uuid4().hex)
    monkeypatch.setenv("DOCS_BACKEND", request.param)
    suffix = uuid.uuid4().hex[:6]
    names = {"fab": f"Fabrikham Inc {suffix}", "wood": f"Woodgrove Bank {suffix}"}
    if request.param == "itglue":
        monkeypatch.setenv("ITGLUE_API_URL", itglue.url)
        monkeypatch.setenv("ITGLUE_API_KEY", itglue.api_key)
        fab = itglue.seed_organization(names["fab"])
        email = {"value": "ana@fab.com", "primary": True, "label_name": "Work"}
        itglue.seed_contact(fab, first_name="Ana", last_name="Silva", title="Boss", contact_emails=[email])
        itglue.seed_organization(names["wood"])
    else:
        transfer.import_json(docs.import_store(), json.dumps({"organizations": [
            {"id": f"fab{suffix}", "name": names["fab"], "contacts": [
                {"id": f"c{suffix}", "first_name": "Ana", "last_name": "Silva", "emails": ["ana@fab.com"],
                 "title": "Boss"}]},
            {"id": f"wood{suffix}", "name": names["wood"]},
        ]}))  # fmt: skip
    yield suffix


@contextlib.contextmanager
def _store() -> Iterator[docs.DocumentationStore]:
    """The configured backend's store, as the console routes open it."""
    store = docs.documentation_store()
    try:
        yield store
    finally:
        docs.close(store)


def call(handler, method: str, url: str, role: str = ADMIN, **kwargs) -> func.HttpResponse:
    headers = {"X-MS-CLIENT-PRINCIPAL": principal_header(f"Test {role}", role), **kwargs.pop("headers", {})}
    return handler(func.HttpRequest(method, url, headers=headers, body=kwargs.pop("body", b""), **kwargs))


def text(resp: func.HttpResponse) -> str:
    return resp.get_body().decode()


def test_review_flow_over_http_with_either_backend(backend, tenant_id):
    suffix = backend
    store_directory(tenant_id, f"Fabrikam {suffix}", [user("u1", "Ana", "Silva", "ana@fab.com", job_title="CEO")])
    with _store() as store:
        sync(tenant_id, store)

    page = text(call(console.console_review, "GET", "/api/console/review", READER, params={"status": "suggested"}))
    row = re.search(rf'<tr id="row-{tenant_id}".*?</tr>', page, re.S)
    assert row and f"Fabrikham Inc {suffix}" in row.group(0) and 'data-action="accept"' not in row.group(0)

    found = text(
        call(console.console_review_organizations, "GET", "/x", params={"tenant": tenant_id, "q": f"wood {suffix}"})
    )
    names = re.findall(r'data-org="[^"]+">([^<]+)', found)
    assert names[0] == f"Woodgrove Bank {suffix}" and len(names) <= review_view.SEARCH_LIMIT
    org_id = re.search(r'name="org" value="([^"]+)"', found).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', found).group(1)

    body = f"org={org_id}&csrf_token={token}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
    route = {"tenant": tenant_id, "action": "match"}
    refused = call(console.console_review_action, "POST", "/x", READER, body=body, headers=headers, route_params=route)
    assert refused.status_code == 403
    done = call(console.console_review_action, "POST", "/x", body=body, headers=headers, route_params=route)
    assert done.status_code == 200 and "pending: match" in text(done) and "next sync" in text(done)
    with _store() as store:
        sync(tenant_id, store)

    page = text(call(console.console_review_tenant, "GET", "/x", READER, route_params={"tenant": tenant_id}))
    assert f"Woodgrove Bank {suffix}" in page and 'data-testid="tenant-status">matched' in page
    assert "created" in page  # Ana had no contact in Woodgrove: created there
    assert page.count('<td><span class="badge success">success</span>') >= 2  # both runs, newest first
    contact_id = re.search(rf"/review/tenants/{tenant_id}/contacts/([^\"]+)\"", page).group(1)
    compare = text(
        call(
            console.console_review_compare,
            "GET",
            "/x",
            READER,
            route_params={"tenant": tenant_id, "contact": contact_id},
        )
    )
    assert "UserDetails/u1" in compare and "Ana" in compare
