"""Which chunks of a snapshot hold which names: the names-only index that lets a filtered check read only the
chunks that can match instead of decoding every row of a 100,000-user report.

Each chunk entity carries, beside its rows, the values of the indexed columns (the columns the modes' name
filters read) of those rows, compressed in a property of their own (`Names`): they leave the collector with
their chunk, so its memory stays flat in the number of users, and they cost no extra entity. A check reads
that one property of every chunk (a projection query), joins the names (kept in the chunk cache) and finds the
chunks that can match: an anchored filter ('^ceo@') is a search for a newline and its literal prefix over the
names joined by newlines, a literal one ('contoso') a substring search over them, any other pattern is matched
against the names only, never the whole rows. The chunks found are a superset of those holding a matching row
(the check's fold applies the filters to the rows again), so a wrong guess can only cost time, never change an
answer; a chunk whose names did not fit a property is always read.
"""

from __future__ import annotations

import bisect
import itertools
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
    """The names of one column, chunk after chunk, joined by newlines: a filter is one `str.find` over them at C
    speed (an anchored one looks for newline + its literal prefix), not a search per name, and nothing is sorted
    (sorting 100,000 names was a third of a first filtered check)."""

    __slots__ = ("_bounds", "_chunks", "_joined", "_starts", "names")

    def __init__(self, names: list[str], chunks: list[int], bounds: list[int]) -> None:
        """`chunks[k]` holds `names[bounds[k]:bounds[k + 1]]`."""
        self.names, self._chunks, self._bounds = names, chunks, bounds
        # A leading newline: the first name is found by newline + prefix like the others. A hit inside a name that
        # holds a newline is judged on that whole name by the pattern, as any other.
        self._joined = "\n" + "\n".join(names)
        # Where each name starts in the joined text: 1, then each start + its length + the newline.
        self._starts = list(itertools.accumulate(map((1).__add__, map(len, names)), initial=1))[:-1]

    def _chunk_of(self, i: int) -> int:
        return self._chunks[bisect.bisect_right(self._bounds, i) - 1]

    def matching(self, rx: NamePattern) -> set[int]:
        names, joined = self.names, self._joined
        prefix, literal = rx.literal_prefix(), rx.literal()
        found: set[int] = set()
        if prefix is not None and "\n" not in prefix:
            at = joined.find("\n" + prefix)
            while at >= 0:
                i = bisect.bisect_right(self._starts, at + 1) - 1  # the name holding the prefix's first character
                if rx.search(names[i]) is not None:
                    found.add(self._chunk_of(i))
                at = joined.find("\n" + prefix, at + 1)
            return found
        if literal is not None and "\n" not in literal:
            at = joined.find(literal)
            while at >= 0:
                found.add(self._chunk_of(bisect.bisect_right(self._starts, at) - 1))
                at = joined.find(literal, at + 1)
            return found
        return {self._chunk_of(i) for i, name in enumerate(names) if rx.search(name) is not None}


class NameIndex:
    def __init__(self, columns: Mapping[str, _Column], unindexed: frozenset[int] = frozenset(), size: int = 0) -> None:
        self._columns = dict(columns)
        self._unindexed = unindexed  # chunks without names: always read
        self._size = size

    @classmethod
    def from_chunks(cls, chunks: Sequence[tuple[int, bytes | None]], columns: Sequence[str]) -> NameIndex:
        """From (chunk number, its Names property or None) of every chunk."""
        names: dict[str, list[str]] = {c: [] for c in columns}
        numbers: dict[str, list[int]] = {c: [] for c in columns}
        bounds: dict[str, list[int]] = {c: [] for c in columns}
        unindexed: set[int] = set()
        text = 0
        for n, blob in chunks:
            if blob is None:
                unindexed.add(n)
                continue
            raw = zlib.decompress(blob)
            text += len(raw)
            body = json.loads(raw)
            for c in columns:
                numbers[c].append(n)
                bounds[c].append(len(names[c]))
                names[c].extend(body.get(c, ()))
        index = {c: _Column(names[c], numbers[c], bounds[c]) for c in columns}
        # Held per name: its str (~50 bytes + text), a list slot and its start offset; the joined text once more.
        size = 2 * text + 100 * sum(len(v) for v in names.values())
        return cls(index, frozenset(unindexed), size)

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
        """Bytes held (the cache's cost estimate), from the decoded sizes: walking 100,000 names to count them
        cost as much as the rest of the first filtered check."""
        return self._size


def _text(value: object) -> str:
    # As the fold reads a cell for its filters.
    return "" if value is None else str(value)
