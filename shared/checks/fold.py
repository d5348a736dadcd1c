"""Rows -> metrics: the one fold shared by the check (with instances) and the collection-time summary.

Centreon's manage_selection, generalised: a filtered row is ignored; a D7 row adds to `total` (and to the
'inactive' sums when its last activity is not the refresh date); an active row (daily row, or for
mailbox-usage a D7 row active on the refresh date) adds to `active`, the 'active' sums and its instance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .expressions import to_number
from .limits import every
from .perlre import BoundedPattern
from .result import ModeExit
from .spec import Col, Const, CountMatching, Getter, ReportMode, Source

PSEUDONYMIZED = "reports pseudonymize user-level information is enabled. use option --use-pseudonymize or disable it"
_URL = re.compile(r"^(https|http):")

SUMMARY_VERSION = 1


@dataclass
class Metrics:
    report_date: str
    total: int | float = 0
    active: int | float = 0
    sums: dict[str, int | float] = field(default_factory=dict)
    instances: dict[str, dict[str, object]] = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-serialisable; instances are discarded."""
        return {"version": SUMMARY_VERSION, "total": self.total, "active": self.active, "sums": dict(self.sums)}

    @classmethod
    def from_summary(cls, summary: dict, report_date: str) -> Metrics | None:
        """None for a summary of another version: the check then folds the stored rows."""
        if summary.get("version") != SUMMARY_VERSION:
            return None
        return cls(report_date, summary["total"], summary["active"], dict(summary["sums"]), {})


class Fold:
    """Feed rows with add(); result() gives the Metrics. Keeps sums only unless keep_instances."""

    def __init__(
        self,
        mode: ReportMode,
        columns: Sequence[str],
        refresh_date: str,
        filters: dict[str, BoundedPattern] | None = None,
        keep_instances: bool = True,
        use_pseudonymize: bool = False,
    ):
        self.mode = mode
        self.url_column = None if use_pseudonymize else mode.pseudonymize_column
        self.key_column = (use_pseudonymize and mode.key_pseudonymized) or mode.instances.key
        self.index = {name: i for i, name in enumerate(columns)}
        self.refresh_date = refresh_date or ""
        self.filters = [(mode.filters[opt], rx) for opt, rx in (filters or {}).items()]
        self.keep_instances = keep_instances
        self.metrics = Metrics(self.refresh_date, sums={k: 0 for k in mode.totals.sums})
        # Sources compiled once per fold, not looked up per cell: a check folds every row of the report.
        sums = mode.totals.sums.items()
        self._active_sums = [(key, _reader(s.source, self.index)) for key, s in sums if s.scope == "active"]
        self._inactive_sums = [(key, _reader(s.source, self.index)) for key, s in sums if s.scope == "inactive"]
        self._values = [(key, _reader(source, self.index)) for key, source in mode.instances.values.items()]

    def add(self, row: Sequence) -> None:
        index = self.index

        def cell(column: str) -> object:
            i = index.get(column)
            return row[i] if i is not None and i < len(row) else None

        if self.url_column is not None and not _URL.match(str(cell(self.url_column) or "")):
            raise ModeExit(PSEUDONYMIZED)  # SharePoint's own check, before the filters (as Centreon)
        for column, rx in self.filters:
            value = cell(column)
            if rx.search("" if value is None else str(value)) is None:
                return
        mode, m = self.mode, self.metrics
        weight = mode.weight.get(cell)
        if mode.active_from == "daily" and _is_one(cell(mode.period_column)):
            self._active(row, cell, weight)
            return
        m.total += weight
        last = cell(mode.last_activity_column)
        on_refresh_date = last is not None and str(last) == self.refresh_date
        if mode.active_from == "last_activity" and on_refresh_date:
            self._active(row, cell, weight)
        elif not on_refresh_date:
            self._sums(row, cell, self._inactive_sums)

    def _active(self, row: Sequence, cell: Getter, weight: int | float) -> None:
        self.metrics.active += weight
        self._sums(row, cell, self._active_sums)
        if self.keep_instances:
            name = cell(self.key_column)
            name = "" if name is None else str(name)
            values = {}
            n = len(row)
            for key, reader in self._values:  # _read, inlined: this runs for every value of every instance
                if isinstance(reader, tuple):
                    i, blank = reader
                    value = row[i] if i < n else None
                    values[key] = blank if value is None or value == "" else value
                else:
                    values[key] = reader.get(cell)
            values["name"] = name
            self.metrics.instances[name] = values

    def _sums(self, row: Sequence, cell: Getter, readers: list[tuple[str, _Reader]]) -> None:
        sums = self.metrics.sums
        for key, reader in readers:
            value = _read(reader, row, cell)
            sums[key] += value if isinstance(value, int | float) else to_number(value)

    def add_all(self, rows: Iterable[Sequence]) -> Fold:
        for row in every(iter(rows)):
            self.add(row)
        return self

    def result(self) -> Metrics:
        return self.metrics


# A source as read by a fold: (column index, blank) for a column present in the report, else the source itself.
_Reader = tuple[int, object] | Source


