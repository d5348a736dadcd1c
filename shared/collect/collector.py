"""Collect every catalog dataset from Graph into snapshots, for every enabled tenant, a few tenants at a time.

CSV reports are fetched the way Centreon fetches them (D7, then `date=<Report Refresh Date>` for the daily
form), but once per collection instead of once per check. JSON collections (service health, licences, app
credentials, organization, report settings) are read as Graph's raw JSON (GraphSession follows every
nextLink) and flattened into rows with exactly the catalog's columns; values stay as Graph sends them, enum
spelling included (camelCase, and a value newer than this code is stored as sent), as Centreon prints them:
- service_health: one row per (service, issue); a service without issues has one row whose text issue
  columns are "" and whose `is_resolved` is None.
- subscriptions: one row per SKU; `capability_status` as Graph spells it (e.g. "Enabled").
- app_credentials: one row per password ("password") and certificate ("key") credential of every app.
- organization: one row; `directory_used`/`directory_total` from beta `directorySizeQuota` (None if absent),
  `verified_domains` a JSON list of names.
- report_settings: one row; its ReportStatus `Concealed` is the setting itself.
Datetimes are ISO 8601 UTC `YYYY-MM-DDTHH:MM:SSZ` ("" when absent). JSON snapshots have refresh_date "": they
have no report date, and the pointer's CollectedAt says when they were read.
Which timer collects a dataset is `Dataset.schedule`: "reports" (COLLECT_SCHEDULE) or "health"
(HEALTH_SCHEDULE, service health only). One tenant's or one dataset's failure is recorded as data and never
stops the others; a failed dataset (any failed page, a 429 left after the SDK's retries) keeps its previous
snapshot.

Bounds per tenant: the whole collection has a deadline (COLLECT_TENANT_DEADLINE_S, default 600 s); once a
dataset is still throttled after the SDK's retries, or storage fails, the tenant's remaining datasets are
recorded as "skipped: ..." instead of each waiting out the same throttling (Graph's budgets are per app and
tenant). The run record is written at the start ("running"), with the datasets finished so far at most every
PROGRESS_INTERVAL_S while it runs, and at the end, so a run the host kills leaves a trace.

Plausibility guard (CSV reports): a download can be cut at a line boundary, or inside the last cell of a line,
and still parse. A new snapshot is held back (status "suspect", the previous snapshot stays current) when, for
its D7 or its daily form, it has no row where the current snapshot has some, or it lost half or more of the
current snapshot's rows *and* more than SUSPECT_MIN_DROP rows (10: small tenants' normal churn stays below it);
or when its daily form has more rows than its D7 form (the daily form lists a subset of the D7 users, so the D7
body was cut). The next collection that finds the same row count (within SUSPECT_CONFIRM_TOLERANCE) confirms
it: a real drop repeats, a cut lands elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from azure.core.exceptions import AzureError

from shared import settings
from shared.checks.engine import indexed_columns, summary_accumulators
from shared.collect import credentials
from shared.collect.catalog import DATASETS, Dataset
from shared.collect.csv_stream import CONCEALED, ParsedReport, ReportFormatError
from shared.collect.graph import GraphFailure, GraphSession, describe_error, redact
from shared.insights import summary
from shared.settings import GraphSettings
from shared.store import runs, snapshots, storage, tenants
from shared.store.snapshots import SnapshotWriter

log = logging.getLogger("o365mon.collector")

UNREAD = snapshots.UNREAD
Known = snapshots.Pointer | None | snapshots.Unread  # a dataset's current pointer read earlier, or UNREAD

SCHEDULES = ("reports", "health")
SUSPECT_MIN_DROP = 10
SUSPECT_DROP_RATIO = 0.5
SUSPECT_CONFIRM_TOLERANCE = 0.05


class CollectionError(Exception):
    """A collection that could not start at all (storage unavailable), with a one-line reason."""


class Suspect(Exception):
    """A report body that parsed but is implausible against the current snapshot: held back, not stored."""


def _suspicion(report: Dataset, forms: dict[str, int], current: snapshots.Pointer | None) -> str:
    """Why a new snapshot with `forms` rows per form looks cut, or "" when it is plausible."""
    if report.daily and forms.get("daily", 0) > forms.get("d7", 0):
        return f"its daily form has {forms['daily']} rows but its D7 form only {forms['d7']} (a cut D7 body?)"
    if current is None or current.rows <= 0:
        return ""
    before = current.forms or {"total": current.rows}
    after = forms if current.forms else {"total": sum(forms.values())}
    for form, old in before.items():
        new = after.get(form, 0)
        drop = old - new
        if old > 0 and (new == 0 or (drop >= SUSPECT_DROP_RATIO * old and drop > SUSPECT_MIN_DROP)):
            return f"{new} {form} rows against {old} in the current snapshot (-{100 * drop / old:.0f} %)"
    return ""


def datasets(schedule: str = "reports") -> tuple[str, ...]:
    """Catalog keys collected by one timer, in catalog order."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {SCHEDULES}")
    return tuple(key for key, r in DATASETS.items() if r.schedule == schedule)


