"""Fan-out collection: a timer enqueues one `collect` message per enabled tenant and schedule; the queue trigger
collects one tenant. The Functions host then spreads the tenants over instances, retries a failed message and
moves one that keeps failing to `collect-poison`; no invocation holds every tenant, so none runs into the
function timeout.

Message: {"tenant_id", "schedule" ("reports" | "health"), "round" (the timer's tick), "enqueued" (ISO 8601 UTC)}.

At most one collection per tenant and schedule at a time, and no work done twice, under at-least-once delivery
and overlapping rounds: a lease (`CollectLeases`, PartitionKey schedule, RowKey tenant id; ETag-conditional, see
shared/store/lease.py) is taken before collecting, and kept afterwards with the time that collection started.
- Lease held by another collection: the message completes at once as "skipped: already being collected since
  ..." (waiting would hold an instance for minutes, and that collection delivers what this message asks for).
- A collection of the tenant started after this message was enqueued: the message completes as "skipped:
  already collected ...": its data is at least as fresh as what the message asked for. This drops a duplicate
  delivery that comes after the first finished, and the older of two rounds' messages for a tenant when rounds
  overlap (a backlog): each tenant is collected once per backlog, not once per queued message.
- The lease expires COLLECT_TENANT_DEADLINE_S + 120 s after it was taken: a collection ends at its deadline, so
  only a dead holder (host killed) keeps it that long.

A collection that failed as a whole for a reason a retry can cure (Graph or storage unreachable, an unexpected
error) raises, so the host retries it after the visibility timeout; one that failed for want of consent or
permission, or partly, does not (the run record says why, and the next round tries again). On the last attempt
(host.json maxDequeueCount) the reason is recorded where `health collection-status` shows it, before the host
moves the message to `collect-poison`; the tenant's next successful collection clears it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import logging
from dataclasses import dataclass

from azure.core.exceptions import AzureError

from shared import settings
from shared.matching import messages
from shared.store import runs, storage, tenants
from shared.store.lease import Lease, LeaseBusy

log = logging.getLogger("o365mon.fanout")

QUEUE = "collect"
POISON_QUEUE = f"{QUEUE}-poison"
LEASES = "CollectLeases"
SCHEDULES = ("reports", "health")
POISON_KEY = "poison-{schedule}"  # ReportStatus RowKey of a tenant's poisoned message (next to its datasets)
SEND_THREADS = 10  # parallel sends (one round trip each); the SDK's connection pool holds 10
# Failures a retry cannot cure: the next round tries again anyway.
_PERMANENT = ("authentication failed", "credentials:")


@dataclass
class Outcome:
    status: str  # collected | skipped
    text: str
    run: runs.RunRecord | None = None


class RetryableFailure(Exception):
    """The collection failed as a whole for a reason a retry may cure: raised so the host retries the message."""


def parse(body: str | bytes) -> dict:
    """The message, or ValueError saying why it can never be processed."""
    data = messages.parse(body)
    schedule = data.get("schedule", "reports")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {json.dumps(schedule)[:60]}")
    data["schedule"] = schedule
    return data


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enqueue_round(schedule: str, round_id: str = "") -> list[str]:
    """One message per enabled tenant on `collect`; returns the tenant ids. Sends run in parallel streams."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}")
    enqueued = _now().isoformat()
    selected = [t.tenant_id for t in tenants.list_all() if t.enabled]
    client = storage.queue(QUEUE)  # Azure SDK clients are thread-safe

    def send(tenant_id: str) -> None:
        body = {"tenant_id": tenant_id, "schedule": schedule, "round": round_id or enqueued, "enqueued": enqueued}
        client.send_message(json.dumps(body, separators=(",", ":")))

    with concurrent.futures.ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
        list(pool.map(send, selected))  # re-raises the first failure: the timer run then fails visibly
    return selected


def _lease_ttl() -> float:
    return settings.number("COLLECT_TENANT_DEADLINE_S") + 120


