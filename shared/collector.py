"""Collect usage reports from Graph into snapshots, for every enabled tenant, a few tenants at a time.

Each report is fetched the way Centreon fetches it (D7, then `date=<Report Refresh Date>` for the daily
form), but once per collection instead of once per check. One tenant's or one report's failure is recorded
as data and never stops the others; a failed report keeps its previous snapshot.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from shared import credentials, runs, settings, tenants
from shared.checks.engine import summary_accumulators
from shared.graph import GraphFailure, GraphSession, describe_error
from shared.reports.catalog import REPORTS, ReportDef
from shared.reports.csv_stream import ParsedReport, ReportFormatError
from shared.settings import GraphSettings
from shared.snapshots import SnapshotWriter

log = logging.getLogger("o365mon.collector")

# The datasets the report timer collects today (the catalog also describes those still to be wired in).
COLLECTED = ("email_activity", "mailbox_usage")


def _ingest(report: ReportDef, tenant_id: str, d7: bytes, outcome: runs.ReportOutcome) -> tuple:
    """Parse the D7 body and start the snapshot; returns what the daily part needs."""
    parsed = ParsedReport(report, d7)
    rows = iter(parsed)
    first = next(rows, None)
    refresh = parsed.refresh_date
    writer = SnapshotWriter(tenant_id, report.key, parsed.columns)
    accumulators = summary_accumulators(report.key, parsed.columns, refresh)
    try:
        for row in itertools.chain([first] if first is not None else [], rows):
            writer.add(row)
            for acc in accumulators:
                acc.add(row)
    except Exception:
        writer.abort()
        raise
    outcome.concealed = parsed.concealed
    return writer, accumulators, refresh


def _ingest_daily(report: ReportDef, body: bytes, writer: SnapshotWriter, accumulators: list) -> bool:
    parsed = ParsedReport(report, body)
    for row in parsed:
        writer.add(row)
        for acc in accumulators:
            acc.add(row)
    return parsed.concealed


async def _collect_report(g: GraphSession, tenant_id: str, report: ReportDef, outcome: runs.ReportOutcome) -> None:
    d7 = await g.report(report.function, period="D7")
    writer, accumulators, refresh = await asyncio.to_thread(_ingest, report, tenant_id, d7, outcome)
    del d7  # the body of a 100k-user report is ~20 MB: never hold two at once
    try:
        if report.daily and refresh:
            daily = await g.report(report.function, date=refresh)
            concealed = await asyncio.to_thread(_ingest_daily, report, daily, writer, accumulators)
            outcome.concealed = outcome.concealed or concealed
            del daily
        summaries = {acc.mode_key: acc.result() for acc in accumulators}
        pointer = await asyncio.to_thread(
            writer.commit, refresh_date=refresh, summaries=summaries, concealed=outcome.concealed
        )
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    outcome.rows, outcome.refresh_date, outcome.entities = pointer.rows, pointer.refresh_date, pointer.chunks
    outcome.status = "success"


async def collect_tenant(tenant: tenants.Tenant, graph_settings: GraphSettings | None = None) -> runs.RunRecord:
    run = runs.RunRecord(tenant_id=tenant.tenant_id)
    run.reports = [runs.ReportOutcome(report=key) for key in COLLECTED]
    try:
        creds = credentials.resolve(tenant.credential_prefix)
        async with GraphSession(tenant.tenant_id, creds, graph_settings or GraphSettings.from_env()) as g:
            for outcome in run.reports:
                try:
                    await _collect_report(g, tenant.tenant_id, REPORTS[outcome.report], outcome)
                except (GraphFailure, ReportFormatError) as exc:
                    outcome.status, outcome.error = "failed", str(exc)
                except Exception as exc:  # recorded as data: a bug must not hide the other reports
                    log.exception("tenant %s report %s", tenant.tenant_id, outcome.report)
                    outcome.status, outcome.error = "failed", describe_error(exc)
                if outcome.error.startswith("authentication failed"):
                    run.error = outcome.error  # the other reports would fail the same way
                    break
            run.requests, run.throttled = g.stats.requests, g.stats.throttled
            run.throttle_wait_s = g.stats.throttle_wait_s
    except credentials.CredentialError as exc:
        run.error = f"credentials: {exc}"
    except Exception as exc:
        log.exception("tenant %s", tenant.tenant_id)
        run.error = describe_error(exc)
    for outcome in run.reports:
        if outcome.status == "pending":
            outcome.status, outcome.error = "failed", run.error or "not attempted"
    run.finish()
    await asyncio.to_thread(runs.save, run)
    log.info(
        "tenant %s: %s, %d rows, %d Graph requests%s",
        tenant.tenant_id,
        run.status,
        run.rows,
        run.requests,
        f" ({run.error})" if run.error else "",
    )
    return run


async def collect_all(only: str | None = None, concurrency: int | None = None) -> list[runs.RunRecord]:
    """Collect every enabled tenant (or one, by id or domain), `COLLECT_CONCURRENCY` at a time."""
    if only:
        selected = [tenants.resolve(only)]
    else:
        selected = [t for t in tenants.list_all() if t.enabled]
    limit = asyncio.Semaphore(concurrency or int(settings.get("COLLECT_CONCURRENCY", "4") or 4))
    graph_settings = GraphSettings.from_env()

    async def one(t: tenants.Tenant) -> runs.RunRecord:
        async with limit:
            return await collect_tenant(t, graph_settings)

    return list(await asyncio.gather(*(one(t) for t in selected)))
