"""The licence report across tenants, for billing: per tenant and SKU, enabled, consumed, free, and the change
since the previous month (the last figures recorded in the previous calendar month's history). Read from the
summaries (one query), as JSON rows or as CSV."""

from __future__ import annotations

import csv
import io

from shared.store import summaries

COLUMNS = (
    "tenant", "tenant_id", "domain", "sku", "sku_id", "capability_status", "enabled", "consumed", "free",
    "previous_month_date", "enabled_change", "consumed_change",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so: shown as text


def rows() -> list[dict]:
    """Every tenant's SKUs, by tenant name, tenant id and SKU (a stable order for billing diffs)."""
    out = []
    for e in summaries.read_all(["RowKey", summaries.BOARD, summaries.LICENCES]):
        head = summaries.board(e).get("head", {})
        domains = [str(d) for d in head.get("domains") or []]
        name = str(head.get("name") or "") or (domains[0] if domains else e["RowKey"])
        for sku in summaries.licences(e):
            enabled, consumed = int(sku["enabled"]), int(sku["consumed"])
            prev_enabled, prev_consumed = sku.get("previous_enabled"), sku.get("previous_consumed")
            out.append(
                {"tenant": name, "tenant_id": e["RowKey"], "domain": domains[0] if domains else "",
                 "sku": sku["sku"], "sku_id": sku.get("sku_id", ""), "capability_status": sku.get("status", ""),
                 "enabled": enabled, "consumed": consumed, "free": enabled - consumed,
                 "previous_month_date": sku.get("previous_date", ""),
                 "enabled_change": None if prev_enabled is None else enabled - int(prev_enabled),
                 "consumed_change": None if prev_consumed is None else consumed - int(prev_consumed)}
            )  # fmt: skip
    return sorted(out, key=lambda r: (str(r["tenant"]).casefold(), r["tenant_id"], r["sku"]))


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(report: list[dict]) -> str:
    """RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma, quote or line break."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in report:
        writer.writerow([_cell(r[c]) for c in COLUMNS])
    return buffer.getvalue()
