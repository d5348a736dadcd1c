"""Which rows of a snapshot hold which names: the names-only index that lets a filtered check read only the
chunks (and fold only the rows) that can match, instead of decoding every row of a 100,000-user report.

The values of the indexed columns (the columns the modes' name filters read) of each chunk are split into
buckets by their first two characters, joined by newlines and compressed, one property per chunk, column and
bucket; the collector gathers those properties into *names parts*, entities of their own in the snapshot's
partition (RowKey `names-NNN`, after the chunks' numeric keys), each written as soon as it is full, so the
collector's memory stays flat in the number of users. A first filtered check reads them in one projection
query (a 100,000-user report's names are two parts) and searches them as bytes, without decoding them:
- an anchored filter ('^ceo@') reads only its prefix's bucket, an eighth of the names, and searches it for a
  newline and its literal prefix, then matches the pattern on each hit;
- a literal one ('contoso') is a substring search over every bucket;
- any other pattern is matched against the names only, never the whole rows.
The rows found are a superset of those that match (the check's fold applies the filters to the rows again), so
a wrong guess can only cost time, never change an answer. A chunk whose names could not be stored (one holds a
newline, or they do not fit a property) is read whole.
"""

from __future__ import annotations

import operator
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from shared.store import codec
from shared.store.packs import MAX_PROPERTIES, PROPERTY_BYTES

PART_PREFIX = "names-"  # RowKeys of the names parts: after the chunks' ("000000", ...) in a partition query
# A part is one entity: its compressed names within what an entity of binary properties holds (the limit
# counts base64), and within Table Storage's 252 properties besides the system ones.
PART_BYTES = MAX_PROPERTIES * PROPERTY_BYTES
PART_PROPERTIES = 240
NAMES_BYTES = PROPERTY_BYTES  # one bucket of one column's names of one chunk: one binary property
# Each chunk's names are split by their first two characters into buckets, each a property of its own: an
# anchored filter ('^ceo@') reads (a projection query), decompresses and searches only its prefix's bucket.
BUCKETS = 8


def part_key(n: int) -> str:
    return f"{PART_PREFIX}{n:03d}"


def property_name(chunk: int, column: int, bucket: int) -> str:
    return f"N{chunk:06d}c{column}b{bucket}"


class NamePattern(Protocol):
    def search(self, text: str, /) -> object: ...
    def literal_prefix(self) -> str | None: ...
    def literal(self) -> str | None: ...


def _encode(text: str) -> bytes:
    # A CSV cell may hold a lone surrogate: it goes through as the fold reads it.
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def bucket_of(text: str) -> int:
    """The bucket of the names starting with `text`'s first two characters (crc32: the same in every process)."""
    return zlib.crc32(_encode(text[:2])) % BUCKETS


def buckets_for(rx: NamePattern) -> range | tuple[int]:
    """The buckets that can hold a name matching `rx`: one for an anchored pattern with a literal prefix of two
    characters or more, else all of them."""
    prefix = rx.literal_prefix()
    return (bucket_of(prefix),) if prefix and len(prefix) >= 2 and "\n" not in prefix else range(BUCKETS)


def chunk_names(rows: Sequence[Sequence], position: int) -> list[bytes] | None:
    """One column's names of a chunk of `rows`, one compressed blob per bucket: the row positions of its names,
    then the names, a newline before each. None when they cannot be searched joined by newlines (a name holds
    one) or a bucket does not fit a property: the chunk is then read whole."""
    try:
        # Most cells are text already: no call per name (a fifth of the collector's time in names otherwise).
        texts = [v if v.__class__ is str else _text(v) for v in map(operator.itemgetter(position), rows)]
    except IndexError:  # a short row: its missing cells read as empty, as the fold reads them
        texts = [_text(row[position] if position < len(row) else None) for row in rows]
    if "\n".join(texts).count("\n") != len(texts) - 1:
        return None
    groups: list[list[int]] = [[] for _ in range(BUCKETS)]
    known: dict[str, list[int]] = {}  # first two characters -> their group: a crc32 per name was most of the cost
    for i, text in enumerate(texts):
        group = known.get(text[:2])
        if group is None:
            group = known[text[:2]] = groups[bucket_of(text)]
        group.append(i)
    blobs = []
    for group in groups:
        names = "\n" + "\n".join([texts[i] for i in group]) if group else ""
        body = struct.pack(f"<I{len(group)}H", len(group), *group) + _encode(names)
        blob = codec.compress_names(body)
        if len(blob) > NAMES_BYTES:
            return None
        blobs.append(blob)
    return blobs


