"""Daily aggregates per tenant (the console's history charts and the licence report's month-over-month change).

`TenantHistory`: PartitionKey = tenant id, RowKey = the day the figures describe (YYYY-MM-DD): a usage report's
figures go into the row of its refresh date, a JSON collection's (licences, service issues, directory objects)
into the row of the day it was collected. A row is merged property by property, and only the properties whose
value changed are written: a collection whose report refresh date did not move writes nothing. Rows older than
HISTORY_RETENTION_DAYS are deleted when a day's row is first written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from azure.data.tables import EdmType, EntityProperty

from shared import settings
from shared.store import storage

TABLE = "TenantHistory"
LICENCES = "Licences"  # JSON {sku part number: [enabled, consumed]}


@dataclass(frozen=True)
class Metric:
    title: str
    unit: str
    series: dict[str, str]  # series label -> property (empty: the licence series, one pair per SKU)


# Every metric the history route serves: one chart each on the tenant page.
METRICS: dict[str, Metric] = {
    "active-users": Metric(
        "Active users per workload (report day)",
        "users",
        {
            "Exchange": "ActiveExchange",
            "Teams": "ActiveTeams",
            "Skype": "ActiveSkype",
            "OneDrive": "ActiveOneDrive",
            "SharePoint": "ActiveSharePoint",
        },
    ),  # fmt: skip
    "mailbox-storage": Metric("Mailbox storage used", "bytes", {"Used": "MailboxStorageBytes"}),
    "licences": Metric("Licences enabled and consumed per SKU", "licences", {}),
    "service-issues": Metric(
        "Open service incidents and advisories",
        "issues",
        {"Incidents": "OpenIncidents", "Advisories": "OpenAdvisories"},
    ),
    "directory-objects": Metric("Directory objects", "objects", {"Objects": "DirectoryObjects"}),
}


def _value(v: object) -> object:
    if isinstance(v, int) and not isinstance(v, bool) and not -(2**31) <= v < 2**31:
        return EntityProperty(v, EdmType.INT64)  # byte counts pass int32
    return v


def _plain(v: object) -> object:
    return getattr(v, "value", v)


def record(tenant_id: str, days: Mapping[str, Mapping[str, object]]) -> int:
    """Merge `days` ({YYYY-MM-DD: {property: value}}) into the tenant's rows; returns how many rows were written
    (0 when every value is already stored)."""
    if not days:
        return 0
    table = storage.table(TABLE)
    low, high = min(days), max(days)
    stored = {
        e["RowKey"]: e
        for e in table.query_entities(
            "PartitionKey eq @t and RowKey ge @low and RowKey le @high",
            parameters={"t": tenant_id, "low": low, "high": high},
        )
    }
    written, new_day = 0, False
    for day, values in sorted(days.items()):
        old: Mapping[str, object] = stored.get(day, {})
        changed = {k: _value(v) for k, v in values.items() if v is not None and _plain(old.get(k)) != v}
        if not changed:
            continue
        new_day = new_day or day not in stored
        table.upsert_entity(entity={"PartitionKey": tenant_id, "RowKey": day, **changed})  # merge
        written += 1
    if new_day:
        prune(tenant_id, settings.number("HISTORY_RETENTION_DAYS"))
    return written


def prune(tenant_id: str, days: float) -> int:
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%d")
    table = storage.table(TABLE)
    old = table.query_entities(
        "PartitionKey eq @t and RowKey lt @cutoff", parameters={"t": tenant_id, "cutoff": cutoff}, select=["RowKey"]
    )
    return storage.delete_rows(table, tenant_id, [e["RowKey"] for e in old])


def rows(tenant_id: str, since: str = "", until: str = "") -> list[dict]:
    """The tenant's rows, oldest first, from `since` (inclusive) to `until` (exclusive) when given."""
    where, params = "PartitionKey eq @t", {"t": tenant_id}
    if since:
        where, params["since"] = where + " and RowKey ge @since", since
    if until:
        where, params["until"] = where + " and RowKey lt @until", until
    found = storage.table(TABLE).query_entities(where, parameters=params)
    return sorted(({k: _plain(v) for k, v in e.items()} for e in found), key=lambda e: e["RowKey"])


def licences_of(row: Mapping[str, object]) -> dict[str, list[int]]:
    return dict(json.loads(str(row.get(LICENCES) or "{}")))


def series(tenant_id: str, metric: str) -> dict:
    """One metric's series, shaped for uPlot: x (epoch seconds at 00:00 UTC), one values list per series (None
    where a day has no figure)."""
    spec = METRICS[metric]
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.number("HISTORY_RETENTION_DAYS"))).strftime(
        "%Y-%m-%d"
    )
    found = rows(tenant_id, since)
    columns: dict[str, list[object]] = {}
    if spec.series:
        found = [r for r in found if any(p in r for p in spec.series.values())]
        for label, prop in spec.series.items():
            columns[label] = [r.get(prop) for r in found]
    else:
        found = [r for r in found if LICENCES in r]
        per_day = [licences_of(r) for r in found]
        for sku in sorted({sku for day in per_day for sku in day}):
            for i, what in enumerate(("enabled", "consumed")):
                columns[f"{sku} {what}"] = [day[sku][i] if sku in day else None for day in per_day]
    dates = [str(r["RowKey"]) for r in found]
    return {
        "tenant": tenant_id,
        "metric": metric,
        "title": spec.title,
        "unit": spec.unit,
        "dates": dates,
        "x": [int(dt.datetime.fromisoformat(d).replace(tzinfo=dt.UTC).timestamp()) for d in dates],
        "series": [{"label": label, "values": values} for label, values in columns.items()],
    }
