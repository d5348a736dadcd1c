"""Report snapshots in Table Storage: one pointer entity per (tenant, report), rows packed into chunks.

Layout (chosen because Azurite slows down sharply as one partition grows, and the Python client spends
~0.45 ms CPU per entity even in batches):
- `Snapshots`: PartitionKey = tenant id, RowKey = report key. The *pointer*: snapshot id, refresh date,
  columns, row count, and the per-mode summaries that unfiltered checks read (one point read per check).
- `SnapshotRows`: PartitionKey = `<tenant>~<report>~<snapshot id>`, RowKey = chunk number; each entity holds
  up to ~2,000 rows as zlib-compressed JSON in one binary property (< 64 KiB). A
  100,000-user report is ~50 small entities in its own partition, on Azurite and on Azure alike. A snapshot
  of one chunk (most of them: every report of a tenant under ~2,000 users) is held in its pointer instead
  (property `Data`), so it is written, read and superseded with one request instead of two or three. Beside
  the chunks, *names parts* hold the names of their rows in the columns the modes filter on
  (shared/store/name_index.py), so a filtered check reads only the chunks that can match; decoded chunks are
  kept by the serving process (shared/store/chunk_cache.py).
A new snapshot is written to a fresh partition and becomes visible only when the pointer switches to it,
so a failed collection leaves the previous snapshot readable; superseded partitions are deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.store import codec, storage
from shared.store.chunk_cache import CHUNKS
from shared.store.name_index import (
    PART_PREFIX,
    Bucket,
    NamePattern,
    PartBuilder,
    buckets_for,
    candidate_rows,
    part_key,
    property_name,
)
from shared.store.packs import PROPERTY_BYTES

POINTERS = "Snapshots"
ROWS = "SnapshotRows"
CHUNK_ROWS = 2000
INDEX_MIN_CHUNKS = 3  # snapshots of fewer chunks are read whole by filtered checks too
SELECT_MAX = 200  # property names a names query selects; past it (a tenant of 400,000 users) it reads them all
BATCH = 40  # entities per transaction: under the 100-entity limit
BATCH_BYTES = 2_500_000  # binary per transaction: 3.3 MB in base64, under the 4 MiB limit


def new_snapshot_id() -> str:
    # Sortable by time, so "older than the current pointer" is a string comparison.
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + secrets.token_hex(2)


def _partition(tenant_id: str, report: str, snapshot_id: str) -> str:
    return f"{tenant_id}~{report}~{snapshot_id}"


def _pack(rows: Sequence[Sequence]) -> list[tuple[bytes, Sequence[Sequence]]]:
    """(blob, the rows it holds) for each chunk: one, or halves until each fits a binary property."""
    blob = codec.compress_rows(json.dumps(rows, separators=(",", ":")).encode())
    if len(blob) <= PROPERTY_BYTES or len(rows) == 1:
        return [(blob, rows)]
    half = len(rows) // 2
    return _pack(rows[:half]) + _pack(rows[half:])


@dataclass
class Pointer:
    tenant_id: str
    report: str
    snapshot_id: str
    refresh_date: str
    columns: list[str]
    rows: int
    chunks: int
    summaries: dict[str, dict]
    concealed: bool
    collected_at: str
    forms: dict[str, int] | None = None  # CSV reports: rows per form ("d7", "daily"), for the plausibility guard
    indexed: tuple[str, ...] = ()  # columns whose names its names parts hold (none for a snapshot of few chunks)
    name_parts: int = 0
    inline: bytes | None = field(default=None, repr=False, compare=False)  # the one chunk, held by the pointer
    etag: str = field(default="", repr=False, compare=False)  # as read: a commit switches from it, no read again

    @property
    def row_entities(self) -> int:
        """Entities holding its rows (and their names) besides the pointer: none when the pointer holds its chunk."""
        return 0 if self.inline is not None else self.chunks + self.name_parts

    @classmethod
    def from_entity(cls, e: dict) -> Pointer:
        metadata = getattr(e, "metadata", None) or {}
        return cls(
            tenant_id=e["PartitionKey"],
            report=e["RowKey"],
            snapshot_id=e["SnapshotId"],
            refresh_date=e.get("RefreshDate", ""),
            columns=json.loads(e["Columns"]),
            rows=int(e.get("Rows", 0)),
            chunks=int(e.get("Chunks", 0)),
            summaries=json.loads(e.get("Summaries", "{}")),
            concealed=bool(e.get("Concealed", False)),
            collected_at=e.get("CollectedAt", ""),
            forms=json.loads(e["Forms"]) if e.get("Forms") else None,
            # Snapshots stored before the names parts (their names were in each chunk) are read whole.
            indexed=tuple(json.loads(e["Indexed"])) if e.get("Indexed") and "NameParts" in e else (),
            name_parts=int(e.get("NameParts", 0)),
            inline=_binary(e.get("Data")),
            etag=str(metadata.get("etag") or ""),
        )


class Unread:
    """commit()'s default: the current pointer was not read by the caller."""