# The datasets the report timer collects (every catalog dataset except service health, which has its own).
COLLECTED = datasets("reports")


def _fed(rows: Iterable[list], accumulators: list) -> Iterator[list]:
    """The rows unchanged, each added on its way to every summary accumulator (the summaries unfiltered checks
    read are computed while the rows stream into the snapshot)."""
    for row in rows:
        for acc in accumulators:
            acc.add(row)
        yield row


def _store_batches(batches: Iterable[list[list]], accumulators: list, writer: SnapshotWriter) -> None:
    """Each list of rows to every summary accumulator, then row by row into the snapshot."""
    add = writer.add
    for batch in batches:
        for acc in accumulators:
            acc.add_many(batch)
        for row in batch:
            add(row)


def _ingest(report: Dataset, tenant_id: str, d7: IO[bytes], outcome: runs.ReportOutcome) -> tuple:
    """Parse the D7 body and start the snapshot; returns what the daily part needs."""
    parsed = ParsedReport(report, d7)
    batches = parsed.batches()
    first = next(batches, None)  # the report date is read from the first row: the summaries need it
    refresh = parsed.refresh_date
    writer = SnapshotWriter(tenant_id, report.key, parsed.columns, indexed=indexed_columns(report.key))
    accumulators = summary_accumulators(report.key, parsed.columns, refresh)
    try:
        _store_batches(itertools.chain([first] if first is not None else [], batches), accumulators, writer)
    except Exception:
        writer.abort()
        raise
    outcome.concealed = parsed.concealed
    return writer, accumulators, refresh, parsed.row_count


def _ingest_daily(report: Dataset, body: IO[bytes], writer: SnapshotWriter, accumulators: list) -> tuple:
    parsed = ParsedReport(report, body)
    _store_batches(parsed.batches(), accumulators, writer)
    return parsed.concealed, parsed.row_count


def _guard(
    tenant_id: str, report: Dataset, forms: dict[str, int], outcome: runs.ReportOutcome, known: Known = UNREAD
) -> snapshots.Pointer | None:
    """Raise Suspect unless the new snapshot is plausible, or confirms the one the last collection held back.
    Returns the current pointer it judged against (`known`, read at the run's start, or read now): the commit
    switches from it without reading it again."""
    pointer = snapshots.current(tenant_id, report.key) if isinstance(known, snapshots.Unread) else known
    reason = _suspicion(report, forms, pointer)
    if not reason:
        return pointer
    total = sum(forms.values())
    last = runs.last_status(tenant_id, report.key) or {}
    held = int(last.get("HeldRows") or 0)
    # Held is set by a held-back outcome only, and reset by any other (the "running" mark leaves it alone).
    if last.get("Held") and abs(total - held) <= SUSPECT_CONFIRM_TOLERANCE * held:
        log.warning("tenant %s %s: %s, confirmed by a second collection: stored", tenant_id, report.key, reason)
        return pointer
    outcome.held_rows = total
    raise Suspect(f"held back: {reason}; the current snapshot stays until the next collection confirms {total} rows")


async def _collect_report(
    g: GraphSession, tenant_id: str, report: Dataset, outcome: runs.ReportOutcome, known: Known = UNREAD
) -> None:
    with await g.report(report.function, period="D7") as d7:  # a temporary file: never the body in memory
        writer, accumulators, refresh, d7_rows = await asyncio.to_thread(_ingest, report, tenant_id, d7, outcome)
    try:
        forms = {"d7": d7_rows}
        if report.daily and refresh:
            with await g.report(report.function, date=refresh) as daily:
                concealed, forms["daily"] = await asyncio.to_thread(_ingest_daily, report, daily, writer, accumulators)
            outcome.concealed = outcome.concealed or concealed
        known = await asyncio.to_thread(_guard, tenant_id, report, forms, outcome, known)
        summaries = {acc.mode_key: acc.result() for acc in accumulators}
        pointer = await asyncio.to_thread(
            writer.commit,
            refresh_date=refresh, summaries=summaries, concealed=outcome.concealed, forms=forms, known=known,
            sweep=False,
        )  # fmt: skip
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    outcome.rows, outcome.refresh_date, outcome.entities = pointer.rows, pointer.refresh_date, pointer.row_entities
    outcome.status = "success"


