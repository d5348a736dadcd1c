"""Timer triggers: collect the usage reports and JSON datasets (COLLECT_SCHEDULE) and, more often, service
health (HEALTH_SCHEDULE), for every enabled tenant; and, when DISCOVER_SCHEDULE is set, partner discovery."""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func

from shared import settings

bp = func.Blueprint()
log = logging.getLogger("o365mon.functions.collect")


def _run(schedule: str, timer: func.TimerRequest) -> None:
    # Imported here, not at module level: the Graph SDK costs ~0.3 s and 30+ MB, and the HTTP check
    # functions share this worker process.
    from shared.collect.collector import collect_all

    if timer.past_due:
        log.warning("%s collection timer is past due", schedule)
    results = asyncio.run(collect_all(schedule=schedule))
    failed = [r.tenant_id for r in results if r.status != "success"]
    log.info("%s: collected %d tenants, %d not fully successful: %s", schedule, len(results), len(failed), failed)


@bp.timer_trigger(arg_name="timer", schedule="%COLLECT_SCHEDULE%", run_on_startup=False, use_monitor=True)
def collect_reports(timer: func.TimerRequest) -> None:
    _run("reports", timer)


@bp.timer_trigger(arg_name="timer", schedule="%HEALTH_SCHEDULE%", run_on_startup=False, use_monitor=True)
def collect_health(timer: func.TimerRequest) -> None:
    _run("health", timer)


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
