"""Collection: the timers (COLLECT_SCHEDULE for the reports, HEALTH_SCHEDULE for service health) enqueue one
`collect` message per enabled tenant, and the `collect` queue trigger collects one tenant (shared/collect/fanout.py:
lease, duplicates, retries); and, when DISCOVER_SCHEDULE is set, partner discovery."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import settings

bp = func.Blueprint()
log = logging.getLogger("o365mon.functions.collect")


def _enqueue(schedule: str, timer: func.TimerRequest) -> None:
    from shared.collect.fanout import enqueue_round

    if timer.past_due:
        log.warning("%s collection timer is past due", schedule)
    # The tick names the round in the messages (logs); the SDK's TimerRequest interface does not promise it.
    status = getattr(timer, "schedule_status", None)
    tick = str(status.get("Last") or "") if isinstance(status, dict) else ""
    log.info("%s: enqueued a collection for %d tenants", schedule, len(enqueue_round(schedule, tick)))


@bp.timer_trigger(arg_name="timer", schedule="%COLLECT_SCHEDULE%", run_on_startup=False, use_monitor=True)
def collect_reports(timer: func.TimerRequest) -> None:
    _enqueue("reports", timer)


@bp.timer_trigger(arg_name="timer", schedule="%HEALTH_SCHEDULE%", run_on_startup=False, use_monitor=True)
def collect_health(timer: func.TimerRequest) -> None:
    _enqueue("health", timer)


# Async: a Python worker runs sync functions on a small thread pool (min(32, CPUs + 4): 5 on a 1-vCPU Flex
# instance), which would cap the collections in flight below batchSize + newBatchThreshold; a collection waits on
# Graph almost all the time, so many share one event loop.
@bp.queue_trigger(arg_name="msg", queue_name="collect", connection="AzureWebJobsStorage")
async def collect_tenant(msg: func.QueueMessage) -> None:
    # Imported here: the Graph SDK costs ~0.3 s and 30+ MB, and the HTTP check functions share this worker.
    from shared.collect import fanout
    from shared.poison import parsed_or_poisoned

    body = parsed_or_poisoned(queue=fanout.QUEUE, body=msg.get_body(), message_id=msg.id, parse=fanout.parse)
    if body is None:
        return
    outcome = await fanout.handle(body, attempt=int(msg.dequeue_count or 1))
    log.info("collect %s (%s): %s", body["tenant_id"], body["schedule"], outcome.text)


def discover_tenants(timer: func.TimerRequest) -> None:
    """Partner discovery (GDAP): add the new customers (enabled as DISCOVER_ADD_ENABLED says), mark gone ones."""
    from shared.store import discovery

    found = discovery.discover()
    changes = discovery.apply(found, enabled=settings.flag("DISCOVER_ADD_ENABLED"))
    log.info(
        "discovery: %d customers; added %s, marked removed %s, back %s",
        sum(c.state != discovery.GONE for c in found),
        [c.tenant_id for c in changes.added],
        [c.tenant_id for c in changes.removed],
        [c.tenant_id for c in changes.returned],
    )


# Registered only when scheduled: a timer needs a valid schedule, and empty means off (app settings are in the
# environment when the worker imports this module, locally too).
if settings.get("DISCOVER_SCHEDULE"):
    bp.timer_trigger(arg_name="timer", schedule="%DISCOVER_SCHEDULE%", run_on_startup=False, use_monitor=True)(
        discover_tenants
    )