# ---------------------------------------------------------------------------------------------- JSON datasets


def _iso(value: Any) -> str:
    """A Graph DateTimeOffset as `YYYY-MM-DDTHH:MM:SSZ` (Graph may send 7 fraction digits, or an offset)."""
    if not value:
        return ""
    text = str(value)
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", text)
    if not match:
        return text
    stamp = dt.datetime.fromisoformat(match.group(1) + (match.group(3) or "Z").replace("Z", "+00:00"))
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# Rows keep Graph's values as sent (enum spelling included), as Centreon prints them.
def _service_health_rows(items: list[dict]) -> list[list]:
    rows = []
    for service in items:
        head = [_text(service.get("id")), _text(service.get("service")), _text(service.get("status"))]
        issues = service.get("issues") or []
        if not issues:
            rows.append([*head, "", "", "", "", "", "", "", None, "", "", ""])
        for issue in issues:
            rows.append(
                [
                    *head,
                    _text(issue.get("id")),
                    _text(issue.get("classification")),
                    _text(issue.get("title")),
                    _text(issue.get("startDateTime")),
                    _text(issue.get("endDateTime")),
                    _text(issue.get("lastModifiedDateTime")),
                    _text(issue.get("status")),
                    issue.get("isResolved"),
                    _text(issue.get("feature")),
                    _text(issue.get("featureGroup")),
                    _text(issue.get("impactDescription")),
                ]
            )
    return rows


def _subscription_rows(items: list[dict]) -> list[list]:
    rows = []
    for sku in items:
        units = sku.get("prepaidUnits") or {}
        rows.append(
            [
                _text(sku.get("skuId")),
                _text(sku.get("skuPartNumber")),
                _text(sku.get("capabilityStatus")),
                _text(sku.get("appliesTo")),
                units.get("enabled"),
                units.get("warning"),
                units.get("suspended"),
                units.get("lockedOut"),
                sku.get("consumedUnits"),
            ]
        )
    return rows


def _app_credential_rows(items: list[dict]) -> list[list]:
    rows = []
    for app in items:
        app_id, name = _text(app.get("appId") or app.get("id")), _text(app.get("displayName"))
        for kind, field in (("password", "passwordCredentials"), ("key", "keyCredentials")):
            for c in app.get(field) or []:
                rows.append(
                    [
                        app_id,
                        name,
                        kind,
                        _text(c.get("keyId")),
                        _text(c.get("displayName")),
                        _iso(c.get("startDateTime")),
                        _iso(c.get("endDateTime")),
                    ]
                )
    return rows


def _organization_rows(items: list[dict]) -> list[list]:
    rows = []
    for org in items:
        quota = org.get("directorySizeQuota") or {}
        domains = org.get("verifiedDomains") or []
        default = next((d.get("name") for d in domains if d.get("isDefault")), "")
        initial = next((d.get("name") for d in domains if d.get("isInitial")), "")
        rows.append(
            [
                _text(org.get("id")),
                _text(org.get("displayName")),
                quota.get("used") if isinstance(quota, dict) else None,
                quota.get("total") if isinstance(quota, dict) else None,
                json.dumps([d.get("name") for d in domains]),
                _text(default),
                _text(initial),
            ]
        )
    return rows


# Catalog key -> (GraphSession method, flattener). Rows follow the catalog's column order.
_JSON: dict[str, tuple[str, Callable[[list[dict]], list[list]]]] = {
    "service_health": ("service_health", _service_health_rows),
    "subscriptions": ("subscribed_skus", _subscription_rows),
    "app_credentials": ("applications", _app_credential_rows),
    "organization": ("organization", _organization_rows),
}


def store_rows(
    tenant_id: str,
    report: Dataset,
    rows: Iterable[list],
    *,
    refresh_date: str = "",
    concealed: bool = False,
    known: Known = UNREAD,
    sweep: bool = True,
) -> Any:
    """Store a dataset's rows with the per-mode summaries unfiltered checks read (computed while streaming).
    JSON datasets have no report date: the pointer's CollectedAt says when they were read."""
    columns = list(report.columns)
    accumulators = summary_accumulators(report.key, columns, refresh_date)
    return snapshots.write(
        tenant_id, report.key, columns, _fed(rows, accumulators),
        summaries=lambda: {acc.mode_key: acc.result() for acc in accumulators},
        refresh_date=refresh_date, concealed=concealed, known=known, sweep=sweep, indexed=indexed_columns(report.key),
    )  # fmt: skip


