"""The stored data a check reads: one report snapshot, handed over by the storage layer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .perlre import BoundedPattern


@dataclass
class ReportData:
    report: str  # catalog key, e.g. "email_activity"
    refresh_date: str  # "YYYY-MM-DD", or "" for an empty report
    columns: list[str]  # order of the values in each row
    summaries: dict[str, dict] = field(default_factory=dict)  # mode key -> summary computed at collection
    load_rows: Callable[[], Iterable[Sequence]] = lambda: ()  # all stored rows (D7 then daily); only when needed
    concealed: bool = False
    # The rows that may match name filters (column -> pattern), read through the store's names index: a superset
    # of the matching rows, in stored order. None: the store has no index, load_rows is read instead.
    load_matching: Callable[[Mapping[str, BoundedPattern]], Iterable[Sequence]] | None = None