UNREAD = Unread()


class SnapshotWriter:
    """Streams rows into a new, invisible snapshot; `commit()` makes it current, `abort()` discards it."""

    def __init__(self, tenant_id: str, report: str, columns: list[str], *, indexed: Sequence[str] = ()) -> None:
        """`indexed`: the columns whose names are indexed (those of them that the report has)."""
        self.tenant_id, self.report, self.columns = tenant_id, report, columns
        present = [c for c in dict.fromkeys(indexed) if c in columns]
        self._names = PartBuilder(present, [columns.index(c) for c in present]) if present else None
        self._parts_held: list[dict[str, bytes]] = []
        self.chunks = 0
        self.name_parts = 0
        self.snapshot_id = new_snapshot_id()
        self.partition = _partition(tenant_id, report, self.snapshot_id)
        self.rows = 0
        self.entities_written = 0
        self._buffer: list[Sequence] = []
        self._pending: list[dict] = []
        self._pending_bytes = 0
        self._table = storage.table(ROWS)

    def add(self, row: Sequence) -> None:
        self._buffer.append(row)
        self.rows += 1
        if len(self._buffer) >= CHUNK_ROWS:
            self._seal()

    def _seal(self, *, final: bool = False) -> None:
        # A snapshot of one buffer (most of them) is read whole as cheaply as its names: none are made for it.
        named = not (final and self.chunks == 0)
        for blob, rows in _pack(self._buffer):
            self._pending.append({"PartitionKey": self.partition, "RowKey": _chunk_key(self.chunks), "Data": blob})
            self._pending_bytes += len(blob)
            if named:
                self._index(self.chunks, rows)
            self.chunks += 1
        self._buffer = []
        if len(self._pending) >= BATCH or self._pending_bytes >= BATCH_BYTES:
            self._flush()

    def _index(self, chunk: int, rows: Sequence[Sequence]) -> None:
        # A snapshot of few chunks is read whole as cheaply as its names: parts are written once it has enough.
        if self._names is None:
            return
        self._parts_held.extend(self._names.add(chunk, rows))
        if self.chunks + 1 >= INDEX_MIN_CHUNKS:
            for properties in self._parts_held:
                self._add_part(properties)
            self._parts_held = []

    def _add_part(self, properties: dict[str, bytes]) -> None:
        size = sum(map(len, properties.values()))
        if self._pending_bytes + size > BATCH_BYTES:
            # A part is up to ~720 KB, not one chunk's 60: added to a nearly full batch it would pass the
            # transaction's 4 MiB limit (which Azure enforces), so the batch goes first.
            self._flush()
        self._pending.append({"PartitionKey": self.partition, "RowKey": part_key(self.name_parts), **properties})
        self._pending_bytes += size
        self.name_parts += 1

    def _flush(self) -> None:
        if len(self._pending) == 1:
            # Most snapshots are one chunk: a transaction's multipart body and answer cost twice a plain upsert's
            # CPU, and one entity is written atomically either way.
            self._table.upsert_entity(entity=self._pending[0])
        elif self._pending:
            self._table.submit_transaction([("upsert", e) for e in self._pending])
        if self._pending:
            self.entities_written += len(self._pending)
            self._pending, self._pending_bytes = [], 0

    def commit(
        self,
        *,
        refresh_date: str,
        summaries: dict[str, dict],
        concealed: bool,
        forms: dict[str, int] | None = None,
        known: Pointer | None | Unread = UNREAD,
        sweep: bool = True,
    ) -> Pointer:
        """Make this snapshot current, unless a newer collection already committed (its pointer is returned).
        `sweep=False`: superseded partitions are left to the caller's sweep() (one query for a whole run).

        `known`: the current pointer as the caller just read it (None: there was none), saving a read; the switch is
        conditional on it either way, and a pointer changed since is read again and judged the same way."""
        if self._buffer:
            self._seal(final=True)
        named = self._names is not None and self.chunks >= INDEX_MIN_CHUNKS
        last = self._names.finish() if self._names is not None and named else None
        if last is not None:
            self._add_part(last)
        inline = self._pending.pop()["Data"] if self.entities_written == 0 and len(self._pending) == 1 else None
        self._flush()
        entity = {
            "PartitionKey": self.tenant_id,
            "RowKey": self.report,
            "SnapshotId": self.snapshot_id,
            "RefreshDate": refresh_date,
            "Columns": json.dumps(self.columns),
            "Rows": self.rows,
            "Chunks": self.chunks,
            "Summaries": json.dumps(summaries, separators=(",", ":")),
            "Concealed": concealed,
            "CollectedAt": storage.now_iso(),
        }
        if inline is not None:
            entity["Data"] = inline
        if forms is not None:
            entity["Forms"] = json.dumps(forms)
        if named and self._names is not None:
            entity["Indexed"] = json.dumps(self._names.columns)
            entity["NameParts"] = self.name_parts
        pointers = storage.table(POINTERS)
        reused = not isinstance(known, Unread) and (known is None or bool(known.etag))
        old = known if reused and not isinstance(known, Unread) else self._read()
        while True:
            if old is not None and old.snapshot_id > self.snapshot_id:
                # A newer collection already committed while this one ran: it wins, ours is dropped.
                self.abort()
                return old
            try:
                if old is None:
                    pointers.create_entity(entity=entity)
                else:
                    # Replace, not the default merge: a property the new snapshot has not (its inline chunk, Indexed,
                    # Forms) must not survive from the old one.
                    pointers.update_entity(
                        entity=entity,
                        mode=UpdateMode.REPLACE,
                        etag=old.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                break
            except (ResourceExistsError, ResourceModifiedError):
                if not reused:
                    self.abort()
                    return Pointer.from_entity(pointers.get_entity(partition_key=self.tenant_id, row_key=self.report))
                # The caller's read is older than the one commit() would have made: judged again on a fresh one.
                reused, old = False, self._read()
        if sweep:
            delete_superseded(self.tenant_id, self.report, self.snapshot_id)
        return Pointer.from_entity(entity)

    def _read(self) -> Pointer | None:
        return current(self.tenant_id, self.report)

    def abort(self) -> None:
        self._buffer, self._pending = [], []
        _delete_partition(self.partition)


def write(
    tenant_id: str,
    dataset: str,
    columns: list[str],
    rows: Iterable[Sequence],
    *,
    summaries: dict[str, dict] | Callable[[], dict[str, dict]] | None = None,
    refresh_date: str = "",
    concealed: bool = False,
    known: Pointer | None | Unread = UNREAD,
    sweep: bool = True,
    indexed: Sequence[str] = (),
) -> Pointer:
    """Store `rows` as the new snapshot of a dataset: visible only if every row was written, else discarded.

    `summaries` may be a callable, evaluated once the rows are consumed (accumulators fed while streaming).
    Returns the current pointer: ours, or a newer collection's if one committed first. `known`, `sweep`: as
    commit()'s; `indexed` as the writer's.
    """
    writer = SnapshotWriter(tenant_id, dataset, columns, indexed=indexed)
    try:
        for row in rows:
            writer.add(row)
        computed = summaries() if callable(summaries) else summaries or {}
        return writer.commit(
            refresh_date=refresh_date, summaries=computed, concealed=concealed, known=known, sweep=sweep
        )
    except BaseException:
        writer.abort()
        raise


def _delete_partition(partition: str) -> None:
    table = storage.table(ROWS)
    rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}, select=["RowKey"])
    storage.delete_rows(table, partition, [e["RowKey"] for e in rows])


