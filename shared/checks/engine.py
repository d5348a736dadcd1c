"""Entry points: run one check against stored data, and the collection-time summary accumulators."""

from __future__ import annotations

import functools
from collections.abc import Callable

from shared.echo import echo

from . import limits
from .data import ReportData
from .evaluate import evaluate, instance_counters_shown
from .fold import PSEUDONYMIZED, Fold, Metrics, SummaryAccumulator
from .limits import every
from .modes import MODES, PLUGIN_ALIASES, resolve
from .options import CheckOptions, parse_options
from .output import Output
from .result import CheckError, CheckResult, ModeExit
from .select import keep
from .spec import AnyMode, CollectionMode, ListMode, ReportMode

__all__ = [
    "run_check",
    "summary_accumulators",
    "indexed_columns",
    "SummaryAccumulator",
    "mode_for",
    "concealed_message",
]

CONCEALED_SETTING = (
    "turn off 'Display concealed user, group, and site names in all reports' in the Microsoft 365 admin center > "
    'Settings > Org settings > Reports (or Graph PATCH /admin/reportSettings {"displayConcealedNames": false}); '
    "real names are stored from the next collection"
)


def concealed_message(report: str, need: str) -> str:
    return f"Report '{report}' has concealed user, group and site names, so {need} cannot work: {CONCEALED_SETTING}."


def singular(name: str) -> str:
    """'mailboxes' -> 'mailbox', 'users' -> 'user' (instance block names)."""
    return name[:-2] if name.endswith(("xes", "sses")) else name.removesuffix("s")


def mode_for(plugin: str, mode: str) -> AnyMode:
    spec = resolve(plugin, mode)
    if spec is None:
        if plugin.strip().lower() not in PLUGIN_ALIASES:
            raise CheckError(f"Unknown plugin '{echo(plugin)}'.", http_status=404)
        raise CheckError(f"Unknown mode '{echo(mode)}' for plugin '{echo(plugin)}'.", http_status=404)
    return spec


def _names_needed(spec: AnyMode, options: CheckOptions) -> str | None:
    """What needs real names in this check (for the concealed-names answer), or None."""
    if isinstance(spec, ListMode):
        return f"mode {spec.name}"
    if isinstance(spec, CollectionMode) and not spec.needs_names:
        return None
    if options.filters:
        return " / ".join(f"--{name}" for name in options.filters)
    if spec.instances is not None and instance_counters_shown(spec, options):
        return f"the per-{singular(spec.instances.name)} counters"
    return None


def _check_names(spec: AnyMode, options: CheckOptions, data: ReportData) -> None:
    pseudonymize = getattr(spec, "pseudonymize_column", None) is not None
    if pseudonymize:  # SharePoint keeps Centreon's own semantics: --use-pseudonymize accepts hashed names
        if data.concealed and not options.flag("use-pseudonymize"):
            raise ModeExit(PSEUDONYMIZED)
        return
    need = _names_needed(spec, options) if data.concealed else None
    if need is not None:
        raise ModeExit(concealed_message(data.report, need))


def _list(spec: ListMode, options: CheckOptions, data: ReportData) -> Output:
    items: dict[str, str] = {}
    url_column = None if options.flag("use-pseudonymize") else spec.pseudonymize_column
    for values in every(iter(data.load_rows())):
        row = dict(zip(data.columns, values, strict=False))
        if url_column is not None and not str(row.get(url_column) or "").startswith(("http:", "https:")):
            raise ModeExit(PSEUDONYMIZED)
        if spec.period_column and str(row.get(spec.period_column)) in ("1", "1.0"):
            continue
        if not keep(spec, options, row):
            continue
        shown = {c: "" if row.get(c) is None else str(row.get(c)) for _, c in spec.line}
        shown.update({c: shown[c].lower() for c in spec.lower if c in shown})
        items[shown.get(spec.key, str(row.get(spec.key) or ""))] = " ".join(
            f"[{label}{spec.sep}{shown[column]}]" for label, column in spec.line
        )
    out = Output()
    out.no_label = out.force_long = True
    out.add("OK", spec.title)
    out.long += [items[k] for k in sorted(items)]
    return out


