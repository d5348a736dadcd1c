"""A matching message that keeps failing ends in `contact-match-poison`, through the same queue trigger the
Functions host drives (local runner, Base64 messages from Azurite), and the sync log says why."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import function_app
from devtools.azurite import free_port
from devtools.runner import LocalRunner
from shared.matching import messages, state
from shared.matching.lock import TenantLock
from shared.store import storage


def test_failing_match_message_lands_in_poison_and_log_says_why(storage_env, tmp_path: Path, monkeypatch) -> None:
    host = json.loads(Path(function_app.__file__).with_name("host.json").read_text())
    host["extensions"]["queues"].update(visibilityTimeout="00:00:01", maxPollingInterval="00:00:00.200")
    (tmp_path / "host.json").write_text(json.dumps(host))
    monkeypatch.setenv("MATCH_LOCK_WAIT", "0")
    tenant_id = str(uuid.uuid4())
    messages.enqueue_match(tenant_id, "test")
    runner = LocalRunner(function_app.app, tmp_path / "host.json", port=free_port(), function_key="f", master_key="m")
    # Another run holds the tenant's lock for the whole test: every attempt fails, as a stuck run would make it.
    with TenantLock(tenant_id, ttl=120, wait=0):
        runner.start()
        try:
            poison = storage.queue(f"{messages.MATCH_QUEUE}-poison")
            deadline = time.monotonic() + 40
            found = []
            while time.monotonic() < deadline and not found:
                found = [m for m in poison.peek_messages(max_messages=32) if tenant_id in m.content]
                time.sleep(0.3)
        finally:
            runner.stop()
    assert found, "the message never reached the poison queue"
    logs = state.recent_logs(tenant_id)
    assert len(logs) == messages.MAX_ATTEMPTS
    assert "giving up: message moved to contact-match-poison" in json.dumps(logs[0])
