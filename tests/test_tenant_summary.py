"""`tenant=*`: one check over every enabled tenant, naming the tenants in trouble."""

from __future__ import annotations

import uuid

from shared.checks.result import CheckResult, unknown
from shared.checks.service import answer
from shared.checks.tenant_summary import summarize
from shared.collect.catalog import MAILBOX_USAGE
from shared.store import tenants
from tests.support import store_snapshot

GB = 1024**3


def result(status: str, text: str) -> CheckResult:
    code = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[status]
    return CheckResult(status=status, exit_code=code, short=f"{status}: {text} ")


def test_all_ok_reads_like_centreon_message_multiple() -> None:
    ts = [tenants.Tenant(str(uuid.uuid4()), domains=[f"t{i}.example"]) for i in range(3)]
    out = summarize(ts, lambda t: result("OK", "fine"))
    assert out.text() == (
        "OK: All 3 tenants are ok | 'tenants.ok.count'=3;;;0;3 'tenants.warning.count'=0;;;0;3 "
        "'tenants.unknown.count'=0;;;0;3 'tenants.critical.count'=0;;;0;3\n"
    )


def test_worst_status_wins_and_long_output_names_tenants_in_trouble() -> None:
    a, b, c = (tenants.Tenant(str(uuid.uuid4()), domains=[d]) for d in ("a.example", "b.example", "c.example"))
    answers = {a.tenant_id: result("WARNING", "w"), b.tenant_id: unknown("no data"), c.tenant_id: result("OK", "ok")}
    out = summarize([a, b, c], lambda t: answers[t.tenant_id])
    assert (out.status, out.exit_code) == ("UNKNOWN", 3)
    assert out.short == "WARNING: Tenant 'a.example' w UNKNOWN: Tenant 'b.example' no data "
    assert out.long_lines == ["Tenant 'a.example' [WARNING] w", "Tenant 'b.example' [UNKNOWN] no data"]


def test_star_over_stored_tenants(storage_env) -> None:
    ok, full = str(uuid.uuid4()), str(uuid.uuid4())
    rows_ok = [["ok@x", "2024-01-15", 1 * GB, 98 * GB, 99 * GB, 100 * GB, 1, 7]]
    rows_full = [
        ["full@y", "2024-01-15", 99 * GB + 1, 98 * GB, 99 * GB, 100 * GB, 1, 7],
        ["fine@y", "2024-01-15", 1 * GB, 98 * GB, 99 * GB, 100 * GB, 1, 7],
    ]
    for tid, domain, rows in ((ok, f"{ok[:8]}.ok", rows_ok), (full, f"{full[:8]}.full", rows_full)):
        tenants.add(tenants.Tenant(tid, domains=[domain]))
        store_snapshot(tid, MAILBOX_USAGE, rows, "2024-01-15")
    out, status = answer("exchange", "mailbox-usage", {"tenant": "*", "filter-counters": "status"})
    assert status == 200 and out.status == "CRITICAL"
    assert f"Tenant '{full[:8]}.full' [CRITICAL] Mailbox 'full@y' Used: 99.00 GB" in "\n".join(out.long_lines)
    assert f"{ok[:8]}.ok" not in out.text()
    bad, status = answer("exchange", "mailbox-usage", {"tenant": "*", "warning-status": "%{used} >"})
    assert status == 400 and bad.exit_code == 3
