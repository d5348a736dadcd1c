"""What the matcher remembers per tenant.

- `OrgMatches` (PartitionKey "tenant", RowKey tenant id): the organization decision of the last run (status,
  organization, rule, suggestions), the tenant name, `Ignored`, and `Decision`: a reviewer's pending action
  (match / ignore / create), applied by the next run under the tenant lock.
- `match_results` snapshot (shared.snapshots, packed like the directory): one row per user of the last run
  (status, rule, contact, detail), read by the review for ambiguous users and comparisons.
- `SyncLogs` (PartitionKey tenant id, RowKey inverted clock: newest first): one record per run and tenant,
  with the documentation system's requests, 429s and their waits, and every record it refused (422, pointer).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.store import snapshots, storage

ORG_MATCHES = "OrgMatches"
SYNC_LOGS = "SyncLogs"
PARTITION = "tenant"
RESULTS = "match_results"
RESULT_COLUMNS = ["user_id", "upn", "display_name", "status", "rule", "contact_id", "detail"]
MAX_TEXT = 30000  # a Table Storage string property holds 32K UTF-16 characters


def now_iso() -> str:
    return storage.now_iso("milliseconds")  # a sync log's events are milliseconds apart


@dataclass
class TenantMatch:
    tenant_id: str
    tenant_name: str = ""
    status: str = "unmatched"
    org_id: str = ""
    rule: str = ""
    suggestions: list[dict] = field(default_factory=list)
    message: str = ""
    ignored: bool = False
    decision: dict = field(default_factory=dict)  # pending reviewer action, {} when none
    updated: str = ""
    etag: str = ""

    @classmethod
    def from_entity(cls, e: dict) -> TenantMatch:
        return cls(
            tenant_id=e["RowKey"],
            tenant_name=e.get("TenantName", ""),
            status=e.get("Status", "unmatched"),
            org_id=e.get("OrgId", ""),
            rule=e.get("Rule", ""),
            suggestions=json.loads(e.get("Suggestions") or "[]"),
            message=e.get("Message", ""),
            ignored=bool(e.get("Ignored", False)),
            decision=json.loads(e.get("Decision") or "{}"),
            updated=e.get("Updated", ""),
            etag=e.metadata.get("etag", "") if hasattr(e, "metadata") else "",
        )

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("etag")
        return d


def get_match(tenant_id: str) -> TenantMatch | None:
    try:
        return TenantMatch.from_entity(
            storage.table(ORG_MATCHES).get_entity(partition_key=PARTITION, row_key=tenant_id)
        )
    except ResourceNotFoundError:
        return None


def list_matches() -> list[TenantMatch]:
    entities = storage.table(ORG_MATCHES).query_entities("PartitionKey eq @pk", parameters={"pk": PARTITION})
    return [TenantMatch.from_entity(e) for e in entities]


def save_result(m: TenantMatch) -> None:
    """The run's decision; merge, so a decision a reviewer stored meanwhile is not overwritten."""
    storage.table(ORG_MATCHES).upsert_entity(
        entity={
            "PartitionKey": PARTITION,
            "RowKey": m.tenant_id,
            "TenantName": m.tenant_name,
            "Status": m.status,
            "OrgId": m.org_id,
            "Rule": m.rule,
            "Suggestions": json.dumps(m.suggestions, ensure_ascii=False),
            "Message": m.message[:MAX_TEXT],
            "Ignored": m.ignored,
            "Updated": now_iso(),
        },
        mode=UpdateMode.MERGE,
    )


def set_decision(tenant_id: str, decision: dict) -> None:
    storage.table(ORG_MATCHES).upsert_entity(
        entity={"PartitionKey": PARTITION, "RowKey": tenant_id, "Decision": json.dumps(decision)}, mode=UpdateMode.MERGE
    )


def clear_decision(tenant_id: str, etag: str, *, ignored: bool) -> bool:
    """Clear the decision just applied, unless a newer one arrived (ETag): that one has its own message."""
    try:
        storage.table(ORG_MATCHES).update_entity(
            entity={"PartitionKey": PARTITION, "RowKey": tenant_id, "Decision": "{}", "Ignored": ignored},
            mode=UpdateMode.MERGE,
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
        )
        return True
    except (ResourceModifiedError, ResourceNotFoundError):
        return False


