"""Precomputed per-tenant summaries the console's dashboard and licence report read (never report rows).

Layout, chosen so that the dashboard of 1,000 tenants is one query of ~1,000 small entities (a 1,000-entity
partition query takes ~0.1 s on Azurite) and one tenant's page two reads:
- `TenantSummaries`: PartitionKey "tenants", RowKey = tenant id. One JSON property per dashboard check
  (`MailboxQuota`: [status, first line cut, computed at]), `Head` (name, domains, the last run, the timestamp
  render-time freshness ages from), the consent state and last successful collection per schedule, and (read by
  the licence report only, never selected by the dashboard) its licences with the previous month's figures. Few
  properties on purpose: the Python client's parsing costs per property, and it is most of the dashboard's time.
  Each collection merges only what it recomputed, so a health run and a report run of the same tenant never
  undo each other's results.
- `TenantSummaryDetails`: PartitionKey = tenant id, RowKey = check id: one check's long output (its --verbose
  lines, cut to stay under Table Storage's 64 KiB string limit), for the tenant page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError

from shared.store import storage

SUMMARIES = "TenantSummaries"
DETAILS = "TenantSummaryDetails"
PARTITION = "tenants"
MAX_OUTPUT = 1000  # characters of a first line kept in the summary entity
MAX_LONG = 30000  # characters of long output kept per check (Table strings stop at 32 K UTF-16 characters)

HEAD = "Head"  # JSON: name, domains, last_attempt, last_run_status, last_error, consent_detail, data_as_of
LICENCES = "LicenceFigures"  # JSON list of the tenant's SKUs (the licence report; not a check id's property)
SCHEDULED = ("ConsentReports", "ConsentHealth", "LastSuccessReports", "LastSuccessHealth")
ROW_PROPERTIES = ("RowKey", HEAD, *SCHEDULED)  # what a dashboard row needs besides its checks


def prefix(check_id: str) -> str:
    """The property of a check: 'mailbox-quota' -> 'MailboxQuota'."""
    return "".join(part.capitalize() for part in check_id.split("-"))


def check_properties(check_ids: Iterable[str]) -> list[str]:
    return [prefix(c) for c in check_ids]


def head(entity: Mapping[str, object]) -> dict:
    return dict(json.loads(str(entity.get(HEAD) or "{}")))


def check(entity: Mapping[str, object], check_id: str) -> tuple[str, str, str] | None:
    """(status, first line, computed at) of a check, or None before its first result."""
    stored = entity.get(prefix(check_id))
    if not stored:
        return None
    status, output, at = json.loads(str(stored))
    return str(status), str(output), str(at)


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    status: str
    output: str
    long_output: list[str]
    at: str


def _cut(lines: list[str], limit: int) -> str:
    text, used = [], 0
    for i, line in enumerate(lines):
        if used + len(line) + 1 > limit:
            text.append(f"... {len(lines) - i} more lines not kept")
            break
        text.append(line)
        used += len(line) + 1
    return "\n".join(text)


def save(
    tenant_id: str, outcomes: Iterable[CheckOutcome], *, head_fields: Mapping[str, object], **fields: object
) -> None:
    """Write Head, merge `fields` (SCHEDULED ones, LICENCES) and the recomputed checks into the tenant's summary,
    and write the checks' long outputs."""
    entity: dict[str, object] = {"PartitionKey": PARTITION, "RowKey": tenant_id, HEAD: json.dumps(dict(head_fields))}
    entity.update(fields)
    details = []
    for o in outcomes:
        entity[prefix(o.check_id)] = json.dumps([o.status, o.output[:MAX_OUTPUT], o.at])
        details.append(
            (
                "upsert",
                {
                    "PartitionKey": tenant_id,
                    "RowKey": o.check_id,
                    "Status": o.status,
                    "Output": o.output,
                    "Long": _cut(o.long_output, MAX_LONG),
                    "At": o.at,
                },
            )  # fmt: skip
        )
    if details:  # one partition: one transaction
        storage.table(DETAILS).submit_transaction(details)
    storage.table(SUMMARIES).upsert_entity(entity=entity)  # merge: checks not recomputed keep their result


def read_all(select: list[str] | None = None) -> list[dict]:
    """Every tenant's summary (one partition query), with only the `select`ed properties."""
    return [
        dict(e)
        for e in storage.table(SUMMARIES).query_entities(
            "PartitionKey eq @p", parameters={"p": PARTITION}, select=select, results_per_page=1000
        )
    ]


def read(tenant_id: str) -> dict | None:
    try:
        return dict(storage.table(SUMMARIES).get_entity(partition_key=PARTITION, row_key=tenant_id))
    except ResourceNotFoundError:
        return None


def details(tenant_id: str) -> dict[str, dict]:
    """Every check's stored result with its long output, by check id."""
    entities = storage.table(DETAILS).query_entities("PartitionKey eq @t", parameters={"t": tenant_id})
    return {e["RowKey"]: dict(e) for e in entities}


def licences(entity: Mapping[str, object]) -> list[dict]:
    return list(json.loads(str(entity.get(LICENCES) or "[]")))
