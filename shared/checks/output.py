"""Output assembly as Centreon's output.pm: severity buckets, the first line, long output, exit code, and the
output options (--change-short-output, --change-exit, --output-json, --output-ignore-label)."""

from __future__ import annotations

from shared.echo import safe_line

from .options import CheckOptions
from .perfdata import displayed
from .result import CheckResult, Perfdata, State

SEVERITIES = tuple(state.name for state in State)  # the first line's order


class Output:
    def __init__(self) -> None:
        self.buckets: dict[str, list[str]] = {s: [] for s in SEVERITIES}
        self.long: list[str] = []
        self.perfdata: list[Perfdata] = []
        self.mask = 0
        self.force_long = False  # list modes: the long output is always printed
        self.no_label = False  # list modes: no 'OK: ' label

    def add(self, severity: str, message: str, separator: str = " - ") -> None:
        """Centreon's output_add: messages of a bucket are joined by their separator ('' glues a message to
        the previous one, as run_multiple_prefix_output does after an 'application 'x' ' prefix)."""
        bucket = self.buckets[severity]
        if separator == "" and bucket:
            bucket[-1] += message
        else:
            bucket.append(message)
        self.mask |= State[severity].mask

    def result(self, options: CheckOptions, plugin: str = "", mode: str = "") -> CheckResult:
        status = State.of_mask(self.mask).name
        label = not (options.ignore_label or self.no_label)
        line = ""
        for severity in SEVERITIES[:-1]:
            if self.buckets[severity]:
                line += (f"{severity}: " if label else "") + " - ".join(self.buckets[severity]) + " "
        if status == "OK":
            line += ("OK: " if label else "") + " - ".join(self.buckets["OK"]) + " "
        for rx, replacement, count in options.change_short_output:
            line = safe_line(rx.sub(replacement, line, count=count))  # its replacement comes from the request
        exit_status = options.change_exit.get(status, status)
        long_lines = list(self.long) if (options.verbose or self.force_long) else []
        perfdata = displayed(options, self.perfdata)
        result = CheckResult(
            status=status, exit_code=State[exit_status].code, short=line, long_lines=long_lines, perfdata=perfdata
        )
        if options.output_json:
            result.json_document = self.json_document(exit_status, long_lines, perfdata, plugin, mode)
        return result

    def json_document(
        self, exit_status: str, long_lines: list[str], perfdata: list[Perfdata], plugin: str, mode: str
    ) -> dict:
        """Centreon's --output-json shape (output.pm output_json): short messages (type 1, with their
        severity), long lines (type 2, only with --verbose or in list modes) and perfdata as fields."""
        outputs: list[dict] = []
        for severity in SEVERITIES:
            outputs += [{"type": 1, "msg": msg, "exit": severity} for msg in self.buckets[severity]]
        outputs += [{"type": 2, "msg": line} for line in long_lines]
        perfdatas = [
            {
                "label": p.label,
                "value": p.value,
                "unit": p.unit,
                "warning": p.warning,
                "critical": p.critical,
                "min": p.min,
                "max": p.max,
            }
            for p in perfdata
        ]
        return {
            "plugin": {"name": plugin, "mode": mode, "exit": exit_status, "outputs": outputs, "perfdatas": perfdatas}
        }
