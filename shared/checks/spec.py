"""The declarative vocabulary a mode is written in (Centreon's counter template as data).

A `ReportMode` says which stored report it reads, how rows fold into metrics (value sources, global sums,
per-instance values) and which counters it shows: one `ActiveCounter` (active/total), a block of global
`Counter`s and an `InstanceBlock` of per-instance `Counter`s / `StatusCounter`s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

Getter = Callable[[str], object]  # column name -> stored value (None when blank or absent)


# --- value sources: how one metric is read from a row -------------------------------------------------
@dataclass(frozen=True)
class Col:
    """The value of one column; `blank` stands for a blank cell (Perl sees '' there: 0 for sums)."""

    column: str
    blank: object = 0

    def get(self, cell: Getter) -> object:
        value = cell(self.column)
        return self.blank if value is None or value == "" else value


@dataclass(frozen=True)
class Const:
    value: object = 1

    def get(self, cell: Getter) -> object:
        return self.value


@dataclass(frozen=True)
class CountMatching:
    """How many of `columns` match `regex` (e.g. devices-usage: cells matching /Yes/)."""

    columns: tuple[str, ...]
    regex: str

    def get(self, cell: Getter) -> object:
        rx = re.compile(self.regex)
        return sum(1 for c in self.columns if rx.search(str(cell(c) or "")))


Source = Col | Const | CountMatching
ONE = Const(1)


# --- perfdata -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Perf:
    label: str  # old-style label; per-instance ones get '_<instance>' when several instances
    unit: str = ""
    min: str = "0"
    max: str | None = None  # a metric key, or None
    thresholds: bool = True  # show the counter's warning/critical ranges
    integer: bool = True  # Centreon template '%d'


# --- counters -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counter:
    """A numeric counter checked against `--warning-<label>` / `--critical-<label>` / `--unknown-<label>`."""

    label: str  # e.g. 'total-send-count'
    nlabel: str  # e.g. 'exchange.users.emails.sent.total.count'
    value: str  # metric key (a global sum, or an instance value)
    output: str  # printf template: 'Send Count: %d'; with bytes=True it receives (value, unit): '%s %s'
    perf: Perf
    bytes: bool = False  # humanise the value (base 1024, 2 decimals, B/KB/MB/GB/TB)


@dataclass(frozen=True)
class ActiveCounter:
    """'Active users on <date> : a/t (p%)': thresholds on the percentage (--units=%) or the count."""

    label: str  # 'active-users'
    output: str  # 'Active users on %s : %d/%d (%.2f%%)' <- (report date, active, total, percent)
    perf_label: str  # 'active_users'
    nlabel: str  # 'exchange.users.active.count' (perfdata only: no nlabel threshold option, as in Centreon)
    unit: str  # 'users'


@dataclass(frozen=True)
class StatusCounter:
    """A counter judged by status expressions (--warning-<label>='%{used} > %{issue_warning_quota}')."""

    label: str  # 'status'
    output: str  # template with {key} / {key:bytes} fields over instance values
    variables: dict[str, str]  # expression variable -> instance value key
    warning_default: str = ""
    critical_default: str = ""
    unknown_default: str = ""
    perf: Perf | None = None
    perf_value: str = ""  # instance value key shown in perf
    perf_nlabel: str = ""


InstanceCounter = Counter | StatusCounter


# --- blocks and the mode --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sum:
    source: Source
    scope: str = "active"  # 'active': rows counted as active; 'inactive': the other (D7) rows


@dataclass(frozen=True)
class GlobalBlock:
    prefix: str  # 'Total (active users) '
    sums: dict[str, Sum]  # metric key -> how it is summed
    counters: tuple[Counter, ...]


@dataclass(frozen=True)
class InstanceBlock:
    name: str  # 'users' (--filter-counters-block matches it)
    key: str  # identity column, e.g. 'User Principal Name'
    prefix: str  # "User '{name}' "
    message_multiple: str  # 'All email activity are ok'
    values: dict[str, Source]  # instance value key -> source ('name' is the identity)
    counters: tuple[InstanceCounter, ...]


@dataclass(frozen=True)
class ReportMode:
    plugin: str  # short plugin name, e.g. 'exchange'
    name: str  # Centreon mode name, e.g. 'email-activity'
    report: str  # catalog key of the stored report
    filters: dict[str, str]  # option name -> column matched (Perl regex, unanchored)
    active: ActiveCounter
    totals: GlobalBlock
    instances: InstanceBlock
    # 'daily': rows with Report Period = 1 are the active ones; 'last_activity': D7 rows whose Last Activity
    # Date equals the refresh date (mailbox-usage).
    active_from: str = "daily"
    weight: Source = ONE  # what a row adds to total/active (1, or e.g. a count of 'Yes' cells)
    filter_counters_default: str = "active|total"
    period_column: str = "Report Period"
    last_activity_column: str = "Last Activity Date"
    extra_options: dict[str, str] = field(default_factory=dict)  # other mode options and their defaults

    @property
    def key(self) -> str:
        """Key of this mode's summary in ReportData.summaries."""
        return f"{self.plugin}:{self.name}"
