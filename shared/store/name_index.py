"""Which chunks of a snapshot hold which names: the names-only index that lets a filtered check read only the
chunks that can match instead of decoding every row of a 100,000-user report.

Each chunk entity carries, beside its rows, the values of the indexed columns (the columns the modes' name
filters read) of those rows, compressed in a property of their own (`Names`): they leave the collector with
their chunk, so its memory stays flat in the number of users, and they cost no extra entity. A check reads
that one property of every chunk (a projection query), sorts the names once (kept in the chunk cache) and
finds the chunks that can match: an anchored filter ('^ceo@') bisects to its literal prefix, a literal one
('contoso') is a substring search over the names joined, any other pattern is matched against the names only,
never the whole rows. The chunks found are a superset of those holding a matching row (the check's fold
applies the filters to the rows again), so a wrong guess can only cost time, never change an answer; a chunk
whose names did not fit a property is always read.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from shared.store.packs import PROPERTY_BYTES

NAMES = "Names"  # the chunk entity's property holding its names
NAMES_BYTES = PROPERTY_BYTES  # one binary property


class NamePattern(Protocol):
    def search(self, text: str, /) -> object: ...
    def literal_prefix(self) -> str | None: ...
    def literal(self) -> str | None: ...


def chunk_names(rows: Sequence[Sequence], columns: Sequence[str], positions: Sequence[int]) -> bytes | None:
    """The `Names` property of a chunk of `rows`, or None when it does not fit (the chunk is then always read)."""
    body = {
        c: [_text(row[i] if i < len(row) else None) for row in rows] for c, i in zip(columns, positions, strict=True)
    }
    # Level 1: a third of level 6's CPU for names, which compress well either way (shared domains).
    blob = zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), 1)
    return blob if len(blob) <= NAMES_BYTES else None


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
    def __init__(self, columns: Mapping[str, _Column], unindexed: frozenset[int] = frozenset()) -> None:
        self._columns = dict(columns)
        self._unindexed = unindexed  # chunks without names: always read

    @classmethod
    def from_chunks(cls, chunks: Sequence[tuple[int, bytes | None]], columns: Sequence[str]) -> NameIndex:
        """From (chunk number, its Names property or None) of every chunk."""
        names: dict[str, list[str]] = {c: [] for c in columns}
        numbers: dict[str, list[int]] = {c: [] for c in columns}
        unindexed: set[int] = set()
        for n, blob in chunks:
            if blob is None:
                unindexed.add(n)
                continue
            body = json.loads(zlib.decompress(blob))
            for c in columns:
                names[c].extend(body.get(c, ()))
                numbers[c].extend([n] * len(body.get(c, ())))
        index = {}
        for c in columns:
            order = sorted(range(len(names[c])), key=names[c].__getitem__)  # positions by name: faster than pairs
            index[c] = _Column([names[c][i] for i in order], [numbers[c][i] for i in order])
        return cls(index, frozenset(unindexed))

    def chunks(self, patterns: Mapping[str, NamePattern]) -> list[int]:
        """The chunks (in order) that may hold a row whose every indexed column in `patterns` matches; columns
        not indexed are left to the fold."""
        found: set[int] | None = None
        for column, rx in patterns.items():
            index = self._columns.get(column)
            if index is None:
                continue
            hits = index.matching(rx) | self._unindexed
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