def _row_keys_by_partition(table: TableClient, prefix: str) -> dict[str, list[str]]:
    """Row keys of every partition starting with `prefix`, in one query: no second query per partition."""
    found: dict[str, list[str]] = {}
    for e in table.query_entities(
        "PartitionKey ge @lo and PartitionKey lt @hi",
        parameters={"lo": prefix, "hi": prefix + "\uffff"},
        select=["PartitionKey", "RowKey"],
    ):
        found.setdefault(e["PartitionKey"], []).append(e["RowKey"])
    return found


def delete_superseded(tenant_id: str, report: str, current_id: str) -> None:
    """Delete partitions of older snapshots (including ones left by a crashed collection)."""
    table = storage.table(ROWS)
    for partition, row_keys in _row_keys_by_partition(table, f"{tenant_id}~{report}~").items():
        if partition.rsplit("~", 1)[1] < current_id:
            storage.delete_rows(table, partition, row_keys)


def sweep(tenant_id: str, reports: Iterable[str]) -> None:
    """delete_superseded for several datasets of a tenant, with one query for the keys of all its rows (and one
    for its pointers) instead of one per dataset."""
    wanted = set(reports)
    if not wanted:
        return
    current_ids = {k: p.snapshot_id for k, p in current_all(tenant_id).items() if k in wanted}
    prefix = f"{tenant_id}~"
    table = storage.table(ROWS)
    for partition, row_keys in _row_keys_by_partition(table, prefix).items():
        report, _, snapshot_id = partition.removeprefix(prefix).rpartition("~")
        if report in current_ids and snapshot_id < current_ids[report]:
            storage.delete_rows(table, partition, row_keys)


def current(tenant_id: str, report: str) -> Pointer | None:
    try:
        return Pointer.from_entity(storage.table(POINTERS).get_entity(partition_key=tenant_id, row_key=report))
    except ResourceNotFoundError:
        return None


