"""Queue messages that can never be processed: parsed by the queue's own parser, or sent to `<queue>-poison` at
once with the reason, instead of being retried maxDequeueCount times for nothing. Every queue trigger uses it, so
the rule (and its log line) lives here and the trigger adapters stay thin."""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.matching.messages import send_to_poison

log = logging.getLogger("o365mon.poison")


def parsed_or_poisoned(
    *, queue: str, body: str | bytes, message_id: str | None, parse: Callable[[str | bytes], dict]
) -> dict | None:
    """`parse(body)`, or None after sending the message to `<queue>-poison` with the ValueError's text. The
    caller returns normally on None, so the host deletes the message (on Azure as in the local runner)."""
    try:
        return parse(body)
    except ValueError as exc:
        send_to_poison(queue, body, str(exc))
        log.warning("queue %s: message %s moved to %s-poison: %s", queue, message_id, queue, exc)
        return None
