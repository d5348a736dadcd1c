"""The declarative vocabulary a mode is written in (Centreon's counter template as data).

A `ReportMode` says which stored report it reads, how rows fold into metrics (value sources, global sums,
per-instance values) and which counters it shows: one `ActiveCounter` (active/total), a block of global
`Counter`s and an `InstanceBlock` of per-instance `Counter`s / `StatusCounter`s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fold import Metrics
    from .options import CheckOptions

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
    value: int = 1

    def get(self, cell: Getter) -> int:
        return self.value


@dataclass(frozen=True)
class CountMatching:
    """How many of `columns` match `regex` (e.g. devices-usage: cells matching /Yes/)."""

    columns: tuple[str, ...]
    regex: str

    def get(self, cell: Getter) -> int:
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
    template: str = ""  # e.g. '%.2f' (the value is then printed as formatted)
    nlabel_suffix: str = ""  # instance value key appended to the nlabel ('.days' for app-credentials --unit)
    unit_key: str = ""  # instance value key giving the unit (instead of `unit`)


# --- counters -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counter:
    """A numeric counter checked against `--warning-<label>` / `--critical-<label>` / `--unknown-<label>`."""

    label: str  # e.g. 'total-send-count'
    nlabel: str  # e.g. 'exchange.users.emails.sent.total.count'
    value: str  # metric key (a global sum, or an instance value)
    output: str  # printf template: 'Send Count: %d'; with bytes=True it receives (value, unit): '%s %s'
    perf: Perf | None
    bytes: bool = False  # humanise the value (base 1024, 2 decimals, B/KB/MB/GB/TB)
    display_ok: bool = True  # False: its text only shows when it is the counter in trouble (Centreon display_ok)
    warning_default: str = ""
    critical_default: str = ""


@dataclass(frozen=True)
class ActiveCounter:
    """'Active users on <date> : a/t (p%)': thresholds on the percentage (--units=%) or the count."""

    label: str  # 'active-users'
    output: str  # 'Active users on %s : %d/%d (%.2f%%)' <- (report date, active, total, percent)
    perf_label: str  # 'active_users'
    nlabel: str  # 'exchange.users.active.count' (perfdata only: no nlabel threshold option, as in Centreon)
    unit: str  # 'users'
    dated: bool = True  # output gets the report date first, and a 'perfdate' metric is added


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
    problem_suffix: str = ""  # template appended to the output when the status is not OK


@dataclass(frozen=True)
class UsageCounter:
    """Used vs allocated bytes ('Total: 1.00 TB Used: 5.00 GB (0.49%) Free: ...'): thresholds on the used %
    (--units=%) or bytes, on free instead with --free; perfdata thresholds always as % of the allocation."""

    label: str  # 'usage'
    nlabel: str  # perfdata only: 'onedrive.sites.usage.bytes' (always '<instance>#' with --use-new-perfdata)
    used: str = "used"  # instance value keys
    total: str = "allocated"
    perf_label: str = "used"


InstanceCounter = Counter | StatusCounter | UsageCounter


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
    perf_instance: tuple[str, ...] = ("name",)  # value keys naming the instance in perfdata (joined by '~')


@dataclass(frozen=True)
class MultiBlock:
    """Centreon's type-3 block: parent instances (applications) each holding groups of child instances
    (password / key credentials); child texts go to the long output under the parent's header."""

    name: str  # 'applications'
    prefix: str  # "application '{name}' "
    long_header: str  # "checking application '{name}'"
    indent: str  # '    '
    message_multiple: str
    groups: tuple[InstanceBlock, ...]  # each group's `name` is the key of its children in the parent


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
    weight: Const | CountMatching = ONE  # what a row adds to total/active (1, or e.g. a count of 'Yes' cells)
    filter_counters_default: str = "active|total"
    period_column: str = "Report Period"
    last_activity_column: str = "Last Activity Date"
    extra_options: dict[str, str] = field(default_factory=dict)  # other mode options and their defaults
    # SharePoint: rows whose this column is not an http(s) URL mean pseudonymized reports (--use-pseudonymize)
    pseudonymize_column: str | None = None
    key_pseudonymized: str | None = None  # identity column used instead with --use-pseudonymize

    @property
    def summary_key(self) -> str:
        """Key of this mode's collection-time summary in ReportData.summaries."""
        return f"{self.plugin}:{self.name}"


Builder = Callable[[list[dict], "CheckOptions"], "Metrics"]  # a CollectionMode's rows (as dicts) -> metrics


@dataclass(frozen=True)
class CollectionMode:
    """A mode over a JSON collection (service health, licences, credentials, organization) or the health
    pseudo-dataset: `build` turns the rows into Metrics (its manage_selection); counters as in ReportMode."""

    plugin: str
    name: str
    report: str
    build: Builder
    instances: InstanceBlock | MultiBlock | None = None
    active: ActiveCounter | None = None  # a global 'used/total (p%)' counter (directory-size-usage)
    empty: str = ""  # UNKNOWN message when no instance is selected ('No services found.')
    filters: dict[str, str] = field(default_factory=dict)  # option -> column, regex must match (include)
    excludes: dict[str, str] = field(default_factory=dict)  # option -> column, regex must not match
    extra_options: dict[str, str] = field(default_factory=dict)
    force_new_perfdata: bool = False
    filter_counters_default: str = ""
    needs_names: bool = False  # per-instance names from a usage report (concealed check)
    totals: GlobalBlock | None = None


@dataclass(frozen=True)
class ListMode:
    """A list-* mode: 'List sites: ' then one long line per item (Centreon forces the long output)."""

    plugin: str
    name: str
    report: str
    title: str  # 'List sites: '
    line: tuple[tuple[str, str], ...]  # (label, column) pairs: '[owner = <Owner Display Name>] [url = ...]'
    sep: str  # between label and value: ' = ' or ': '
    key: str  # column identifying an item (rows with the same key collapse, sorted by it)
    filters: dict[str, str] = field(default_factory=dict)
    extra_options: dict[str, str] = field(default_factory=dict)
    pseudonymize_column: str | None = None
    needs_names: bool = True  # lists of users/sites need real names (concealed check)
    period_column: str | None = None  # when set, only D7 rows (Report Period != 1) are listed
    lower: tuple[str, ...] = ()  # columns shown lower-cased


AnyMode = ReportMode | CollectionMode | ListMode