def current_all(tenant_id: str) -> dict[str, Pointer]:
    """Every current pointer of a tenant, by dataset, in one query (a collection's commits switch from these)."""
    entities = storage.table(POINTERS).query_entities("PartitionKey eq @t", parameters={"t": tenant_id})
    return {e["RowKey"]: Pointer.from_entity(e) for e in entities}


def _decoded(data: object) -> tuple[list, int]:
    text = codec.decompress(_binary(data) or b"")
    return json.loads(text), len(text)


def _chunk_key(n: int) -> str:
    return f"{n:06d}"


def partition_of(pointer: Pointer) -> str:
    """The partition holding the snapshot's chunks: written once, so it also names this version of the data."""
    return _partition(pointer.tenant_id, pointer.report, pointer.snapshot_id)


def load_rows(pointer: Pointer, *, cached: bool = False) -> Iterator[list]:
    """Every stored row, chunk by chunk. `cached`: decoded chunks are kept in (and taken from) the process's
    chunk cache; only for readers that never change the rows they get (the check engine)."""
    part = partition_of(pointer)
    if pointer.chunks == 0:
        return
    if pointer.inline is not None:
        yield from _chunk_rows(part, _chunk_key(0), pointer.inline, cached=cached)
        return
    if cached:
        held = [CHUNKS.get(part, _chunk_key(n)) for n in range(pointer.chunks)]
        if all(rows is not None for rows in held):
            for rows in held:
                yield from rows  # type: ignore[misc]
            return
    entities = storage.table(ROWS).query_entities(
        "PartitionKey eq @pk and RowKey lt @names",
        parameters={"pk": part, "names": PART_PREFIX},
        select=["RowKey", "Data"],
    )
    for e in sorted(entities, key=lambda e: e["RowKey"]):
        yield from _chunk_rows(part, e["RowKey"], e["Data"], cached=cached)


def _chunk_rows(part: str, key: str, data: object, *, cached: bool) -> list:
    if cached:
        rows = CHUNKS.get(part, key)
        if rows is not None:
            return rows  # type: ignore[return-value]
    rows, size = _decoded(data)
    if cached:
        CHUNKS.put(part, key, rows, size)
    return rows


def _bucket_key(column: int, bucket: int) -> str:
    """The chunk cache's key for a bucket of names of one of the snapshot's indexed columns."""
    return f"{PART_PREFIX}{column}b{bucket}"


def load_matching(pointer: Pointer, patterns: dict[str, NamePattern]) -> Iterator[list]:
    """The rows that may match every pattern (column -> pattern) on the indexed columns, in stored order: those
    the names index finds, of the chunks holding them; every row when the snapshot has no names for any of the
    columns. Cached as load_rows'."""
    columns = [c for c in patterns if c in pointer.indexed]
    if not columns:
        yield from load_rows(pointer, cached=True)
        return
    part = partition_of(pointer)
    table = storage.table(ROWS)
    read: dict[str, dict[int, Bucket]] = {c: {} for c in columns}
    missing: list[tuple[str, int, int]] = []
    for c in columns:
        k = pointer.indexed.index(c)
        for b in buckets_for(patterns[c]):
            held = CHUNKS.get(part, _bucket_key(k, b))
            if isinstance(held, Bucket):
                read[c][b] = held
            else:
                missing.append((c, k, b))
    if missing:
        wanted = [property_name(n, k, b) for _, k, b in missing for n in range(pointer.chunks)]
        found = table.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": part, "lo": PART_PREFIX, "hi": PART_PREFIX + "\uffff"},
            select=wanted if len(wanted) <= SELECT_MAX else None,
        )
        parts = [{name: _binary(v) for name, v in e.items() if name.startswith("N")} for e in found]
        for c, k, b in missing:
            bucket = read[c][b] = Bucket.from_parts(parts, k, b)
            CHUNKS.put(part, _bucket_key(k, b), bucket, bucket.size_hint(), objects=False)
    for n, positions in candidate_rows(pointer.chunks, patterns, read).items():
        key = _chunk_key(n)
        rows = CHUNKS.get(part, key)
        if rows is None:
            entity = table.get_entity(partition_key=part, row_key=key, select=["Data"])
            rows, size = _decoded(entity["Data"])
            CHUNKS.put(part, key, rows, size)
        if positions is None:
            yield from rows  # type: ignore[misc]
        else:
            yield from (rows[i] for i in positions)  # type: ignore[index]


def _binary(value: object) -> bytes | None:
    """A binary property as bytes (the SDK gives bytes, or a typed wrapper holding them), None when absent."""
    if value is None:
        return None
    return value if isinstance(value, bytes) else bytes(value.value)  # type: ignore[attr-defined]
