"""Many rows of one partition packed into few entities: zlib-compressed JSON split over binary properties
D00, D01, ... (RowKey `~pack-NNNN`). One entity per row costs ~1 ms of SDK CPU each way even in 100-entity
transactions; packed, a partition is one query to read and a few writes. Writes are ETag-conditional (a create
for a new pack), so a writer that read before another one wrote sees a conflict (409/412) and merges again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping

from azure.core import MatchConditions
from azure.data.tables import TableClient, TableEntity, UpdateMode

PACK_PREFIX = "~pack-"  # '~' starts no id these tables use as a RowKey (GUIDs, IT Glue ids)
PROPERTY_BYTES = 60_000  # a binary property holds at most 64 KiB
# The 1 MiB entity limit counts the entity as sent, binary in base64 (4/3): Azurite took 13 x 60 KB (1.04 MB
# encoded) and refused 15 x 60 KB. 12 x 60 KB is 960 KB encoded, with room for the other properties.
MAX_PROPERTIES = 12


def binary_properties(blob: bytes) -> dict[str, object]:
    """`blob` over the binary properties D00, D01, ... of one entity, with their count in `Parts`; ValueError
    when it needs more than one entity holds."""
    parts = [blob[i : i + PROPERTY_BYTES] for i in range(0, len(blob), PROPERTY_BYTES)]
    if len(parts) > MAX_PROPERTIES:
        raise ValueError(f"{len(blob)} bytes exceed the entity size limit")
    return {"Parts": len(parts)} | {f"D{i:02d}": part for i, part in enumerate(parts)}


def joined_binary(entity: Mapping) -> bytes:
    """What binary_properties() spread over an entity, joined again."""
    return b"".join(bytes(entity[f"D{i:02d}"]) for i in range(int(entity.get("Parts", 0))))


def merge(partition: str, packs: dict[str, Pack], rows: dict[str, dict], *, per_pack: int) -> list[Pack]:
    """The packs to write: copies of the stored ones with `rows` (row key -> row) replaced or added. A row stays
    in its pack; new ones fill the last pack up to `per_pack`, then a new one, so two writers adding rows
    always write a pack in common and the second one's ETag (or create) fails."""
    home = {row_key: key for key, p in packs.items() for row_key in p.rows}
    changed: dict[str, Pack] = {}

    def writable(key: str) -> Pack:
        if key not in changed:
            old = packs.get(key)
            changed[key] = Pack(partition, key, dict(old.rows), old.etag) if old else Pack(partition, key)
        return changed[key]

    last = max(packs, default=f"{PACK_PREFIX}{0:04d}")
    next_index = int(last.removeprefix(PACK_PREFIX)) + 1
    for row_key, row in rows.items():
        key = home.get(row_key)
        if key is None:
            if len(writable(last).rows) >= per_pack:
                last, next_index = f"{PACK_PREFIX}{next_index:04d}", next_index + 1
            key = last
        writable(key).rows[row_key] = row
    return list(changed.values())


class Pack:
    """Rows of one partition (each a dict with its own "RowKey") in one entity."""

    def __init__(self, partition: str, row_key: str, rows: dict[str, dict] | None = None, etag: str = "") -> None:
        self.partition, self.row_key, self.rows, self.etag = partition, row_key, rows or {}, etag

    @classmethod
    def from_entity(cls, e: dict) -> Pack:
        blob = joined_binary(e)
        rows = json.loads(zlib.decompress(blob)) if blob else []
        etag = (e.metadata.get("etag") or "") if isinstance(e, TableEntity) else ""
        return cls(e["PartitionKey"], e["RowKey"], {r["RowKey"]: r for r in rows}, etag)

    def entity(self) -> dict:
        text = json.dumps(list(self.rows.values()), ensure_ascii=False, separators=(",", ":"))
        try:
            binary = binary_properties(zlib.compress(text.encode()))
        except ValueError:
            raise ValueError(f"{self.partition}/{self.row_key}: pack exceeds the entity size limit") from None
        return {"PartitionKey": self.partition, "RowKey": self.row_key, "Count": len(self.rows)} | binary

    def write(self, client: TableClient) -> None:
        # Plain requests, not transactions: the SDK's multipart encoding of large batch bodies cost more CPU
        # than the requests themselves.
        if not self.etag:
            client.create_entity(entity=self.entity())  # 409 if another run created it first
            return
        client.update_entity(
            entity=self.entity(), mode=UpdateMode.REPLACE, etag=self.etag, match_condition=MatchConditions.IfNotModified
        )
