"""Directory sync end to end: the simulator's /organization, /users ($select, $top=999, nextLink) and
/subscribedSkus through the real msgraph-sdk -> packed snapshot in Azurite -> a Base64 match message."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from azure.storage.queue import QueueClient

from devtools.simulator import directory as simdir
from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.directory import store
from shared.directory.sync import enqueue_all, sync_tenant
from shared.matching import messages, state
from shared.matching.run import handle_message
from shared.store import snapshots, storage, tenants
from tests.support import use_simulator

CLIENT_ID = "dddddddd-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "sync-secret"


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    sample = [SampleTenant.generate(501, 1100), SampleTenant.generate(502, 30), SampleTenant.generate(7802, 30)]
    return graph_simulator.serve(sample, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def graph_env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    return sim


def match_messages(tenant_id: str) -> list[dict]:
    q = storage.queue(messages.MATCH_QUEUE)
    found = []
    for m in q.receive_messages(messages_per_page=32, visibility_timeout=1):
        body = json.loads(m.content)
        if body["tenant_id"] == tenant_id:
            found.append(body)
            q.delete_message(m)
    return found


def test_directory_sync_pages_stores_packed_and_enqueues_a_base64_match(graph_env, storage_env) -> None:
    sample = SampleTenant.generate(501, 1100)
    tenants.add(tenants.Tenant(tenant_id=sample.tenant_id, display_name="x", domains=[sample.domain]))
    info = asyncio.run(sync_tenant(sample.tenant_id, "test"))
    assert info is not None and info.users == simdir.directory_size(sample) > 999  # more than one page
    assert info.display_name == sample.display_name and info.default_domain == sample.domain
    assert info.initial_domain.endswith(".onmicrosoft.com") and info.skus
    users = list(store.load_users(sample.tenant_id))
    assert len({u.id for u in users}) == len(users) == info.users
    guests = [u for u in users if u.is_guest]
    assert len(guests) == 3 and all("#EXT#" in g.upn for g in guests)
    jose = next(u for u in users if u.display_name == "José García")
    assert "jose.garcia@" + sample.domain in jose.aliases() and jose.sku_ids
    assert any(not u.account_enabled and not u.sku_ids for u in users)
    pointer = snapshots.current(sample.tenant_id, store.DATASET)
    assert pointer.chunks <= 3  # 1,100 users packed into a few entities, not 1,100
    # The match request: Base64 on the wire, as the Functions queue trigger expects.
    raw = QueueClient.from_connection_string(storage_env.connection_string, messages.MATCH_QUEUE)
    peeked = [json.loads(base64.b64decode(m.content)) for m in raw.peek_messages(max_messages=32)]
    assert any(p["tenant_id"] == sample.tenant_id and p["snapshot_id"] == info.snapshot_id for p in peeked)
    [msg] = match_messages(sample.tenant_id)
    log = handle_message(json.dumps(msg))
    assert log.status == "success" and log.users == info.users


def test_failed_directory_sync_is_logged_and_enqueues_nothing(graph_env, monkeypatch) -> None:
    sample = SampleTenant.generate(7802, 30)
    tenants.add(tenants.Tenant(tenant_id=sample.tenant_id, credential_prefix="WRONG"))
    monkeypatch.setenv("WRONG_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("WRONG_CLIENT_SECRET", "nope")
    assert asyncio.run(sync_tenant(sample.tenant_id, "test")) is None
    [log] = state.recent_logs(sample.tenant_id, 5)
    assert log["status"] == "failed"
    assert log["errors_text"][0].startswith("directory: organization: authentication failed")
    assert match_messages(sample.tenant_id) == []


def test_timer_fans_out_one_message_per_enabled_tenant(storage_env, tenant_id) -> None:
    tenants.add(tenants.Tenant(tenant_id=tenant_id))
    assert tenant_id in enqueue_all("timer")
