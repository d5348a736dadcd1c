"""Metrics + settings -> per-counter states, messages and perfdata (Centreon's run_global / run_instances)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping

from .fold import Metrics
from .options import Settings
from .output import Output, most_critical
from .perfdata import label as perf_label
from .ranges import Range
from .result import Perfdata, perl_number
from .spec import ActiveCounter, Counter, ReportMode, StatusCounter

_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_FIELD = re.compile(r"\{(\w+)(?::(\w+))?\}")


def human_bytes(value: object) -> tuple[str, str]:
    """Centreon's change_bytes: base 1024, 2 decimals, units B/KB/MB/GB/TB."""
    from .expressions import to_number

    number = float(to_number(value))
    negative = number < 0
    number = abs(number)
    unit = ""
    for step in ("K", "M", "G", "T"):
        if number / 1024 < 1:
            break
        unit = step
        number /= 1024
    return f"{-number if negative else number:.2f}", unit + "B"


def render_template(template: str, values: Mapping[str, object]) -> str:
    """'{key}' -> the value, '{key:bytes}' -> humanised bytes ('49.00 GB')."""

    def field(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        if m.group(2) == "bytes":
            return " ".join(human_bytes(value))
        return "" if value is None else perl_number(value)

    return _FIELD.sub(field, template)


def perfdate(report_date: str) -> int | None:
    """Refresh date at 12:00 UTC as epoch, when the date is YYYY-MM-DD (and a real date)."""
    m = _DATE.match(report_date or "")
    if not m:
        return None
    try:
        return calendar.timegm((int(m.group(1)), int(m.group(2)), int(m.group(3)), 12, 0, 0))
    except ValueError:
        return None


def _check(settings: Settings, label: str, value: float, levels: tuple[str, ...]) -> str:
    for level in levels:
        rng: Range | None = settings.range(level, label)
        if rng is not None and rng.alerts(value):
            return level.upper()
    return "OK"


def _thresholds(settings: Settings, label: str, total: float | None = None, cast: bool = False) -> tuple[str, str]:
    out = []
    for level in ("warning", "critical"):
        rng = settings.range(level, label)
        out.append("" if rng is None else rng.perfdata(total, cast))
    return out[0], out[1]


def _counter_output(counter: Counter, value: object) -> str:
    if counter.bytes:
        return counter.output % human_bytes(value)
    return counter.output % (value,)


def _counter_perf(settings: Settings, counter: Counter, values: Mapping[str, object], instance: str | None) -> Perfdata:
    p = counter.perf
    value = values[counter.value]
    warning, critical = _thresholds(settings, counter.label) if p.thresholds else ("", "")
    return Perfdata(
        label=perf_label(settings, p.label, counter.nlabel, instance),
        value=int(value) if p.integer else value,  # type: ignore[arg-type]
        unit=p.unit,
        warning=warning,
        critical=critical,
        min=p.min,
        max="" if p.max is None else perl_number(values.get(p.max, "")),
    )


def _block_skipped(settings: Settings, name: str) -> bool:
    return settings.filter_counters_block is not None and settings.filter_counters_block.search(name) is not None


def run_active(mode: ReportMode, settings: Settings, m: Metrics, out: Output) -> None:
    c: ActiveCounter = mode.active
    if _block_skipped(settings, "active") or not settings.counter_shown(c.label):
        return
    percent = m.active * 100 / m.total if m.total != 0 else 0
    text = c.output % (m.report_date, m.active, m.total, percent)
    by_percent = settings.units == "%"
    state = _check(settings, c.label, percent if by_percent else m.active, ("critical", "warning"))
    epoch = perfdate(m.report_date)
    if epoch is not None:
        out.perfdata.append(Perfdata("perfdate", epoch))
    warning, critical = _thresholds(settings, c.label, m.total if by_percent else None, by_percent)
    out.perfdata.append(
        Perfdata(
            perf_label(settings, c.perf_label, c.nlabel, None),
            m.active,
            c.unit,
            warning,
            critical,
            "0",
            perl_number(m.total),
        )
    )
    out.add(state, text)


def run_totals(mode: ReportMode, settings: Settings, m: Metrics, out: Output) -> None:
    block = mode.totals
    if _block_skipped(settings, "global"):
        return
    states, short, long = [], [], []
    for c in block.counters:
        if not settings.counter_shown(c.label):
            continue
        value = m.sums[c.value]
        state = _check(settings, c.label, value, ("critical", "warning", "unknown"))
        states.append(state)
        text = _counter_output(c, value)
        long.append(text)
        if state != "OK":
            short.append(text)
        out.perfdata.append(_counter_perf(settings, c, m.sums, None))
    state = most_critical(states)
    if state != "OK":
        out.add(state, block.prefix + ", ".join(short))
    elif long:
        out.add("OK", block.prefix + ", ".join(long))


def run_instances(mode: ReportMode, settings: Settings, m: Metrics, out: Output) -> None:
    block = mode.instances
    if _block_skipped(settings, block.name):
        return
    multiple = len(m.instances) > 1
    any_counter = False
    for name in sorted(m.instances):
        values = m.instances[name]
        instance = name if (multiple or settings.new_perfdata) else None
        states, short, long = [], [], []
        for c in block.counters:
            if not settings.counter_shown(c.label):
                continue
            any_counter = True
            if isinstance(c, StatusCounter):
                variables = {var: values.get(key) for var, key in c.variables.items()}
                exprs = settings.statuses[c.label]
                state = "OK"
                for level in ("critical", "warning", "unknown"):
                    if exprs[level].matches(variables):
                        state = level.upper()
                        break
                text = render_template(c.output, values)
                if c.perf is not None:
                    out.perfdata.append(
                        Perfdata(
                            perf_label(settings, c.perf.label, c.perf_nlabel, instance),
                            values[c.perf_value],  # type: ignore[arg-type]
                            c.perf.unit,
                            "",
                            "",
                            c.perf.min,
                            "",
                        )
                    )
            else:
                value = values[c.value]
                state = _check(settings, c.label, value, ("critical", "warning", "unknown"))  # type: ignore[arg-type]
                text = _counter_output(c, value)
                out.perfdata.append(_counter_perf(settings, c, values, instance))
            states.append(state)
            long.append(text)
            if state != "OK":
                short.append(text)
        prefix = render_template(block.prefix, values)
        if long:
            out.long.append(prefix + ", ".join(long))
        state = most_critical(states)
        if state != "OK":
            out.add(state, prefix + ", ".join(short))
        # Centreon adds the prefix alone when the single instance shows no counter (bug fixed: nothing).
        if not multiple and long:
            out.add("OK", prefix + ", ".join(long))
    if any_counter and multiple:
        out.add("OK", block.message_multiple)


def evaluate(mode: ReportMode, settings: Settings, metrics: Metrics) -> Output:
    out = Output()
    run_active(mode, settings, metrics, out)
    run_totals(mode, settings, metrics, out)
    run_instances(mode, settings, metrics, out)
    return out


def instance_counters_shown(mode: ReportMode, settings: Settings) -> bool:
    """Whether any per-instance counter survives --filter-counters (else instances change nothing)."""
    if _block_skipped(settings, mode.instances.name):
        return False
    return any(settings.counter_shown(c.label) for c in mode.instances.counters)
