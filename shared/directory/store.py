"""Stored directories: one `directory_users` snapshot per tenant (shared.snapshots: ~2,000 users per
entity in a partition of its own, so a 100,000-user tenant is ~50-100 entities, not 100,000), whose pointer
summaries carry the organization and SKUs. A new sync becomes visible only when its pointer switches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shared.directory.model import COLUMNS, DirectoryInfo, DirectoryUser
from shared.store import snapshots

DATASET = "directory_users"


def save(info: DirectoryInfo, users: Iterable[DirectoryUser]) -> DirectoryInfo:
    summary = {
        "display_name": info.display_name,
        "default_domain": info.default_domain,
        "initial_domain": info.initial_domain,
        "domains": info.domains,
        "skus": info.skus,
    }
    pointer = snapshots.write(
        info.tenant_id, DATASET, list(COLUMNS), (u.to_row() for u in users), summaries={"directory": summary}
    )
    return _info(pointer)  # ours, or a newer sync's if one committed first


def _info(p: snapshots.Pointer) -> DirectoryInfo:
    s = p.summaries.get("directory", {})
    return DirectoryInfo(
        tenant_id=p.tenant_id,
        display_name=s.get("display_name", ""),
        default_domain=s.get("default_domain", ""),
        initial_domain=s.get("initial_domain", ""),
        domains=list(s.get("domains", [])),
        skus=list(s.get("skus", [])),
        users=p.rows,
        synced_at=p.collected_at,
        snapshot_id=p.snapshot_id,
    )


def load_info(tenant_id: str) -> DirectoryInfo | None:
    p = snapshots.current(tenant_id, DATASET)
    return _info(p) if p else None


def load_users(tenant_id: str) -> Iterator[DirectoryUser]:
    p = snapshots.current(tenant_id, DATASET)
    if p is None:
        return
    index = {c: i for i, c in enumerate(p.columns)}
    order = [index[c] for c in COLUMNS]
    for row in snapshots.load_rows(p):
        yield DirectoryUser(*(row[i] for i in order))
