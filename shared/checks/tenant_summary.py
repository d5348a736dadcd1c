"""One check over every enabled tenant (`tenant=*`): Centreon's instance model with a tenant per instance.

Each tenant's own result goes to the bucket of its status, prefixed `Tenant '<name>' `; the long output
always names every tenant that is not OK, so a single service on the poller tells an MSP which customers
are in trouble. Perfdata counts tenants per status.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.checks.output import SEVERITIES
from shared.checks.result import CheckResult, Perfdata, State
from shared.store.tenants import Tenant

PROBLEMS = SEVERITIES[:-1]  # CRITICAL, WARNING, UNKNOWN: the first line's order
# perfdata order: OK, WARNING, UNKNOWN, CRITICAL
BY_MASK = tuple(state.name for state in sorted(State, key=lambda state: state.mask))


def _name(tenant: Tenant) -> str:
    return tenant.domains[0] if tenant.domains else tenant.display_name or tenant.tenant_id


def _body(result: CheckResult) -> str:
    text = result.short.strip()
    prefix = f"{result.status}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def summarize(tenants: list[Tenant], check_one: Callable[[Tenant], CheckResult]) -> CheckResult:
    results = [(t, check_one(t)) for t in tenants]
    if not results:
        return CheckResult(status="UNKNOWN", exit_code=State.UNKNOWN.code, short="UNKNOWN: No tenants found. ")
    worst = State.worst(r.status for _, r in results)
    buckets = {s: [f"Tenant '{_name(t)}' {_body(r)}" for t, r in results if r.status == s] for s in PROBLEMS}
    if worst == "OK":
        short = f"OK: All {len(results)} tenants are ok "
    else:
        short = "".join(f"{status}: {' - '.join(msgs)} " for status, msgs in buckets.items() if msgs)
    long_lines = [f"Tenant '{_name(t)}' [{r.status}] {_body(r)}" for t, r in results if r.status != "OK"]
    counts = {status: sum(1 for _, r in results if r.status == status) for status in BY_MASK}
    perfdata = [
        Perfdata(f"tenants.{status.lower()}.count", counts[status], min="0", max=str(len(results)))
        for status in BY_MASK
    ]
    return CheckResult(status=worst, exit_code=State[worst].code, short=short, long_lines=long_lines, perfdata=perfdata)