def _nothing_shown(spec: AnyMode, options: CheckOptions, metrics: Metrics) -> str:
    """Why a check has nothing to print (Centreon prints an empty 'OK: ' then): the message of its UNKNOWN."""
    block = getattr(spec, "instances", None)
    if block is not None and not metrics.instances and instance_counters_shown(spec, options):
        what = singular(block.name)
        if isinstance(spec, ReportMode):
            what = f"active {what}"  # per-instance counters are only kept for active users, mailboxes, sites
        given = [f"--{name} '{echo(options.raw[name])}'" for name in {**options.filters, **options.excludes}]
        return f"No {what} found" + (f" ({', '.join(given)})." if given else ".")
    shown = options.raw.get("filter-counters", getattr(spec, "filter_counters_default", ""))
    blocks = options.raw.get("filter-counters-block", "")
    reasons = [f"--filter-counters '{echo(shown)}'"] + ([f"--filter-counters-block '{echo(blocks)}'"] if blocks else [])
    return f"No counter selected ({', '.join(reasons)})."


def _evaluated(spec: ReportMode | CollectionMode, options: CheckOptions, metrics: Metrics) -> Output:
    out = evaluate(spec, options, metrics)
    if not any(out.buckets.values()):
        raise ModeExit(_nothing_shown(spec, options, metrics))
    return out


def _run(spec: AnyMode, options: CheckOptions, data_for: Callable[[str], ReportData]) -> Output:
    data = data_for(spec.report)
    _check_names(spec, options, data)
    if isinstance(spec, ListMode):
        return _list(spec, options, data)
    if isinstance(spec, CollectionMode):
        rows = [dict(zip(data.columns, values, strict=False)) for values in every(iter(data.load_rows()))]
        metrics = spec.build(rows, options)
        if spec.empty and not metrics.instances:
            raise ModeExit(spec.empty)
        return _evaluated(spec, options, metrics)
    summary = data.summaries.get(spec.summary_key) if data.summaries else None
    summarised = None
    if summary is not None and not options.filters and not instance_counters_shown(spec, options):
        summarised = Metrics.from_summary(summary, data.refresh_date)
    if summarised is None:
        fold = Fold(spec, data.columns, data.refresh_date, options.filters, True, options.flag("use-pseudonymize"))
        stored = data.load_rows()
        # A fold ignores the rows its filters reject, so the chunks that cannot match need not be read; not when
        # every row's URL is checked for pseudonymization first (SharePoint, as Centreon does).
        if options.filters and data.load_matching is not None and fold.url_column is None:
            stored = data.load_matching({spec.filters[option]: rx for option, rx in options.filters.items()})
        summarised = fold.add_all(stored).result()
    return _evaluated(spec, options, summarised)


def run_check(plugin: str, mode: str, data_for: Callable[[str], ReportData], given: dict[str, str]) -> CheckResult:
    spec = mode_for(plugin, mode)
    with limits.scope():
        options = parse_options(spec, given)
        try:
            out = _run(spec, options, data_for)
        except ModeExit as exc:
            out = Output()
            out.add(exc.severity, exc.message)
        prefix = "o365mon" if spec.plugin == "health" else "cloud::microsoft::office365"
        return out.result(options, f"{prefix}::{spec.plugin}::plugin", spec.name)


def summary_accumulators(report_key: str, columns: list[str], refresh_date: str) -> list[SummaryAccumulator]:
    """Collection-time summaries of the report modes reading `report_key` (none for JSON collections: their
    modes always read the few stored rows)."""
    return [
        SummaryAccumulator(m, columns, refresh_date)
        for m in MODES.values()
        if isinstance(m, ReportMode) and m.report == report_key
    ]


@functools.cache
def indexed_columns(report_key: str) -> tuple[str, ...]:
    """The columns the name filters of the modes reading `report_key` match: the snapshot's names index."""
    return tuple(
        sorted(
            {
                c
                for m in MODES.values()
                if isinstance(m, ReportMode) and m.report == report_key
                for c in m.filters.values()
            }
        )
    )
