"""Faults the IT Glue simulator injects on demand (from Python: `ItGlueSimulator.add_fault`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

# throttle: 429 whatever the bucket holds (a storm when `times` is large); error: `status` (500/502/504 ...)
# before anything is written; slow: sleep `delay`, then answer normally; commit_then_drop: perform the request
# (a write is committed), then close the connection without answering, as when a gateway or the network fails
# after the server did the work.
FAULT_KINDS = frozenset({"throttle", "error", "slow", "commit_then_drop"})


@dataclass
class ItGlueFault:
    kind: str
    method: str | None = None  # GET, POST, PATCH, DELETE; None: any
    path_contains: str | None = None  # substring of the request path (no query string); None: any path
    nth: int = 1  # first matching request it applies to (1: the next one)
    times: int | None = 1  # how many matching requests it applies to from the nth on; None: until cleared
    status: int = 500  # for error
    retry_after: int | None = None  # for throttle: Retry-After seconds; None: no header
    delay: float = 0.0  # seconds, for slow

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError("nth and times must be at least 1 (times may be None for unlimited)")
        if self.method is not None:
            self.method = self.method.upper()


class FaultBook:
    """Thread-safe pending faults; each request consumes at most one (the first that matches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[list] = []  # [fault, matching requests seen]

    def add(self, fault: ItGlueFault) -> None:
        with self._lock:
            self._faults.append([replace(fault), 0])

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[ItGlueFault]:
        with self._lock:
            return [replace(f) for f, _ in self._faults]

    def take(self, method: str, path: str) -> ItGlueFault | None:
        with self._lock:
            chosen = None
            for entry in list(self._faults):
                fault = entry[0]
                if fault.method is not None and fault.method != method:
                    continue
                if fault.path_contains is not None and fault.path_contains not in path:
                    continue
                entry[1] += 1
                if chosen is not None or entry[1] < fault.nth:
                    continue
                chosen = replace(fault)
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(entry)
            return chosen
