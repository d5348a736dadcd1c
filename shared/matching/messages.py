"""Queue messages (JSON, Base64 on the wire as the Functions queue trigger expects, via shared.storage.queue).

- `directory-sync`: {"tenant_id", "trigger"} - fetch a tenant's directory from Graph, then enqueue a match.
- `contact-match`: {"tenant_id", "trigger", "sync_started", "snapshot_id"} - run the matcher for a tenant.
Failed messages are retried by the host and land in `<queue>-poison` after host.json `maxDequeueCount`.
"""

from __future__ import annotations

import json

from shared import storage

SYNC_QUEUE = "directory-sync"
MATCH_QUEUE = "contact-match"
MAX_ATTEMPTS = 5  # keep equal to host.json extensions.queues.maxDequeueCount (a test checks it)


def _send(queue: str, body: dict) -> None:
    storage.queue(queue).send_message(json.dumps(body, separators=(",", ":")))


def enqueue_sync(tenant_id: str, trigger: str) -> None:
    _send(SYNC_QUEUE, {"tenant_id": tenant_id, "trigger": trigger})


def enqueue_match(tenant_id: str, trigger: str, *, sync_started: str = "", snapshot_id: str = "") -> None:
    _send(
        MATCH_QUEUE,
        {"tenant_id": tenant_id, "trigger": trigger, "sync_started": sync_started, "snapshot_id": snapshot_id},
    )


def parse(body: str | bytes) -> dict:
    data = json.loads(body)
    if not isinstance(data, dict) or not str(data.get("tenant_id", "")).strip():
        raise ValueError("message needs a tenant_id")
    data["tenant_id"] = str(data["tenant_id"]).strip().lower()
    return data