class PartBuilder:
    """Gathers the names of a snapshot's chunks, chunk after chunk, into the properties of names parts."""

    def __init__(self, columns: Sequence[str], positions: Sequence[int]) -> None:
        self._positions = list(positions)
        self._properties: dict[str, bytes] = {}
        self._bytes = 0
        self.columns = list(columns)

    def add(self, chunk: int, rows: Sequence[Sequence]) -> list[dict[str, bytes]]:
        """The parts that became full (usually none) on adding the names of chunk number `chunk`."""
        full = []
        for k, position in enumerate(self._positions):
            blobs = chunk_names(rows, position)
            if blobs is None:
                continue
            size = sum(map(len, blobs))
            if self._properties and (
                self._bytes + size > PART_BYTES or len(self._properties) + len(blobs) > PART_PROPERTIES
            ):
                full.append(self._take())
            for b, blob in enumerate(blobs):
                self._properties[property_name(chunk, k, b)] = blob
            self._bytes += size
        return full

    def finish(self) -> dict[str, bytes] | None:
        """The last part, None when it would be empty."""
        return self._take() if self._properties else None

    def _take(self) -> dict[str, bytes]:
        properties, self._properties, self._bytes = self._properties, {}, 0
        return properties


class Bucket:
    """One column's names of one bucket, chunk by chunk, as read from the names parts: per chunk, the blob as
    stored, decompressed (the names' count, their row positions, then the names, a newline before each). A chunk
    absent had no names stored. Positions are read only for the names found: an unanchored filter searches
    every bucket of every chunk."""

    def __init__(self, chunks: Mapping[int, bytes]) -> None:
        self._chunks = dict(chunks)

    @classmethod
    def from_parts(cls, parts: Iterable[Mapping[str, bytes | None]], column: int, bucket: int) -> Bucket:
        suffix = f"c{column}b{bucket}"
        found = {}
        for part in parts:
            for name, blob in part.items():
                if blob is not None and name.startswith("N") and name.endswith(suffix):
                    found[int(name[1 : -len(suffix)])] = codec.decompress(blob)
        return cls(found)

    def has(self, chunk: int) -> bool:
        return chunk in self._chunks

    def matching(self, chunk: int, rx: NamePattern, prefix: str | None, literal: str | None) -> set[int]:
        """Row positions of the chunk's names in this bucket that may match `rx` (its literal prefix and literal
        as NamePattern gives them)."""
        raw = self._chunks[chunk]
        (count,) = struct.unpack_from("<I", raw)
        return {struct.unpack_from("<H", raw, 4 + 2 * i)[0] for i in _matching(raw, 4 + 2 * count, rx, prefix, literal)}

    def size_hint(self) -> int:
        """Bytes held (the cache's cost): the blobs decompressed."""
        return sum(map(len, self._chunks.values()))


def _matching(data: bytes, start: int, rx: NamePattern, prefix: str | None, literal: str | None) -> list[int]:
    """Indexes of the names in `data[start:]` (a newline before each) that may match `rx`; searched in place."""
    found: list[int] = []
    i, seen = 0, start
    if prefix and "\n" not in prefix:
        needle = b"\n" + _encode(prefix)
        at = data.find(needle, start)
        while at >= 0:
            i += data.count(b"\n", seen, at)  # newlines before this name's: its index
            seen = at
            end = data.find(b"\n", at + 1)
            end = len(data) if end < 0 else end
            if rx.search(_decode(data[at + 1 : end])) is not None:
                found.append(i)
            at = data.find(needle, end)
        return found
    if literal and "\n" not in literal:
        needle = _encode(literal)
        at = data.find(needle, start)
        while at >= 0:
            i += data.count(b"\n", seen, at)  # the newline before the first name counts too
            seen = at
            found.append(i - 1)
            end = data.find(b"\n", at)
            if end < 0:
                break
            at = data.find(needle, end)
        return found
    if len(data) == start:  # no name fell in this bucket
        return found
    return [i for i, name in enumerate(_decode(data[start + 1 :]).split("\n")) if rx.search(name) is not None]


def candidate_rows(
    chunks: int, patterns: Mapping[str, NamePattern], buckets: Mapping[str, Mapping[int, Bucket]]
) -> dict[int, list[int] | None]:
    """For each chunk (in order) that may hold a row whose every indexed column in `patterns` matches, the
    positions of those rows (None: every row of it). `buckets`: per indexed column among the patterns, the
    buckets that `buckets_for` its pattern names, read."""
    result: dict[int, set[int] | None] = dict.fromkeys(range(chunks))
    for column, read in buckets.items():
        rx = patterns[column]
        prefix, literal = rx.literal_prefix(), rx.literal()
        for n, held in list(result.items()):
            if not all(b.has(n) for b in read.values()):
                continue  # its names were not stored: every row
            hits = set().union(*(b.matching(n, rx, prefix, literal) for b in read.values()))
            hits = hits if held is None else held & hits
            if hits:
                result[n] = hits
            else:
                del result[n]
    return {n: None if held is None else sorted(held) for n, held in result.items()}


def _text(value: object) -> str:
    # As the fold reads a cell for its filters.
    return "" if value is None else str(value)
