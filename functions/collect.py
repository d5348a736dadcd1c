"""Timer trigger: collect usage reports for every enabled tenant (schedule: app setting COLLECT_SCHEDULE)."""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("o365mon.functions.collect")


@bp.timer_trigger(arg_name="timer", schedule="%COLLECT_SCHEDULE%", run_on_startup=False, use_monitor=True)
def collect_reports(timer: func.TimerRequest) -> None:
    # Imported here, not at module level: the Graph SDK costs ~0.3 s and 30+ MB, and the HTTP check
    # functions share this worker process.
    from shared.collector import collect_all

    if timer.past_due:
        log.warning("collection timer is past due")
    results = asyncio.run(collect_all())
    failed = [r.tenant_id for r in results if r.status != "success"]
    log.info("collected %d tenants, %d not fully successful: %s", len(results), len(failed), failed)
