"""Queue messages (JSON, Base64 on the wire as the Functions queue trigger expects, via shared.storage.queue).

- `directory-sync`: {"tenant_id", "trigger"} - fetch a tenant's directory from Graph, then enqueue a match.
- `contact-match`: {"tenant_id", "trigger", "sync_started", "snapshot_id"} - run the matcher for a tenant.
Failed messages are retried by the host and land in `<queue>-poison` after host.json `maxDequeueCount`; a
message that can never parse goes there at once as {"message", "reason"} (the trigger adapter sends it).
"""

from __future__ import annotations

import json

from shared.store import storage

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
    """The message as a dict, or ValueError saying why it can never be processed (retrying cannot help)."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object: {type(data).__name__}")
    tenant = data.get("tenant_id")
    if not isinstance(tenant, str) or not tenant.strip():
        raise ValueError(f"tenant_id must be a non-empty string, got {json.dumps(tenant)[:60]}")
    data["tenant_id"] = tenant.strip().lower()
    return data


def send_to_poison(queue: str, body: str | bytes, reason: str) -> None:
    """Put a message that can never be processed in `<queue>-poison` at once, with the reason."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    _send(f"{queue}-poison", {"message": text, "reason": reason})
