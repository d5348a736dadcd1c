"""Metrics + options -> per-counter states, messages and perfdata (Centreon's run_global / run_instances)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping

from .expressions import to_number
from .fold import Metrics
from .limits import every
from .options import CheckOptions
from .output import Output
from .perfdata import label as perf_label
from .ranges import Range
from .result import Perfdata, State, perl_number
from .spec import (
    ActiveCounter,
    AnyMode,
    CollectionMode,
    Counter,
    GlobalBlock,
    InstanceBlock,
    InstanceCounter,
    MultiBlock,
    Perf,
    ReportMode,
    StatusCounter,
    UsageCounter,
)

_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_FIELD = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def human_bytes(value: object) -> tuple[str, str]:
    """Centreon's change_bytes: base 1024, 2 decimals, units B/KB/MB/GB/TB."""
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
    """'{key}' -> the value, '{key:bytes}' -> humanised bytes ('49.00 GB'), '{key:.2f}' -> a formatted number."""

    def field(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        spec = m.group(2)
        if spec == "bytes":
            return " ".join(human_bytes(value))
        if spec:
            return format(to_number(value), spec)
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


def _check(options: CheckOptions, label: str, value: float, levels: tuple[str, ...]) -> str:
    for level in levels:
        rng: Range | None = options.range(level, label)
        if rng is not None and rng.alerts(value):
            return level.upper()
    return "OK"


def _thresholds(options: CheckOptions, label: str, total: float | None = None, cast: bool = False) -> tuple[str, str]:
    out = []
    for level in ("warning", "critical"):
        rng = options.range(level, label)
        out.append("" if rng is None else rng.perfdata(total, cast))
    return out[0], out[1]


def _counter_output(counter: Counter, values: Mapping[str, object]) -> str:
    if "{" in counter.output:
        return render_template(counter.output, values)
    value = values[counter.value]
    if counter.bytes:
        return counter.output % human_bytes(value)
    return counter.output % (value,)


def _perf_value(p: Perf, value: object) -> object:
    if p.template:
        return p.template % to_number(value)
    return int(to_number(value)) if p.integer else value


def _counter_perf(
    options: CheckOptions, counter: Counter, values: Mapping[str, object], instance: str | None
) -> Perfdata:
    p = counter.perf
    assert p is not None
    warning, critical = _thresholds(options, counter.label) if p.thresholds else ("", "")
    nlabel = counter.nlabel + (f".{values[p.nlabel_suffix]}" if p.nlabel_suffix else "")
    return Perfdata(
        label=perf_label(options, p.label, nlabel, instance),
        value=_perf_value(p, values[counter.value]),  # type: ignore[arg-type]  # a number or its text
        unit=str(values[p.unit_key]) if p.unit_key else p.unit,
        warning=warning,
        critical=critical,
        min=p.min,
        max="" if p.max is None else perl_number(values[p.max] if p.max in values else p.max),
    )


def _block_skipped(options: CheckOptions, name: str) -> bool:
    return options.filter_counters_block is not None and options.filter_counters_block.search(name) is not None


def run_active(c: ActiveCounter, options: CheckOptions, m: Metrics, out: Output) -> None:
    if _block_skipped(options, "active") or not options.counter_shown(c.label):
        return
    percent = m.active * 100 / m.total if m.total != 0 else 0
    if c.dated:
        text = c.output % (m.report_date, m.active, m.total, percent)
    else:
        text = c.output % (m.active, m.total, percent)
    by_percent = options.units == "%"
    state = _check(options, c.label, percent if by_percent else m.active, ("critical", "warning"))
    epoch = perfdate(m.report_date) if c.dated else None
    if epoch is not None:
        out.perfdata.append(Perfdata("perfdate", epoch))
    warning, critical = _thresholds(options, c.label, m.total if by_percent else None, by_percent)
    label = perf_label(options, c.perf_label, c.nlabel, None)
    out.perfdata.append(Perfdata(label, m.active, c.unit, warning, critical, "0", perl_number(m.total)))
    out.add(state, text)


def run_totals(block: GlobalBlock, options: CheckOptions, m: Metrics, out: Output) -> None:
    if _block_skipped(options, "global"):
        return
    states, short, long = [], [], []
    for c in block.counters:
        if not options.counter_shown(c.label):
            continue
        value = m.sums[c.value]
        state = _check(options, c.label, value, ("critical", "warning", "unknown"))
        states.append(state)
        text = _counter_output(c, m.sums)
        long.append(text)
        if state != "OK":
            short.append(text)
        out.perfdata.append(_counter_perf(options, c, m.sums, None))
    state = State.worst(states)
    if state != "OK":
        out.add(state, block.prefix + ", ".join(short))
    elif long:
        out.add("OK", block.prefix + ", ".join(long))


def _judge(
    options: CheckOptions, c: InstanceCounter, values: Mapping[str, object], instance: str | None, out: Output
) -> str | None:
    """The state of one counter of one instance (its perfdata added to `out`); None when it has no value.
    Its text is `_text`'s, built only when it reaches the output."""
    if isinstance(c, StatusCounter):
        variables = {var: values.get(key) for var, key in c.variables.items()}
        exprs = options.statuses[c.label]
        state = next((lv.upper() for lv in ("critical", "warning", "unknown") if exprs[lv].matches(variables)), "OK")
        if c.perf is not None:
            p = c.perf
            label = perf_label(options, p.label, c.perf_nlabel, instance)
            value = values[c.perf_value]  # a number: the mode builds it
            out.perfdata.append(Perfdata(label, value, p.unit, "", "", p.min, ""))  # type: ignore[arg-type]
        return state
    if isinstance(c, UsageCounter):
        return _judge_usage(options, c, values, instance, out)
    if values.get(c.value) is None:
        return None  # Centreon skips a counter whose value is undefined (e.g. a SKU without prepaid units)
    value = values[c.value]  # a number: None was skipped above, folds and builds give numbers
    state = _check(options, c.label, value, ("critical", "warning", "unknown"))  # type: ignore[arg-type]
    if c.perf is not None:
        out.perfdata.append(_counter_perf(options, c, values, instance))
    return state


def _text(c: InstanceCounter, values: Mapping[str, object], state: str) -> str:
    """The message of a counter judged `state` (its long-output text, and its short one when in trouble)."""
    if isinstance(c, StatusCounter):
        text = render_template(c.output, values)
        if state != "OK" and c.problem_suffix:
            text += render_template(c.problem_suffix, values)
        return text
    if isinstance(c, UsageCounter):
        used, total, free, prct_used, prct_free = _usage(c, values)
        return "Total: {} Used: {} ({:.2f}%) Free: {} ({:.2f}%)".format(
            " ".join(human_bytes(total)), " ".join(human_bytes(used)), prct_used, " ".join(human_bytes(free)), prct_free
        )
    return _counter_output(c, values)


def _shown(c: InstanceCounter) -> bool:
    """Whether the counter's text is in the long output (a display_ok=False counter is only in the short one,
    when in trouble)."""
    return not isinstance(c, Counter) or c.display_ok


def _usage(c: UsageCounter, values: Mapping[str, object]) -> tuple[float, float, float, float, float]:
    """(used, total, free, % used, % free) of a usage counter."""
    used, total = to_number(values.get(c.used)), to_number(values.get(c.total))
    if total != 0:
        prct_used = used * 100 / total
        return used, total, total - used, prct_used, 100 - prct_used
    return used, total, 0, 0, 0


def _judge_usage(
    options: CheckOptions, c: UsageCounter, values: Mapping[str, object], instance: str | None, out: Output
) -> str:
    used, total, free, prct_used, prct_free = _usage(c, values)
    free_flag = options.flag("free")
    if options.units == "%":
        value = prct_free if free_flag else prct_used
    else:
        value = free if free_flag else used
    state = _check(options, c.label, value, ("critical", "warning"))
    warning, critical = _thresholds(options, c.label, total, True)  # always % of the allocation (as Centreon)
    label = perf_label(options, c.perf_label, c.nlabel, instance)
    out.perfdata.append(Perfdata(label, used, "B", warning, critical, "0", perl_number(total)))
    return state


class _Emitter:
    """Where an instance's short messages go: straight to a bucket, or (children of a type-3 block) after the
    parent's prefix, added once per severity (Centreon's run_multiple_prefix_output)."""

    def __init__(self, out: Output, parent_prefix: str | None = None):
        self.out, self.parent_prefix = out, parent_prefix
        self.done: set[str] = set()

    def __call__(self, severity: str, message: str) -> None:
        if self.parent_prefix is None:
            self.out.add(severity, message)
        elif severity not in self.done:
            self.done.add(severity)
            self.out.add(severity, self.parent_prefix)
            self.out.add(severity, message, separator="")
        else:
            self.out.add(severity, message)


_MASK = {state.name: state.mask for state in State}
_NAME = {state.mask: state.name for state in State}


def run_instances(
    block: InstanceBlock,
    options: CheckOptions,
    instances: Mapping[str, Mapping[str, object]],
    out: Output,
    emit: _Emitter | None = None,
    multiple_parent: bool = False,
    indent: str = "",
) -> None:
    if _block_skipped(options, block.name):
        return
    emit = emit or _Emitter(out)
    multiple = len(instances) > 1
    single = not multiple and not multiple_parent
    # Without --verbose only the instances in trouble (or a single instance) reach the output: the texts and
    # their byte formatting are built for those alone (at 70,000 mailboxes, a few thousand instead of all).
    long_printed = options.verbose or out.force_long
    counters = [c for c in block.counters if options.counter_shown(c.label)]
    named = multiple or multiple_parent or options.new_perfdata
    for key in every(iter(sorted(instances))):
        values = instances[key]
        instance = "~".join(str(values.get(k, "")) for k in block.perf_instance) if named else None
        judged = []
        mask = 0
        for c in counters:
            counter_state = _judge(options, c, values, instance, out)
            if counter_state is not None:
                judged.append((c, counter_state))
                mask |= _MASK[counter_state]
        state = _NAME[mask]
        if state == "OK" and not long_printed and not single:
            continue
        texts = [(c, counter_state, _text(c, values, counter_state)) for c, counter_state in judged]
        long = [text for c, _, text in texts if _shown(c)]
        prefix = render_template(block.prefix, values)
        if long:
            out.long.append(indent + prefix + ", ".join(long))
        if state != "OK":
            emit(state, prefix + ", ".join(text for _, counter_state, text in texts if counter_state != "OK"))
        # Centreon adds the prefix alone when the single instance shows no counter (bug fixed: nothing).
        if single and long:
            emit("OK", prefix + ", ".join(long))
    if counters and instances and multiple and not multiple_parent:
        emit("OK", block.message_multiple)


def run_multiple(block: MultiBlock, options: CheckOptions, parents: Mapping[str, Mapping], out: Output) -> None:
    """Centreon's type-3 block: 'All ... are ok' first when several parents; per parent a long header line,
    then each group of children (indented long lines, short messages after the parent's prefix)."""
    if _block_skipped(options, block.name):
        return
    multiple = len(parents) > 1
    if multiple:
        out.add("OK", block.message_multiple)
    for key in sorted(parents):
        parent = parents[key]
        out.long.append(render_template(block.long_header, parent["values"]))
        emit = _Emitter(out, render_template(block.prefix, parent["values"]))
        for group in block.groups:
            children = parent["groups"].get(group.name)
            if children is not None:
                run_instances(group, options, children, out, emit, multiple, block.indent)


def evaluate(mode: ReportMode | CollectionMode, options: CheckOptions, metrics: Metrics) -> Output:
    out = Output()
    if mode.active is not None:
        run_active(mode.active, options, metrics, out)
    if mode.totals is not None:
        run_totals(mode.totals, options, metrics, out)
    block = mode.instances
    if isinstance(block, MultiBlock):
        run_multiple(block, options, metrics.instances, out)
    elif block is not None:
        run_instances(block, options, metrics.instances, out)
    return out


def instance_counters_shown(mode: AnyMode, options: CheckOptions) -> bool:
    """Whether any per-instance counter survives --filter-counters (else instances change nothing)."""
    block = getattr(mode, "instances", None)
    if block is None:
        return False
    blocks = block.groups if isinstance(block, MultiBlock) else (block,)
    return any(
        not _block_skipped(options, b.name) and any(options.counter_shown(c.label) for c in b.counters) for b in blocks
    )