def _reader(source: Source, index: dict[str, int]) -> _Reader:
    if isinstance(source, Col) and source.column in index:
        return index[source.column], source.blank
    return source


def _read(reader: _Reader, row: Sequence, cell: Getter) -> object:
    """Col.get, without its calls, for a column of the report."""
    if isinstance(reader, tuple):
        i, blank = reader
        value = row[i] if i < len(row) else None
        return blank if value is None or value == "" else value
    return reader.get(cell)


def _is_one(value: object) -> bool:
    try:
        return float(value) == 1  # type: ignore[arg-type]  # any cell: float() refusing it is the answer
    except (TypeError, ValueError):
        return False


class SummaryAccumulator:
    """Streams rows at collection time into the summary of one mode (sums and counts only): Fold's arithmetic,
    compiled once per report into column positions and fed a list of rows at a time (the generic fold, with its
    per-cell closure calls, was a quarter of a big tenant's collection)."""

    def __init__(self, mode: ReportMode, columns: Sequence[str], refresh_date: str):
        self.mode_key = mode.summary_key
        # no pseudonymization check here: the check answers it (from the rows or ReportData.concealed)
        self._fold = Fold(mode, columns, refresh_date, filters=None, keep_instances=False, use_pseudonymize=True)
        index, self._width = self._fold.index, len(columns)
        self._daily = mode.active_from == "daily"
        self._by_last = mode.active_from == "last_activity"
        self._period = index.get(mode.period_column)
        self._last = index.get(mode.last_activity_column)
        self._refresh = self._fold.refresh_date
        self._weight = _compiled(mode.weight, index)
        sums = mode.totals.sums.items()
        self._active_sums = [(k, _compiled(s.source, index)) for k, s in sums if s.scope == "active"]
        self._inactive_sums = [(k, _compiled(s.source, index)) for k, s in sums if s.scope == "inactive"]

    def add(self, row: Sequence) -> None:
        self.add_many([row])

    def add_many(self, rows: Sequence[Sequence]) -> None:
        width = self._width
        if any(len(row) < width for row in rows):  # a short row reads absent cells as None: the fold knows how
            for row in rows:
                self._fold.add(row)
            return
        period, last, refresh, weight = self._period, self._last, self._refresh, self._weight
        daily, by_last = self._daily, self._by_last
        active: list[Sequence] = []
        inactive: list[Sequence] = []
        total_rows: list[Sequence] = []  # rows adding to `total`, in order (the others are active daily rows)
        for row in rows:
            if daily and period is not None:
                p = row[period]
                if (p == 1) if type(p) is int else _is_one(p):
                    active.append(row)
                    continue
            total_rows.append(row)
            v = None if last is None else row[last]
            on_refresh_date = v is not None and (v if type(v) is str else str(v)) == refresh
            if by_last and on_refresh_date:
                active.append(row)
            elif not on_refresh_date:
                inactive.append(row)
        m = self._fold.metrics
        # Counts and integer weights are exact in any order; a weight of another type is added row by row.
        m.total = _accumulate(m.total, weight, total_rows)
        m.active = _accumulate(m.active, weight, active)
        for group, readers in ((active, self._active_sums), (inactive, self._inactive_sums)):
            for key, reader in readers:
                m.sums[key] = _accumulate(m.sums[key], reader, group)

    def result(self) -> dict:
        return self._fold.result().summary()


# A value source compiled against a report's columns: (column position, blank) for a present column's value,
# ("const", value), or ("count", search, positions, hits of the absent columns) for CountMatching.
_Compiled = tuple


def _compiled(source: Source | Const, index: dict[str, int]) -> _Compiled:
    if isinstance(source, Col):
        return (index[source.column], source.blank) if source.column in index else ("const", source.blank)
    if isinstance(source, CountMatching):
        rx = re.compile(source.regex)
        # A literal pattern (no metacharacter) matches where it is a substring: `in` instead of the regex engine.
        search = (lambda text, lit=source.regex: lit in text) if re.escape(source.regex) == source.regex else rx.search
        present = [index[c] for c in source.columns if c in index]
        absent = sum(1 for c in source.columns if c not in index and rx.search(""))
        return ("count", search, present, absent)
    return ("const", source.value)


def _values(reader: _Compiled, rows: list[Sequence]) -> list:
    """The value each row gives a source, as Fold reads it (blank cells as the source's blank)."""
    if reader[0] == "const":
        return [reader[1]] * len(rows)
    if reader[0] == "count":
        _, search, present, absent = reader
        return [
            absent + sum(1 for i in present if search(v if type(v := row[i]) is str else str(v or ""))) for row in rows
        ]
    i, blank = reader
    return [blank if (v := row[i]) is None or v == "" else v for row in rows]


def _accumulate(start: int | float, reader: _Compiled, rows: list[Sequence]) -> int | float:
    """`start` plus every row's value, as Fold adds them one by one (numbers as they are, others numified)."""
    if not rows:
        return start
    values = _values(reader, rows)
    if type(start) is int and all(type(v) is int for v in values):
        return start + sum(values)  # integers: exact whatever the order
    for v in values:
        start += v if isinstance(v, int | float) else to_number(v)
    return start
