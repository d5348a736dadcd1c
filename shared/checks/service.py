"""Answer a check from stored snapshots: tenant → pointer → check engine. Never calls Graph.

Every failure becomes `UNKNOWN: <reason>` with exit code 3, and an HTTP status for the HTTP trigger
(400 bad option, 404 unknown plugin/mode/tenant, 200 otherwise: a check that ran and said UNKNOWN is
still a valid answer for the poller).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator

from shared.checks import engine, limits, tenant_summary
from shared.checks.data import ReportData
from shared.checks.options import CONNECTION_OPTIONS
from shared.checks.result import CheckError, CheckResult, unknown
from shared.checks.spec import ReportMode
from shared.store import collection_status, runs, snapshots, storage, tenants
from shared.store.chunk_cache import ANSWER_PREFIX, CHUNKS

_TENANT_TTL_S = 60.0
_tenant_cache: dict[str, tuple[float, tenants.Tenant]] = {}


def _tenant(name: str) -> tenants.Tenant:
    # Tenants change rarely; caching the lookup keeps an unfiltered check at one point read.
    hit = _tenant_cache.get(name.lower())
    if hit and time.monotonic() - hit[0] < _TENANT_TTL_S:
        return hit[1]
    tenant = tenants.resolve(name)
    _tenant_cache[name.lower()] = (time.monotonic(), tenant)
    return tenant


# Dataset states (ReportStatus.LastStatus) in which a collection ended without storing a snapshot.
_NOT_STORED = {"failed": "failed", "suspect": "was held back", "skipped": "was skipped"}


def _no_data_reason(tenant: tenants.Tenant, report: str) -> str:
    status = runs.last_status(tenant.tenant_id, report) or {}
    state = status.get("LastStatus")
    if state in _NOT_STORED:
        return (
            f"no data for tenant '{tenant.tenant_id}' report '{report}': last collection {_NOT_STORED[state]} "
            f"at {status.get('LastAttempt', '?')}: {status.get('LastError', '')}"
        )
    if state == "running":
        return (
            f"no data collected yet for tenant '{tenant.tenant_id}' report '{report}': "
            f"the first collection is running since {status.get('LastAttempt', '?')}"
        )
    return f"no data collected yet for tenant '{tenant.tenant_id}' report '{report}' (run a collection first)"


def answer(plugin: str, mode: str, options: dict[str, str]) -> tuple[CheckResult, int]:
    """(result, http status) for a check; `options` are Centreon's option names without dashes.

    Storage that refuses or does not answer gives `UNKNOWN: storage unreachable: <reason>` (HTTP 503) within
    the check path's short timeouts, instead of holding the poller for azure-core's 300 s."""
    # One clock and one regex budget for the whole request, storage reads and every tenant of tenant=* included.
    with storage.check_path(), limits.scope():
        try:
            return _answer(plugin, mode, options)
        except Exception as exc:
            reason = storage.unreachable_reason(exc)
            if reason is None:
                raise
            return unknown(f"storage unreachable: {reason}"), 503


def _answer(plugin: str, mode: str, options: dict[str, str]) -> tuple[CheckResult, int]:
    options = dict(options)
    tenant_name = options.pop("tenant", "")
    # Accepted so Centreon command lines work unchanged; the stored collection uses the app's credentials.
    for ignored in CONNECTION_OPTIONS:
        options.pop(ignored, None)
    if tenant_name == "*":
        return _answer_all(plugin, mode, options)
    try:
        tenant = _tenant(tenant_name)
    except tenants.TenantError as exc:
        return unknown(str(exc)), 404 if tenant_name else 400
    return _answer_one(tenant, plugin, mode, options)


def _answer_all(plugin: str, mode: str, options: dict[str, str]) -> tuple[CheckResult, int]:
    try:
        engine.mode_for(plugin, mode)  # an unknown plugin or mode is one answer, not one per tenant
    except CheckError as exc:
        return unknown(exc.message), exc.http_status
    answers: dict[str, tuple[CheckResult, int]] = {}

    def check_one(tenant: tenants.Tenant) -> CheckResult:
        answers[tenant.tenant_id] = _answer_one(tenant, plugin, mode, options)
        return answers[tenant.tenant_id][0]

    result = tenant_summary.summarize([t for t in tenants.list_all() if t.enabled], check_one)
    bad_request = next((a for a in answers.values() if a[1] == 400), None)
    return bad_request if bad_request else (result, 200)


def _answer_one(tenant: tenants.Tenant, plugin: str, mode: str, options: dict[str, str]) -> tuple[CheckResult, int]:

    read: dict[str, snapshots.Pointer | None] = {}

    def data_for(report: str) -> ReportData:
        if report == collection_status.DATASET:
            return collection_status.report_data(tenant.tenant_id)
        pointer = read[report] if report in read else snapshots.current(tenant.tenant_id, report)
        if pointer is None:
            raise CheckError(_no_data_reason(tenant, report), http_status=200)
        return ReportData(
            report=report,
            refresh_date=pointer.refresh_date,
            columns=pointer.columns,
            summaries=pointer.summaries,
            # The rows of a report the modes fold (flat values, only read): safe to share through the chunk cache.
            load_rows=lambda: snapshots.load_rows(pointer, cached=bool(engine.indexed_columns(report))),
            concealed=pointer.concealed,
            load_matching=(lambda patterns: snapshots.load_matching(pointer, dict(patterns)))
            if pointer.indexed
            else None,
        )

    try:
        memo = _memo_key(tenant.tenant_id, plugin, mode, options, read)
        if memo is None:
            return engine.run_check(plugin, mode, data_for, options), 200
        with _one_at_a_time(memo):
            held = CHUNKS.get(*memo)
            if isinstance(held, CheckResult):
                return held, 200
            result = engine.run_check(plugin, mode, data_for, options)
            if result.exit_code != 3:  # an UNKNOWN may be the deadline's, which another try may beat
                CHUNKS.put(*memo, result, len(result.text()))
            return result, 200
    except CheckError as exc:
        return unknown(exc.message), exc.http_status


_computing: dict[tuple[str, str], threading.Lock] = {}
_computing_guard = threading.Lock()


@contextlib.contextmanager
def _one_at_a_time(memo: tuple[str, str]) -> Iterator[None]:
    """Checks asking the same answer at once (pollers scheduled on the minute) wait for the first one's instead
    of each computing it: until their own deadline, then they compute their own."""
    with _computing_guard:
        lock = _computing.setdefault(memo, threading.Lock())
    got = lock.acquire(timeout=max(0.0, limits.current().deadline - time.monotonic()))
    try:
        yield
    finally:
        if got:
            lock.release()
        with _computing_guard:
            if _computing.get(memo) is lock and not lock.locked():
                del _computing[memo]


def _memo_key(
    tenant_id: str, plugin: str, mode: str, options: dict[str, str], read: dict[str, snapshots.Pointer | None]
) -> tuple[str, str] | None:
    """Where the answer of a report mode is kept: beside the snapshot's chunks in the cache, under its options.
    A report mode's answer depends on nothing but the snapshot and the options (no clock), so a repeated check
    (a poller every few minutes, the console) is answered from it until the next collection switches the
    pointer. The pointer read here is the one the check then reads (`read`). None for the other modes."""
    try:
        spec = engine.mode_for(plugin, mode)
    except CheckError:
        return None  # answered by run_check
    if not isinstance(spec, ReportMode):
        return None
    pointer = read[spec.report] = snapshots.current(tenant_id, spec.report)
    if pointer is None:
        return None
    given = json.dumps([spec.plugin, spec.name, sorted(options.items())], ensure_ascii=False)
    return snapshots.partition_of(pointer), f"{ANSWER_PREFIX}{given}"
