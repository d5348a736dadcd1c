"""A big tenant's check output is longer than a Table string: its summary is still stored, cut where it must be."""

from __future__ import annotations

from shared.store import summaries
from shared.store.summaries import MAX_LONG, CheckOutcome


def test_a_status_line_naming_thousands_of_mailboxes_is_stored_cut_not_lost(storage_env, tenant_id: str) -> None:
    # Centreon's first line names every problem mailbox: 3,000 of them, some with emoji (two UTF-16 units each)
    line = "CRITICAL: " + " - ".join(f"Mailbox 'user{i}😀@contoso.com' status: ProhibitSend" for i in range(3000))
    long_output = [f"Mailbox 'user{i}😀@contoso.com' used 99 %" for i in range(5000)]
    summaries.save(tenant_id, [CheckOutcome("mailbox-quotas", "CRITICAL", line, long_output, "2026-12-02T00:00:00Z")])

    stored = summaries.details(tenant_id)["mailbox-quotas"]
    assert stored["Status"] == "CRITICAL"
    assert stored["Output"].startswith("CRITICAL: Mailbox 'user0😀@contoso.com'")
    assert stored["Output"].endswith("(cut: run the check for the whole line)")
    assert len(stored["Output"].encode("utf-16-le")) // 2 <= MAX_LONG
    assert stored["Long"].endswith("more lines not kept")
    assert len(stored["Long"].encode("utf-16-le")) // 2 <= MAX_LONG + 40
    assert summaries.check(summaries.read(tenant_id) or {}, "mailbox-quotas")[0] == "CRITICAL"  # type: ignore[index]


def test_a_short_line_is_kept_whole(storage_env, tenant_id: str) -> None:
    summaries.save(tenant_id, [CheckOutcome("licences", "OK", "OK: All subscriptions are ok", [], "2026-12-02T00:00Z")])
    assert summaries.details(tenant_id)["licences"]["Output"] == "OK: All subscriptions are ok"
