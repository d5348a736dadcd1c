"""What a person or script calling o365mon over HTTP is told when IT Glue fails under it: IT Glue refusing
o365mon's key is a 502 naming IT Glue and its answer (not IT Glue's 403 passed on, which reads as "you lack
the role"), and IT Glue unreachable is a 503 within seconds (a few attempts, not the queue work's 15 minutes)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import azure.functions as func
import pytest

from devtools.azurite import free_port
from devtools.dev_sign_in import principal_header
from devtools.itglue import ItGlueSimulator
from functions import console, review
from shared.console.auth import ADMIN


@pytest.fixture(scope="module")
def itglue() -> Iterator[ItGlueSimulator]:
    with ItGlueSimulator() as sim:
        yield sim


@pytest.fixture
def on_itglue(storage_env, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DOCS_BACKEND", "itglue")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("CONSOLE_CSRF_KEY", "k-" + uuid.uuid4().hex)
    return monkeypatch


def export(status_wanted: int) -> dict:
    resp = review.docs_export(func.HttpRequest("GET", "/api/docs/export", body=b"", params={"format": "json"}))
    assert resp.status_code == status_wanted, resp.get_body()
    return json.loads(resp.get_body())


def test_itglue_refusing_the_key_is_a_bad_gateway(on_itglue, itglue: ItGlueSimulator) -> None:
    on_itglue.setenv("ITGLUE_API_URL", itglue.url)
    on_itglue.setenv("ITGLUE_API_KEY", "not-the-key")
    body = export(502)
    assert body["error"].startswith("IT Glue refused the request: GET /organizations: 403 Forbidden: Invalid API key")
    assert "not-the-key" not in json.dumps(body)
    headers = {"X-MS-CLIENT-PRINCIPAL": principal_header("Ada Admin", ADMIN), "Accept": "application/json"}
    search = console.console_review_organizations(
        func.HttpRequest("GET", "/x", headers=headers, body=b"", params={"tenant": str(uuid.uuid4()), "q": "contoso"})
    )
    assert search.status_code == 502 and "Invalid API key" in search.get_body().decode()


def test_itglue_unreachable_is_unavailable_within_seconds(on_itglue) -> None:
    on_itglue.setenv("ITGLUE_API_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    on_itglue.setenv("ITGLUE_API_KEY", "any-key")
    start = time.monotonic()
    body = export(503)
    assert time.monotonic() - start < 30  # the interactive deadline, not the queue work's
    assert body["error"].startswith("IT Glue unreachable: GET /organizations: 0 No answer: ConnectError")


def test_match_to_search_reads_the_organizations_once_while_the_admin_types(on_itglue, itglue) -> None:
    """Search-as-you-type: one keystroke is one request to o365mon, not one read of every IT Glue organization
    (two pages per 1,000) from the account's shared rate budget."""
    from shared.console import review as review_view

    on_itglue.setenv("ITGLUE_API_URL", itglue.url)
    on_itglue.setenv("ITGLUE_API_KEY", itglue.api_key)
    suffix = uuid.uuid4().hex[:6]
    itglue.seed_organization(f"Contoso Pharmaceuticals {suffix}")
    review_view._search_cache.clear()  # another test may have searched this account
    itglue.clear_request_counts()
    headers = {"X-MS-CLIENT-PRINCIPAL": principal_header("Ada Admin", ADMIN)}
    tenant = str(uuid.uuid4())
    for typed in ("ph", "pha", "phar", f"pharma {suffix}"):
        resp = console.console_review_organizations(
            func.HttpRequest("GET", "/x", headers=headers, body=b"", params={"tenant": tenant, "q": typed})
        )
        assert resp.status_code == 200
    assert f"Contoso Pharmaceuticals {suffix}" in resp.get_body().decode()
    assert itglue.total_requests() == 1  # one page: the simulator's account has fewer than 1,000
