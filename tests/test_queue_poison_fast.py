"""A queue message that can never be processed (`tenant_id: null`, not JSON) goes to `<queue>-poison` at once
as {message, reason}, through each queue trigger the host drives (local runner, Azurite: directory sync,
matching, collection), not after five retries; the queue itself is left empty of it."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

import function_app
from devtools.azurite import free_port
from devtools.runner import LocalRunner
from shared.collect import fanout
from shared.matching import messages
from shared.store import storage


@pytest.mark.parametrize("queue", [messages.SYNC_QUEUE, messages.MATCH_QUEUE, fanout.QUEUE])
def test_unparseable_messages_are_poisoned_at_once_with_the_reason(storage_env, tmp_path: Path, queue: str) -> None:
    host = json.loads(Path(function_app.__file__).with_name("host.json").read_text())
    # A long visibility timeout: a retried message would not come back within the test.
    host["extensions"]["queues"].update(visibilityTimeout="00:05:00", maxPollingInterval="00:00:00.200")
    (tmp_path / "host.json").write_text(json.dumps(host))
    marker = uuid.uuid4().hex
    null_tenant = json.dumps({"tenant_id": None, "trigger": marker})
    not_json = f"not json {marker}"
    source = storage.queue(queue)
    # The test Azurite is shared: a message another test left on this queue would be processed (and, failing,
    # held invisible for the five minutes) by this runner too.
    source.clear_messages()
    for body in (null_tenant, not_json):
        source.send_message(body)
    runner = LocalRunner(
        function_app.app, tmp_path / "host.json", port=free_port(), function_key="f", master_key="m",
        enable_timers=False,
    )  # fmt: skip
    runner.start()
    try:
        poison = storage.queue(f"{queue}-poison")
        found: list[dict] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(found) < 2:
            found = [json.loads(m.content) for m in poison.peek_messages(max_messages=32) if marker in m.content]
            time.sleep(0.2)
    finally:
        runner.stop()
    assert sorted(found, key=lambda d: d["message"]) == [
        {"message": not_json, "reason": "not JSON: Expecting value: line 1 column 1 (char 0)"},
        {"message": null_tenant, "reason": "tenant_id must be a non-empty string, got null"},
    ]
    # Processed once and deleted: nothing is left invisible on the queue waiting for a retry.
    assert source.get_queue_properties().approximate_message_count == 0


def test_parse_refuses_what_can_never_be_processed() -> None:
    for body, reason in [
        ('{"tenant_id": null}', "tenant_id must be a non-empty string, got null"),
        ('{"tenant_id": 42}', "tenant_id must be a non-empty string, got 42"),
        ('["x"]', "not a JSON object: list"),
        (b'{"tenant_id": "\xff"}', "not UTF-8 text"),
    ]:
        with pytest.raises(ValueError) as exc:
            messages.parse(body)
        assert str(exc.value) == reason
