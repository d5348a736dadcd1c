"""The compression of snapshot blobs: rows with zlib, names with Zstandard (read back by their magic number).

Names (shared/store/name_index.py) are what a first filtered check decompresses and searches, up to every name
of a report for an unanchored filter. Measured on a 100,000-user report's (4.0 MB in 400 blobs), Zstandard
level 3 stores them in 917 KB against zlib level 1's 986 KB, compresses them in 14 ms against 31 ms, and
decompresses them all in 5.9 ms against 12.9 ms.

Rows stay with zlib level 1. Zstandard level 1 measured better on the rows of a 100,000-user tenant's
mailbox-usage and email-activity reports (12-15 % fewer bytes, 17 / 20 ms to compress instead of 52 / 54,
8 / 8 ms to decompress instead of 26 / 27), but the collection's peak memory grew with it, by 28 MB at 100,000
users and 9 MB at 10,000 (`bench.collection`, one-shot frames; 10 MB with streamed ones), where zlib's does
not; the ~20 ms it would save a first status check is 2 % of that check.
"""

from __future__ import annotations

import threading
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import zstandard

ROWS_LEVEL = 1  # zlib: a third of level 6's CPU for 19 % more bytes, the same number of entities
NAMES_LEVEL = 3  # Zstandard: level 9 is 12 % smaller but cost ~0.5 s more CPU per 100,000-user collection
_MAGIC = b"\x28\xb5\x2f\xfd"  # a Zstandard frame's first bytes; a zlib stream starts with 0x78 (or another CMF)
# A Zstandard context serves one operation at a time (python-zstandard's contexts are not thread-safe): one per
# thread, because the collector writes a tenant's datasets from worker threads.
_local = threading.local()


def _zstd() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    pair = getattr(_local, "pair", None)
    if pair is None:
        import zstandard  # only when names are written or searched: no other check path loads it

        pair = _local.pair = (zstandard.ZstdCompressor(level=NAMES_LEVEL), zstandard.ZstdDecompressor())
    return pair


def compress_rows(data: bytes) -> bytes:
    return zlib.compress(data, ROWS_LEVEL)


def compress_names(data: bytes) -> bytes:
    # Streamed: a one-shot frame allocates the worst-case size and shrinks it, which fragmented the collector's
    # heap (measured as peak memory growing with the number of users).
    stream = _zstd()[0].compressobj(size=len(data))
    return stream.compress(data) + stream.flush()


def decompress(blob: bytes) -> bytes:
    if blob[:4] == _MAGIC:
        return _zstd()[1].decompress(blob)
    return zlib.decompress(blob)
