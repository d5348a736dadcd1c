"""Output assembly as Centreon's output.pm: severity buckets, the first line, long output, exit code."""

from __future__ import annotations

from .options import Settings
from .perfdata import displayed
from .result import EXIT_CODES, CheckResult, Perfdata

MASK = {"OK": 0, "WARNING": 1, "UNKNOWN": 3, "CRITICAL": 7}
STATUS_OF_MASK = {0: "OK", 1: "WARNING", 3: "UNKNOWN", 7: "CRITICAL"}


def most_critical(states: list[str]) -> str:
    return STATUS_OF_MASK[max((MASK[s] for s in states), default=0)]


class Output:
    def __init__(self) -> None:
        self.buckets: dict[str, list[str]] = {"CRITICAL": [], "WARNING": [], "UNKNOWN": [], "OK": []}
        self.long: list[str] = []
        self.perfdata: list[Perfdata] = []
        self.mask = 0

    def add(self, severity: str, message: str) -> None:
        self.buckets[severity].append(message)
        self.mask |= MASK[severity]

    def result(self, settings: Settings) -> CheckResult:
        status = STATUS_OF_MASK[self.mask]
        line = ""
        for severity in ("CRITICAL", "WARNING", "UNKNOWN"):
            if self.buckets[severity]:
                line += ("" if settings.ignore_label else f"{severity}: ") + " - ".join(self.buckets[severity]) + " "
        if status == "OK":
            line += ("" if settings.ignore_label else "OK: ") + " - ".join(self.buckets["OK"]) + " "
        exit_status = settings.change_exit.get(status, status)
        return CheckResult(
            status=status,
            exit_code=EXIT_CODES[exit_status],
            short=line,
            long_lines=list(self.long) if settings.verbose else [],
            perfdata=displayed(settings, self.perfdata),
        )
