"""Precomputed per-tenant summaries the console's dashboard and licence report read (never report rows).

Layout, chosen so that the dashboard of 1,000 tenants is one query of ~1,000 small entities (a 1,000-entity
partition query takes ~0.1 s on Azurite) and one tenant's page two reads:
- `TenantSummaries`: PartitionKey "tenants", RowKey = tenant id. `Board`: one JSON property with all a dashboard
  row shows (name, domains, the last run, consent and last successful collection per schedule, the timestamp
  render-time freshness ages from, and per check [status, first line cut, computed at]); `LicenceFigures`: the
  tenant's SKUs with the previous month's figures (read by the licence report only). One property on purpose:
  the Python client's parsing costs per property, and it was most of the dashboard's time. A collection merges
  what it recomputed into Board under the entity's ETag (read, merge, conditional write, again on a conflict),
  so a health run and a report run of the same tenant never undo each other's results.
- `TenantSummaryDetails`: PartitionKey = tenant id, RowKey = check id: one check's long output (its --verbose
  lines, cut to stay under Table Storage's 64 KiB string limit), for the tenant page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableEntity

from shared.store import storage

SUMMARIES = "TenantSummaries"
DETAILS = "TenantSummaryDetails"
PARTITION = "tenants"
MAX_LONG = 30000  # UTF-16 units of output kept per check and property (Table strings stop at 32 K of them)

BOARD = "Board"
LICENCES = "LicenceFigures"  # JSON list of the tenant's SKUs (the licence report)
MAX_BOARD_OUTPUT = 300  # characters of a check's first line kept in Board (the details keep it whole)
ROW_PROPERTIES = ("RowKey", BOARD)  # the dashboard's select


def board(entity: Mapping[str, object]) -> dict:
    """{"head": {...}, "consent": {schedule: state}, "last_success": {schedule: ISO}, "checks": {id: [...]}}."""
    return dict(json.loads(str(entity.get(BOARD) or "{}")))


def check(entity: Mapping[str, object], check_id: str) -> tuple[str, str, str] | None:
    """(status, first line, computed at) of a check, or None before its first result."""
    stored = board(entity).get("checks", {}).get(check_id)
    if not stored:
        return None
    status, output, at = stored
    return str(status), str(output), str(at)


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    status: str
    output: str
    long_output: list[str]
    at: str


def _units(text: str) -> int:
    # Table Storage counts string sizes in UTF-16 code units: a character outside the BMP (an emoji in a
    # mailbox's display name) takes two
    return len(text.encode("utf-16-le")) // 2


def _first_line(output: str, limit: int) -> str:
    """The check's first line, whole when it fits a Table string (a status check on a big tenant names every
    problem mailbox in it); otherwise cut, and the page says so."""
    if _units(output) <= limit:
        return output
    return output[: limit // 2] + " ... (cut: run the check for the whole line)"


def _cut(lines: list[str], limit: int) -> str:
    text, used = [], 0
    for i, line in enumerate(lines):
        if used + _units(line) + 1 > limit:
            text.append(f"... {len(lines) - i} more lines not kept")
            break
        text.append(line)
        used += _units(line) + 1
    return "\n".join(text)


def save(
    tenant_id: str,
    outcomes: Iterable[CheckOutcome],
    *,
    head: Mapping[str, object] | None = None,
    schedule: str = "",
    consent: str = "",
    last_success: str = "",
    licences: str | None = None,
) -> None:
    """Merge a collection's results into the tenant's summary (see the module docstring) and write the
    recomputed checks' long outputs."""
    outcomes = list(outcomes)
    details = [
        ("upsert", {"PartitionKey": tenant_id, "RowKey": o.check_id, "Status": o.status,
                    "Output": _first_line(o.output, MAX_LONG), "Long": _cut(o.long_output, MAX_LONG), "At": o.at})
        for o in outcomes
    ]  # fmt: skip
    if details:  # one partition: one transaction
        storage.table(DETAILS).submit_transaction(details)
    table = storage.table(SUMMARIES)
    for _ in range(8):
        current = read(tenant_id)
        merged = board(current or {})
        if head is not None:
            merged["head"] = dict(head)
        if consent:
            merged.setdefault("consent", {})[schedule] = consent
        if last_success:
            merged.setdefault("last_success", {})[schedule] = last_success
        checks = merged.setdefault("checks", {})
        for o in outcomes:
            checks[o.check_id] = [o.status, o.output[:MAX_BOARD_OUTPUT], o.at]
        entity: dict[str, object] = {"PartitionKey": PARTITION, "RowKey": tenant_id, BOARD: json.dumps(merged)}
        if licences is not None:
            entity[LICENCES] = licences
        try:
            if current is None:
                table.create_entity(entity=entity)
            else:
                table.update_entity(
                    entity=entity, etag=current.metadata["etag"], match_condition=MatchConditions.IfNotModified
                )
            return
        except (ResourceExistsError, ResourceModifiedError):
            continue  # another collection of this tenant wrote in between: merge into its result
    raise RuntimeError(f"tenant {tenant_id}: its summary kept changing under 8 attempts to update it")


def read_all(select: list[str] | None = None) -> list[dict]:
    """Every tenant's summary (one partition query), with only the `select`ed properties."""
    return [
        dict(e)
        for e in storage.table(SUMMARIES).query_entities(
            "PartitionKey eq @p", parameters={"p": PARTITION}, select=select, results_per_page=1000
        )
    ]


def read(tenant_id: str) -> TableEntity | None:
    try:
        return storage.table(SUMMARIES).get_entity(partition_key=PARTITION, row_key=tenant_id)
    except ResourceNotFoundError:
        return None


def details(tenant_id: str) -> dict[str, dict]:
    """Every check's stored result with its long output, by check id."""
    entities = storage.table(DETAILS).query_entities("PartitionKey eq @t", parameters={"t": tenant_id})
    return {e["RowKey"]: dict(e) for e in entities}


def licences(entity: Mapping[str, object]) -> list[dict]:
    return list(json.loads(str(entity.get(LICENCES) or "[]")))
