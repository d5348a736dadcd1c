"""Directory sync and matching: a timer (SYNC_SCHEDULE) fans out one `directory-sync` message per
tenant; that queue fetches the tenant's directory and enqueues a `contact-match` message; that queue runs the
matcher. Queue triggers let the host retry and move a message that keeps failing to `<queue>-poison`."""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("o365mon.functions.sync")


@bp.timer_trigger(arg_name="timer", schedule="%SYNC_SCHEDULE%", run_on_startup=False, use_monitor=True)
def directory_sync_timer(timer: func.TimerRequest) -> None:
    from shared.directory.sync import enqueue_all

    if timer.past_due:
        log.warning("directory sync timer is past due")
    log.info("directory sync enqueued for %d tenants", len(enqueue_all("timer")))


def _parsed_or_poisoned(msg: func.QueueMessage, queue: str) -> dict | None:
    from shared.matching.messages import parse
    from shared.poison import parsed_or_poisoned

    return parsed_or_poisoned(queue=queue, body=msg.get_body(), message_id=msg.id, parse=parse)


@bp.queue_trigger(arg_name="msg", queue_name="directory-sync", connection="AzureWebJobsStorage")
def directory_sync(msg: func.QueueMessage) -> None:
    from shared.directory.sync import sync_tenant
    from shared.matching.messages import SYNC_QUEUE

    body = _parsed_or_poisoned(msg, SYNC_QUEUE)
    if body is not None:
        asyncio.run(sync_tenant(body["tenant_id"], str(body.get("trigger", ""))))


@bp.queue_trigger(arg_name="msg", queue_name="contact-match", connection="AzureWebJobsStorage")
def contact_match(msg: func.QueueMessage) -> None:
    from shared.matching.messages import MATCH_QUEUE
    from shared.matching.run import handle_message

    if _parsed_or_poisoned(msg, MATCH_QUEUE) is not None:
        handle_message(msg.get_body(), attempt=int(msg.dequeue_count or 1))
