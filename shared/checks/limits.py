"""Time limits of one check: a regex budget for every pattern that came from the request, and a deadline.

Patterns from a request (filters, `=~` in status expressions, change-short-output) run on the tenant's data,
so a pattern that backtracks catastrophically (`^([a-z.]+){1,50}$` over 5,000 user names) must not hold a
worker: each match gets what is left of the check's budget as its timeout (the `regex` module's `timeout=`,
with `concurrent=True` so the GIL is released while it runs), and the time it took is taken off the budget.
The deadline bounds the whole check cooperatively: the fold and evaluation loops look at the clock every few
hundred rows.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from shared import settings

from .result import CheckError

EVERY = 256  # rows or instances between two looks at the clock


class Limits:
    def __init__(self, regex_budget_ms: float, deadline_s: float):
        self.regex_budget_ms = regex_budget_ms
        self.regex_left = regex_budget_ms / 1000
        self.regex_spent: dict[str, float] = {}  # option -> seconds its pattern ran
        self.deadline_s = deadline_s
        self.deadline = time.monotonic() + deadline_s

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(settings.number("CHECK_REGEX_BUDGET_MS"), settings.number("CHECK_DEADLINE_S"))

    def over_budget(self, option: str) -> CheckError:
        """The error naming the pattern that used most of the budget (not the one that happened to be next)."""
        if self.regex_spent:
            option = max(self.regex_spent, key=self.regex_spent.__getitem__)
        # 200 over HTTP: the pattern is valid; it is this tenant's data that makes it too slow.
        return CheckError(
            f"{option}: pattern took longer than {self.regex_budget_ms:g} ms on this tenant's data",
            http_status=200,
        )

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise CheckError(
                f"check took longer than {self.deadline_s:g} s (CHECK_DEADLINE_S): narrow it with a filter",
                http_status=200,
            )


_current: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("check_limits", default=None)


def current() -> Limits:
    """The running check's limits; outside a check (a pattern used on its own), fresh ones."""
    return _current.get() or Limits.from_settings()


@contextmanager
def scope() -> Iterator[Limits]:
    """The limits of one check, started now; a nested scope shares the outer one (a caller that reads
    storage first can start the clock earlier)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    limits = Limits.from_settings()
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def every(items: Iterator, limits: Limits | None = None) -> Iterator:
    """`items`, looking at the deadline every EVERY items."""
    limits = limits or current()
    for n, item in enumerate(items):
        if n % EVERY == 0:
            limits.check_deadline()
        yield item