async def _collect_json(
    g: GraphSession, tenant_id: str, report: Dataset, outcome: runs.ReportOutcome, known: Known = UNREAD
) -> None:
    if report.key == "report_settings":
        settings_entity = await g.report_settings()
        value = settings_entity.get("displayConcealedNames")
        rows: list[list] = [[value]]
        concealed = bool(value)
    else:
        method, flatten = _JSON[report.key]
        items = await getattr(g, method)()
        rows = flatten(items)
        identity = list(report.columns).index(report.identity_column)
        concealed = any(isinstance(r[identity], str) and CONCEALED.match(r[identity]) for r in rows)
    outcome.concealed = concealed
    pointer = await asyncio.to_thread(
        store_rows, tenant_id, report, rows, concealed=concealed, known=known, sweep=False
    )
    if report.key == "organization" and rows:  # checks then find the tenant by any of these names
        org = rows[0]
        await asyncio.to_thread(tenants.learn_names, tenant_id, org[1], [org[5], *json.loads(org[4])])
    outcome.rows, outcome.refresh_date, outcome.entities = pointer.rows, pointer.refresh_date, pointer.row_entities
    outcome.status = "success"


async def _collect(
    g: GraphSession, tenant_id: str, report: Dataset, outcome: runs.ReportOutcome, known: Known = UNREAD
) -> None:
    if report.source == "json":
        await _collect_json(g, tenant_id, report, outcome, known)
    else:
        await _collect_report(g, tenant_id, report, outcome, known)


def _storage_reason(exc: BaseException) -> str:
    """One line, whatever azure-core stacked into the message (retries, the urllib3 error, its repr)."""
    text = " ".join(redact(str(getattr(exc, "message", "") or exc)).split())
    return f"storage unavailable: {type(exc).__name__}: {text}"[:300]


def _deadline_s() -> float:
    return settings.number("COLLECT_TENANT_DEADLINE_S")


async def _collect_one(
    g: GraphSession,
    tenant: tenants.Tenant,
    outcome: runs.ReportOutcome,
    deadline: float,
    limit: float,
    pointers: dict[str, snapshots.Pointer] | None = None,
) -> str:
    """Collect one dataset into `outcome`; returns why the tenant's remaining datasets must be skipped, or ""."""
    report = DATASETS[outcome.report]
    loop = asyncio.get_running_loop()
    stop = ""
    with g.measured() as mine:
        try:
            async with asyncio.timeout(deadline - loop.time()):
                known = UNREAD if pointers is None else pointers.get(outcome.report)
                await _collect(g, tenant.tenant_id, report, outcome, known)
        except TimeoutError:
            outcome.status = "failed"
            outcome.error = f"{_deadline_reached(limit)} during this dataset; the previous snapshot stays"
            stop = f"skipped: {_deadline_reached(limit)}"
        except Suspect as exc:
            outcome.status, outcome.error = "suspect", str(exc)
        except GraphFailure as exc:
            outcome.status, outcome.error = "failed", str(exc)
            if exc.status == 403:
                outcome.error += (
                    f" (the app needs the Microsoft Graph application permission {report.permission}, "
                    "granted with admin consent)"
                )
            if exc.throttled:
                stop = f"skipped: throttled (Graph still answered 429 on {outcome.report} after the SDK's retries)"
        except ReportFormatError as exc:
            outcome.status, outcome.error = "failed", str(exc)
        except AzureError as exc:  # Graph failures are GraphFailure: what is left is storage
            outcome.status, outcome.error = "failed", _storage_reason(exc)
            stop = f"skipped: {outcome.error}"
        except Exception as exc:  # recorded as data: a bug must not hide the other reports
            log.exception("tenant %s report %s", tenant.tenant_id, outcome.report)
            outcome.status, outcome.error = "failed", describe_error(exc)
    outcome.requests, outcome.throttled = mine.requests, mine.throttled
    outcome.throttle_wait_s = round(mine.throttle_wait_s, 3)
    return stop