# -- per-user results of the last run ---------------------------------------------------------------------
def save_results(tenant_id: str, rows: Iterable[list], summary: dict) -> None:
    snapshots.write(tenant_id, RESULTS, RESULT_COLUMNS, rows, summaries={"run": summary})


def load_results(tenant_id: str) -> Iterator[dict]:
    p = snapshots.current(tenant_id, RESULTS)
    if p is None:
        return
    for row in snapshots.load_rows(p):
        yield dict(zip(p.columns, row, strict=False))


# -- sync logs ------------------------------------------------------------------------------------------
COUNTS = ("created", "updated", "matched", "suggested", "ambiguous", "ignored", "errors")


@dataclass
class SyncLog:
    tenant_id: str
    started: str = field(default_factory=now_iso)
    ended: str = ""
    status: str = "running"  # started (stored at the start: a run that crashed stays so) | success | failed
    trigger: str = ""
    attempt: int = 1
    organization_status: str = ""
    organization_id: str = ""
    users: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # ambiguous users and other warnings (first 200)
    # The documentation system's side (IT Glue; zero for the own tables): requests sent, 429 answers, seconds
    # waited on them, and every 422 with its record and pointer.
    doc_requests: int = 0
    doc_throttled: int = 0
    doc_throttle_wait: float = 0.0
    rejections: list[str] = field(default_factory=list)
    row_key: str = ""  # set at the first save: later saves of the same run replace that record

    def error(self, text: str) -> None:
        self.errors.append(text)
        self.counts["errors"] = len(self.errors)


def _clip(items: list[str]) -> str:
    text = json.dumps(items, ensure_ascii=False)
    while len(text) > MAX_TEXT and items:
        items = items[: len(items) // 2]
        text = json.dumps(items + ["(truncated)"], ensure_ascii=False)
    return text


def save_log(log: SyncLog) -> None:
    log.row_key = log.row_key or storage.newest_first_key(time.time_ns())
    entity = {
        "PartitionKey": log.tenant_id,
        "RowKey": log.row_key,
        "Started": log.started,
        "Ended": "" if log.status == "started" else (log.ended or now_iso()),
        "Status": log.status,
        "Trigger": log.trigger,
        "Attempt": log.attempt,
        "OrganizationStatus": log.organization_status,
        "OrganizationId": log.organization_id,
        "Users": log.users,
        "ErrorTexts": _clip(log.errors),
        "Notes": _clip(log.notes[:200]),
        "DocRequests": log.doc_requests,
        "DocThrottled": log.doc_throttled,
        "DocThrottleWaitSeconds": round(log.doc_throttle_wait, 3),
        "Rejections": _clip(log.rejections),
    }
    entity.update({k.capitalize(): int(v) for k, v in log.counts.items()})
    storage.table(SYNC_LOGS).upsert_entity(entity=entity, mode=UpdateMode.REPLACE)


def recent_logs(tenant_id: str, limit: int = 20) -> list[dict]:
    out = []
    for e in storage.table(SYNC_LOGS).query_entities(
        "PartitionKey eq @pk", parameters={"pk": tenant_id}, results_per_page=limit
    ):
        d = {
            "tenant_id": tenant_id,
            "started": e.get("Started", ""),
            "ended": e.get("Ended", ""),
            "status": e.get("Status", ""),
            "trigger": e.get("Trigger", ""),
            "attempt": e.get("Attempt", 1),
            "organization_status": e.get("OrganizationStatus", ""),
            "organization_id": e.get("OrganizationId", ""),
            "users": e.get("Users", 0),
            "errors_text": json.loads(e.get("ErrorTexts") or "[]"),
            "notes": json.loads(e.get("Notes") or "[]"),
            "doc_requests": int(e.get("DocRequests", 0)),
            "doc_throttled": int(e.get("DocThrottled", 0)),
            "doc_throttle_wait_seconds": float(e.get("DocThrottleWaitSeconds", 0.0)),
            "rejections": json.loads(e.get("Rejections") or "[]"),
        }
        d.update({k: int(e.get(k.capitalize(), 0)) for k in COUNTS})
        out.append(d)
        if len(out) >= limit:
            break
    return out
