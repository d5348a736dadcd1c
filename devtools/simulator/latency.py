"""Graph's latency and report throttling, for runs that must feel like the real service (off by default).

The simulator answers in microseconds, which hides what a design costs against Graph, where a report request
takes seconds before its 302 and a tenant's budget is 14 requests per 10 minutes per report. `Latency` draws a
delay per request from a seeded RNG (one stream per endpoint family, so the n-th report request gets the same
delay whatever JSON requests ran in between); `realistic_options()` is the GraphSimulator keyword set that
turns both on (README, "Graph simulator", says how to switch them on and lists the defaults).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Families of requests with their own latency: token (login), report (the request answered with a 302),
# download (the CSV from the download host), json (every other Graph request: pages, settings, errors).
FAMILIES = ("token", "report", "download", "json")

# Graph's report limits (Microsoft Learn, graph/throttling-limits, "Microsoft 365 reports service limits"),
# each per report API:
# 14 per 10 minutes per app per tenant, 40 per 10 minutes per tenant for all apps. Service communications:
# 240 per 60 s per app per tenant (its 800-per-hour cap is not modelled).
REPORT_LIMIT_PER_APP = 14
REPORT_LIMIT_PER_TENANT = 40
REPORT_WINDOW_S = 600.0
SERVICE_LIMIT = 240
SERVICE_WINDOW_S = 60.0


@dataclass
class Latency:
    """Per-request delays in seconds, (low, high) per family, drawn skewed towards low as real latency is.

    A download takes `download_base` plus its size at `download_mb_per_s`; `scale` multiplies every delay
    (0.01 for tests). Same seed, same order of requests per family: same delays.
    """

    token: tuple[float, float] = (0.1, 0.5)
    report: tuple[float, float] = (1.0, 5.0)
    json: tuple[float, float] = (0.2, 1.0)
    download_base: tuple[float, float] = (0.1, 0.5)
    download_mb_per_s: float = 10.0
    scale: float = 1.0
    seed: int = 1
    _rngs: dict[str, random.Random] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("token", "report", "json", "download_base"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name}: need 0 <= low <= high, got {(low, high)}")
        if self.download_mb_per_s <= 0 or self.scale < 0:
            raise ValueError("download_mb_per_s must be > 0 and scale >= 0")

    def bounds(self, family: str, size: int = 0) -> tuple[float, float]:
        """The (min, max) delay a request of this family (and body size, for downloads) can get."""
        if family == "download":
            low, high = self.download_base
            transfer = size / (self.download_mb_per_s * 1024 * 1024)
            return (low + transfer) * self.scale, (high + transfer) * self.scale
        if family not in FAMILIES:
            raise ValueError(f"unknown latency family {family!r}; expected one of {FAMILIES}")
        low, high = getattr(self, family)
        return low * self.scale, high * self.scale

    def draw(self, family: str, size: int = 0) -> float:
        low, high = self.bounds(family, size)
        with self._lock:
            rng = self._rngs.get(family)
            if rng is None:
                rng = self._rngs[family] = random.Random(f"{self.seed}:{family}")
            return rng.triangular(low, high, low + (high - low) / 4)

    def restart(self) -> None:
        """Back to the first draw of every family (GraphSimulator.reset() calls it)."""
        with self._lock:
            self._rngs.clear()

    def sleep(self, family: str, size: int = 0) -> float:
        delay = self.draw(family, size)
        if delay > 0:
            time.sleep(delay)
        return delay


def family(role: str, status: int) -> str:
    """The latency family of an answered request: by listener, and a report request is the one with a 302."""
    if role == "login":
        return "token"
    if role == "download":
        return "download"
    return "report" if status == 302 else "json"


def realistic_options(latency_scale: float = 1.0, window_scale: float = 1.0, seed: int = 1) -> dict[str, Any]:
    """GraphSimulator keywords for Graph's latency and throttling; the scales shorten delays and windows."""
    return {
        "latency": Latency(scale=latency_scale, seed=seed),
        "throttle_limit": REPORT_LIMIT_PER_APP,
        "tenant_throttle_limit": REPORT_LIMIT_PER_TENANT,
        "throttle_window": REPORT_WINDOW_S * window_scale,
        "service_throttle_limit": SERVICE_LIMIT,
        "service_throttle_window": SERVICE_WINDOW_S * window_scale,
    }
