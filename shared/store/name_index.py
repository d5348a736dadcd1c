"""Which chunks of a snapshot hold which names: the names-only index that lets a filtered check read only the
chunks that can match instead of decoding every row of a 100,000-user report.

Per indexed column (the columns the modes' name filters read), every row's value in sorted order and, beside
each, the chunk that holds the row (a value in two chunks, e.g. a user's D7 and daily rows, appears twice).
An anchored filter ('^ceo@') jumps to its literal prefix by bisection, a literal one ('contoso') is a substring
search over the names joined, any other pattern is matched against the names only, never the whole rows. The
chunks found are a superset of those holding a matching row (the check's fold applies the filters to the rows
again), so a wrong guess can only cost time, never change an answer.

Stored beside the chunks, in the snapshot's own partition (RowKeys `~index-NN`, after every chunk's number),
as zlib-compressed JSON over binary properties: written once with the snapshot, immutable like it.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from shared.store import packs

INDEX_PREFIX = "~index-"  # '~' sorts after the chunks' digits: a range query reads the chunks or the index alone
ENTITY_BYTES = packs.PROPERTY_BYTES * packs.MAX_PROPERTIES  # of the compressed index, per entity
MAX_ENTITIES = 8  # an index larger than this (millions of names) is not written: checks then read every chunk


class NamePattern(Protocol):
    def search(self, text: str, /) -> object: ...
    def literal_prefix(self) -> str | None: ...
    def literal(self) -> str | None: ...


class NameIndexBuilder:
    """Collects each sealed chunk's values of the indexed columns, in arrival order."""

    def __init__(self, columns: Sequence[str], positions: Sequence[int]) -> None:
        self.columns = list(columns)
        self._positions = list(positions)
        self._names: list[list[str]] = [[] for _ in columns]
        self._chunks: list[list[int]] = [[] for _ in columns]

    def add_chunk(self, chunk: int, rows: Sequence[Sequence]) -> None:
        for names, chunks, i in zip(self._names, self._chunks, self._positions, strict=True):
            names.extend(_text(row[i] if i < len(row) else None) for row in rows)
            chunks.extend([chunk] * len(rows))

    def entities(self, partition: str) -> list[dict]:
        """The index as entities for `partition`, or [] when it would not fit (checks then read every chunk)."""
        body: dict[str, dict[str, list]] = {}
        for column, names, chunks in zip(self.columns, self._names, self._chunks, strict=True):
            # Positions sorted by name (string comparisons: several times faster than sorting (name, chunk) pairs).
            # A name repeated in one chunk stays repeated: rare (a user's D7 and daily rows are chunks apart) and
            # harmless to a lookup, where removing it would cost a loop over every row.
            order = sorted(range(len(names)), key=names.__getitem__)
            body[column] = {"names": [names[i] for i in order], "chunks": [chunks[i] for i in order]}
        # Level 1: sorted names share their prefixes, so it compresses nearly as well as 6 at a third of the CPU.
        blob = zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), 1)
        per_entity = ENTITY_BYTES
        pieces = [blob[i : i + per_entity] for i in range(0, len(blob), per_entity)]
        if len(pieces) > MAX_ENTITIES:
            return []
        return [
            {"PartitionKey": partition, "RowKey": f"{INDEX_PREFIX}{n:02d}"} | packs.binary_properties(piece)
            for n, piece in enumerate(pieces)
        ]


class _Column:
    __slots__ = ("_joined", "_starts", "chunks", "names")

    def __init__(self, names: list[str], chunks: list[int]) -> None:
        self.names, self.chunks = names, chunks
        self._joined: str | None = None
        self._starts: list[int] = []

    def matching(self, rx: NamePattern) -> set[int]:
        names, chunks = self.names, self.chunks
        prefix = rx.literal_prefix()
        if prefix is not None:
            found: set[int] = set()
            i = bisect.bisect_left(names, prefix)
            while i < len(names) and names[i].startswith(prefix):
                if rx.search(names[i]) is not None:
                    found.add(chunks[i])
                i += 1
            return found
        literal = rx.literal()
        if literal is not None and "\n" not in literal:
            return self._containing(literal)
        return {chunks[i] for i, name in enumerate(names) if rx.search(name) is not None}

    def _containing(self, literal: str) -> set[int]:
        # One str.find over the names joined by newlines (none holds one: it is checked) instead of a search
        # per name: ~1 ms for 100,000 names.
        if self._joined is None:
            self._starts, at = [], 0
            for name in self.names:
                self._starts.append(at)
                at += len(name) + 1
            self._joined = "\n".join(self.names) if not any("\n" in n for n in self.names) else ""
        if not self._joined and self.names:
            return {self.chunks[i] for i, name in enumerate(self.names) if literal in name}
        found: set[int] = set()
        at = self._joined.find(literal)
        while at >= 0:
            i = bisect.bisect_right(self._starts, at) - 1
            found.add(self.chunks[i])
            at = self._joined.find(literal, at + 1)
        return found


class NameIndex:
    def __init__(self, columns: Mapping[str, _Column]) -> None:
        self._columns = dict(columns)

    @classmethod
    def from_entities(cls, entities: Sequence[Mapping]) -> NameIndex:
        blob = b"".join(packs.joined_binary(e) for e in sorted(entities, key=lambda e: e["RowKey"]))
        body = json.loads(zlib.decompress(blob))
        return cls({column: _Column(v["names"], v["chunks"]) for column, v in body.items()})

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self._columns)

    def chunks(self, patterns: Mapping[str, NamePattern]) -> list[int]:
        """The chunks (in order) that may hold a row whose every indexed column in `patterns` matches; columns
        not indexed are left to the fold."""
        found: set[int] | None = None
        for column, rx in patterns.items():
            index = self._columns.get(column)
            if index is None:
                continue
            hits = index.matching(rx)
            found = hits if found is None else found & hits
            if not found:
                return []
        if found is None:
            raise ValueError("no indexed column among the patterns")
        return sorted(found)

    def size_hint(self) -> int:
        """Bytes of names held (the cache's cost estimate)."""
        return sum(sum(len(n) + 8 for n in c.names) for c in self._columns.values())


def _text(value: object) -> str:
    # As the fold reads a cell for its filters.
    return "" if value is None else str(value)
