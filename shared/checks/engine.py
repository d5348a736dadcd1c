"""Entry points: run one check against stored data, and the collection-time summary accumulators."""

from __future__ import annotations

from collections.abc import Callable

from .data import ReportData
from .evaluate import evaluate, instance_counters_shown
from .fold import Fold, Metrics, SummaryAccumulator
from .modes import MODES, PLUGIN_ALIASES, resolve
from .options import parse_options
from .result import CheckError, CheckResult
from .spec import ReportMode

__all__ = ["run_check", "summary_accumulators", "SummaryAccumulator", "mode_for"]


def mode_for(plugin: str, mode: str) -> ReportMode:
    spec = resolve(plugin, mode)
    if spec is None:
        if plugin.strip().lower() not in PLUGIN_ALIASES:
            raise CheckError(f"Unknown plugin '{plugin}'.", http_status=404)
        raise CheckError(f"Unknown mode '{mode}' for plugin '{plugin}'.", http_status=404)
    return spec


def run_check(plugin: str, mode: str, data_for: Callable[[str], ReportData], options: dict[str, str]) -> CheckResult:
    spec = mode_for(plugin, mode)
    settings = parse_options(spec, options)
    data = data_for(spec.report)
    summary = data.summaries.get(spec.key) if data.summaries else None
    if summary is not None and not settings.filters and not instance_counters_shown(spec, settings):
        metrics = Metrics.from_summary(summary, data.refresh_date)
    else:
        fold = Fold(spec, data.columns, data.refresh_date, settings.filters, keep_instances=True)
        metrics = fold.add_all(data.load_rows()).result()
    return evaluate(spec, settings, metrics).result(settings)


def summary_accumulators(report_key: str, columns: list[str], refresh_date: str) -> list[SummaryAccumulator]:
    return [SummaryAccumulator(m, columns, refresh_date) for m in MODES.values() if m.report == report_key]
