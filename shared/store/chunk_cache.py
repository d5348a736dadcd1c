"""Decoded snapshot chunks (and the answers computed from them) kept in the serving process, least recently
used first out, under a memory cap.

A snapshot's partition is written once and never changed (the next collection writes a new partition under a
new snapshot id and switches the pointer), so a decoded chunk keyed by its partition and row key stays right
for as long as it is kept: nothing to invalidate, and a check still reads the pointer, so it sees a new
collection at once. The Functions worker process lives between invocations, which makes repeated checks of a
tenant skip Table reads, decompression and JSON until the next collection.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections import OrderedDict
from collections.abc import Iterator

from shared import settings

ANSWER_PREFIX = "~answer "  # row keys of whole check answers kept beside a snapshot's chunks (see checks.service)

# Python objects of decoded rows take about this many times the bytes of their JSON text: sys.getsizeof summed
# over 2,000 decoded rows measured 4.4x for mailbox-usage rows and 6.3x for email-activity rows (short strings
# and small ints each an object); the larger one, so the cap is not overrun.
OBJECT_OVERHEAD = 6


class ChunkCache:
    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def capacity() -> int:
        return settings.integer("CHECK_CACHE_MB") * 1024 * 1024

    def get(self, partition: str, row_key: str) -> object | None:
        with self._lock:
            item = self._items.get((partition, row_key))
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end((partition, row_key))
            self.hits += 1
            return item[0]

    def put(self, partition: str, row_key: str, value: object, text_bytes: int, *, objects: bool = True) -> None:
        """Keep `value` (decoded from `text_bytes` of JSON text, or, `objects=False`, that many bytes held as they
        are), evicting the oldest entries past the cap; a value larger than the whole cap is not kept."""
        cost = text_bytes * (OBJECT_OVERHEAD if objects else 1)
        cap = self.capacity()
        if cost > cap or not _kept.get():
            return
        with self._lock:
            old = self._items.pop((partition, row_key), None)
            if old is not None:
                self._bytes -= old[1]
            self._items[(partition, row_key)] = (value, cost)
            self._bytes += cost
            while self._bytes > cap:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes


_kept: contextvars.ContextVar[bool] = contextvars.ContextVar("chunk_cache_kept", default=True)


@contextlib.contextmanager
def not_kept() -> Iterator[None]:
    """Nothing read inside is kept (what is kept already is still used): for readers that serve no checks."""
    token = _kept.set(False)
    try:
        yield
    finally:
        _kept.reset(token)


CHUNKS = ChunkCache()