def missing_permission(report: Dataset, roles: frozenset[str] | None, consent_url: str) -> str:
    """Why `report` cannot be collected with a token holding `roles`, or "" (also when the roles are unknown)."""
    if roles is None or roles & report.accepted_roles:
        return ""
    held = ", ".join(sorted(roles)) or "none"
    return (
        f"{report.permission} missing: grant it (Microsoft Graph, application permission) and admin-consent it "
        f"in this tenant at {consent_url}; the app's token holds {held}; not requested from Graph"
    )


async def collect_tenant(
    tenant: tenants.Tenant, graph_settings: GraphSettings | None = None, schedule: str = "reports"
) -> runs.RunRecord:
    """Collect one timer's datasets for a tenant; never raises: every failure is in the returned record, with a
    one-line reason (storage included)."""
    run = runs.RunRecord(tenant_id=tenant.tenant_id, schedule=schedule)
    run.reports = [runs.ReportOutcome(report=key) for key in datasets(schedule)]
    limit = _deadline_s()
    deadline = asyncio.get_running_loop().time() + limit
    storage_ok = True
    try:
        await asyncio.to_thread(runs.start, run)  # "running": a run killed by the host leaves this trace
    except AzureError as exc:
        run.error, storage_ok = _storage_reason(exc), False
    try:
        if storage_ok:
            await _collect_datasets(tenant, run, graph_settings or GraphSettings.from_env(), deadline, limit)
    except credentials.CredentialError as exc:
        run.error = f"credentials: {exc}"
    except Exception as exc:
        log.exception("tenant %s", tenant.tenant_id)
        run.error = describe_error(exc)
    for outcome in run.reports:
        if outcome.status == "pending":
            outcome.status, outcome.error = "failed", run.error or "not attempted"
    run.finish()
    if storage_ok:
        try:
            await asyncio.to_thread(runs.save, run)
        except AzureError as exc:
            reason = f"{_storage_reason(exc)} (this run could not be recorded)"
            run.error = f"{run.error}; {reason}" if run.error and reason not in run.error else reason
            run.status = "failed"
        await asyncio.to_thread(summary.record_collection, tenant, run)  # the console's summary and history
    log.info(
        "tenant %s (%s): %s, %d rows, %d Graph requests%s",
        tenant.tenant_id,
        schedule,
        run.status,
        run.rows,
        run.requests,
        f" ({run.error})" if run.error else "",
    )
    return run


def _deadline_reached(limit: float) -> str:
    return f"the tenant's collection deadline of {limit:g} s (COLLECT_TENANT_DEADLINE_S) was reached"


def _report_concurrency() -> int:
    return max(1, settings.integer("COLLECT_REPORT_CONCURRENCY"))


async def _collect_datasets(
    tenant: tenants.Tenant, run: runs.RunRecord, graph_settings: GraphSettings, deadline: float, limit: float
) -> None:
    """The run's datasets, COLLECT_REPORT_CONCURRENCY at a time: Graph throttles each report API separately
    (14 per 10 minutes per report, app and tenant), so different reports do not share a budget, and a tenant's
    collection costs the slowest few reports instead of the sum of all. Datasets start in catalog order; once one
    says the rest must be skipped (throttled after the SDK's retries, storage down, deadline), those not started
    yet are skipped, those running finish."""
    loop = asyncio.get_running_loop()
    creds = credentials.resolve(tenant.credential_prefix)
    async with GraphSession(tenant.tenant_id, creds, graph_settings) as g:
        try:
            roles = await g.granted_roles()
        except Exception as exc:  # no token at all: every dataset would fail the same way
            run.error = g.describe(exc)
            return
        slots = asyncio.Semaphore(_report_concurrency())
        stop = ""
        # One query for every dataset's current pointer instead of one read per dataset; a commit is conditional
        # on the pointer it read, so one changed since (another collection) is read again there.
        pointers: dict[str, snapshots.Pointer] | None
        try:
            pointers = await asyncio.to_thread(snapshots.current_all, tenant.tenant_id)
        except AzureError:
            pointers = None  # each dataset reads its own, and records a storage failure as its outcome

        async def one(outcome: runs.ReportOutcome) -> None:
            nonlocal stop
            missing = missing_permission(DATASETS[outcome.report], roles, g.consent_url)
            if missing:
                outcome.status, outcome.error = "failed", missing
            else:
                async with slots:
                    if not stop and loop.time() >= deadline:
                        stop = f"skipped: {_deadline_reached(limit)}"
                    if stop:
                        outcome.status, outcome.error = "skipped", stop
                        return
                    stop = await _collect_one(g, tenant, outcome, deadline, limit, pointers) or stop
            if not outcome.error.startswith("storage unavailable"):
                progress.finished(outcome)
            if progress.failure:
                stop = stop or f"skipped: {progress.failure}"

        progress = _Progress(run)
        try:
            await asyncio.gather(*(one(o) for o in run.reports))
        finally:
            await progress.close()
        # Superseded snapshots of the whole run in one sweep (one query, not one per dataset). A run stopped
        # before it leaves them to the next run's sweep, as a crashed one does.
        committed = [o.report for o in run.reports if o.status == "success"]
        if progress.failure or any("storage unavailable" in o.error for o in run.reports):
            committed = []  # storage is down: no waiting out its retries once more, the next run sweeps
        try:
            await asyncio.to_thread(snapshots.sweep, tenant.tenant_id, committed)
        except AzureError as exc:
            log.warning("tenant %s: superseded snapshots not deleted: %s", tenant.tenant_id, _storage_reason(exc))
        run.requests, run.throttled = g.stats.requests, g.stats.throttled
        run.throttle_wait_s = round(g.stats.throttle_wait_s, 3)