def _hms(iso: str) -> str:
    try:
        return f"{dt.datetime.fromisoformat(iso).astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return iso or "?"


def _after(a: str, b: str) -> bool:
    """Is ISO time `a` later than `b` (False if either is missing or unreadable)?"""
    try:
        return dt.datetime.fromisoformat(a) > dt.datetime.fromisoformat(b)
    except ValueError:
        return False


def _retryable(run: runs.RunRecord) -> bool:
    return run.status == "failed" and not any(run.error.startswith(p) for p in _PERMANENT)


async def handle(body: dict, attempt: int = 1) -> Outcome:
    """Collect the message's tenant (see the module docstring); raises RetryableFailure or a storage error for the
    host to retry, after recording the reason on the last attempt."""
    try:
        return await _handle(body)
    except Exception as exc:
        if attempt >= messages.MAX_ATTEMPTS:
            reason = str(exc) if isinstance(exc, RetryableFailure) else f"{type(exc).__name__}: {exc}"
            await asyncio.to_thread(record_poison, body["tenant_id"], body["schedule"], reason, attempt)
        raise


async def _handle(body: dict) -> Outcome:
    from shared.collect.collector import collect_tenant

    tenant_id, schedule = body["tenant_id"], body["schedule"]
    enqueued = str(body.get("enqueued") or "")
    try:
        tenant: tenants.Tenant | None = await asyncio.to_thread(tenants.get, tenant_id)
    except tenants.TenantError:
        tenant = None
    if tenant is None or not tenant.enabled:
        return Outcome("skipped", f"skipped: tenant {tenant_id} is not an enabled tenant (any more)")
    lease = Lease(LEASES, schedule, tenant_id, ttl=_lease_ttl())
    try:
        await asyncio.to_thread(lease.acquire)
    except LeaseBusy as busy:
        holder = busy.holder
        return Outcome(
            "skipped",
            f"skipped: already being collected since {_hms(str(holder.get('Taken', '')))} "
            f"(by {holder.get('Owner', '?')}, lease until {_hms(str(holder.get('Expires', '')))})",
        )
    last_started = str(lease.previous.get("LastStarted") or "")
    if _after(last_started, enqueued):
        await asyncio.to_thread(lease.release, **lease.previous)
        return Outcome(
            "skipped",
            f"skipped: already collected by a collection started at {_hms(last_started)}, after this message "
            f"was queued at {_hms(enqueued)}",
        )
    started = _now().isoformat()
    try:
        run = await collect_tenant(tenant, schedule=schedule)
    except BaseException:
        await asyncio.to_thread(lease.release, **lease.previous)
        raise
    if _retryable(run):
        await asyncio.to_thread(lease.release, **lease.previous)  # not a collection: the retry must not be dropped
        raise RetryableFailure(run.error or "every dataset failed")
    await asyncio.to_thread(lease.release, LastStarted=started, LastStatus=run.status)
    try:
        await asyncio.to_thread(clear_poison, tenant_id, schedule)
    except AzureError:
        log.warning("tenant %s: could not clear its %s poison record", tenant_id, schedule)
    return Outcome("collected", f"{run.status}: {run.error}" if run.error else run.status, run)


def record_poison(tenant_id: str, schedule: str, reason: str, attempts: int) -> None:
    from shared.insights import summary

    storage.table(runs.STATUS).upsert_entity(
        entity={
            "PartitionKey": tenant_id,
            "RowKey": POISON_KEY.format(schedule=schedule),
            "LastAttempt": storage.now_iso(),
            "LastStatus": "failed",
            "LastError": (
                f"the {schedule} collection message failed {attempts} times and was moved to {POISON_QUEUE}: {reason}"
            )[:8000],
        }
    )
    summary.record_failure(tenant_id, reason)  # the console's dashboard shows it too


def clear_poison(tenant_id: str, schedule: str) -> None:
    storage.table(runs.STATUS).delete_entity(partition_key=tenant_id, row_key=POISON_KEY.format(schedule=schedule))