# Progress writes (the running run record and the finished datasets' ReportStatus) are coalesced: at most one
# every PROGRESS_INTERVAL_S, and none for what the final record writes anyway. Each write is ~3 ms of CPU (Table
# Storage's client), and one per dataset was a fifth of a small tenant's collection; a killed run still leaves a
# trace at most this old.
PROGRESS_INTERVAL_S = 5.0


class _Progress:
    """The datasets finished since the last progress write, written together once PROGRESS_INTERVAL_S has passed
    since the previous write (the run's start counts as one)."""

    def __init__(self, run: runs.RunRecord) -> None:
        self.run = run
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()
        self.pending: list[runs.ReportOutcome] = []
        self.failure = ""  # a storage failure of a progress write: the remaining datasets are skipped
        self._task: asyncio.Task | None = None
        self._sleeping = False

    def finished(self, outcome: runs.ReportOutcome) -> None:
        outcome.finished = storage.now_iso()
        self.pending.append(outcome)
        if self._task is None:
            self._sleeping = True  # until it has slept: close() may come before the task ever ran
            self._task = asyncio.create_task(self._write_later())

    async def _write_later(self) -> None:
        try:
            await asyncio.sleep(max(0.0, self.last + PROGRESS_INTERVAL_S - self.loop.time()))
        finally:
            self._sleeping = False
        batch, self.pending = self.pending, []
        self.last = self.loop.time()
        try:
            await asyncio.to_thread(_write_progress, self.run, batch)
        except AzureError as exc:
            for outcome in batch:
                outcome.finished = ""  # written again with the final record
            self.failure = self.failure or _storage_reason(exc)
        finally:
            self._task = None
            if self.pending:  # finished while this write was in flight
                self._sleeping = True
                self._task = asyncio.create_task(self._write_later())

    async def close(self) -> None:
        """Drop a write still waiting (the final record has it all), but let one in flight land first: written
        after the final record, it would turn the run back into "running"."""
        while self._task is not None:
            task = self._task
            if self._sleeping:
                task.cancel()
                self._task = None
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for outcome in self.pending:
            outcome.finished = ""  # not written yet: the final record writes it
        self.pending = []


def _write_progress(run: runs.RunRecord, outcomes: list[runs.ReportOutcome]) -> None:
    runs.save_outcomes(run.tenant_id, outcomes)
    runs.save_run(run)


async def collect_all(
    only: str | None = None, concurrency: int | None = None, schedule: str = "reports"
) -> list[runs.RunRecord]:
    """Collect one timer's datasets (`schedule`: "reports" or "health") for every enabled tenant (or one, by id
    or domain), `COLLECT_CONCURRENCY` at a time."""
    datasets(schedule)  # an unknown schedule fails before any tenant is touched
    try:
        if only:
            selected = [tenants.resolve(only)]
        else:
            selected = [t for t in tenants.list_all() if t.enabled]
    except AzureError as exc:
        raise CollectionError(f"cannot list the tenants: {_storage_reason(exc)}") from None
    limit = asyncio.Semaphore(concurrency or settings.integer("COLLECT_CONCURRENCY"))
    graph_settings = GraphSettings.from_env()

    async def one(t: tenants.Tenant) -> runs.RunRecord:
        async with limit:
            return await collect_tenant(t, graph_settings, schedule)

    return list(await asyncio.gather(*(one(t) for t in selected)))
