"""What a check returns: status, first line, long output and perfdata, rendered byte-for-byte like Centreon."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum


class State(Enum):
    """A check state: its name (the output's label), its plugin exit code and Centreon's severity mask
    (output.pm: the mask of a mix is the OR of its states', so CRITICAL 7 > UNKNOWN 3 > WARNING 1 > OK 0).
    Declared in the order the first line lists the states."""

    CRITICAL = (2, 7)
    WARNING = (1, 1)
    UNKNOWN = (3, 3)
    OK = (0, 0)

    def __init__(self, code: int, mask: int) -> None:
        self.code = code
        self.mask = mask

    @classmethod
    def of_mask(cls, mask: int) -> State:
        return next(state for state in cls if state.mask == mask)

    @classmethod
    def worst(cls, names: Iterable[str]) -> str:
        """The most severe of state names ('OK' for none)."""
        return cls.of_mask(max((cls[name].mask for name in names), default=0)).name


def perl_number(value: object) -> str:
    """Perl's stringification of a number (integers as is, floats with 15 significant digits)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Inf" if value > 0 else "-Inf"
        return f"{value:.15g}"
    return str(value)


@dataclass
class Perfdata:
    label: str
    value: float | int
    unit: str = ""
    warning: str = ""
    critical: str = ""
    min: str = ""
    max: str = ""

    def render(self) -> str:
        label = self.label.replace("'", "''")
        return f"'{label}'={perl_number(self.value)}{self.unit};{self.warning};{self.critical};{self.min};{self.max}"


@dataclass
class CheckResult:
    status: str  # "OK" | "WARNING" | "CRITICAL" | "UNKNOWN"
    exit_code: int  # 0..3
    short: str  # first line without perfdata, with Centreon's trailing space: "OK: Active users on ... "
    long_lines: list[str] = field(default_factory=list)  # --verbose lines (empty without --verbose)
    perfdata: list[Perfdata] = field(default_factory=list)
    json_document: dict | None = None  # set with --output-json: text() is then this document

    def text(self) -> str:
        """The full plugin output, byte-identical to Centreon's (first line, '|' perfdata, long lines).

        Rendered once: a result is not changed after it is built, and a kept answer (checks.service) is sent
        again and again (70,000 perfdata entries take a second to render)."""
        rendered = self.__dict__.get("_rendered")
        if rendered is not None:
            return rendered
        if self.json_document is not None:
            out = json.dumps(self.json_document, ensure_ascii=False) + "\n"
        else:
            line = self.short
            if self.perfdata:
                line += "|" + "".join(" " + p.render() for p in self.perfdata)
            out = line + "\n"
            if self.long_lines:
                out += "\n".join(self.long_lines) + "\n"
        self.__dict__["_rendered"] = out
        return out

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "output": self.short.rstrip(" "),
            "long_output": list(self.long_lines),
            "perfdata": [asdict(p) for p in self.perfdata],
        }


class CheckError(Exception):
    """A user error (bad option, threshold, regex or expression, unknown mode): UNKNOWN, HTTP 400 by default."""

    def __init__(self, message: str, http_status: int = 400):
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class ModeExit(Exception):
    """A mode's own UNKNOWN answer ('No services found.', concealed names): rendered through the normal
    output path, so --change-exit, --output-json and --change-short-output apply to it."""

    def __init__(self, message: str, severity: str = "UNKNOWN"):
        super().__init__(message)
        self.message = message
        self.severity = severity


def unknown(message: str) -> CheckResult:
    from shared.echo import safe_line

    return CheckResult(status="UNKNOWN", exit_code=State.UNKNOWN.code, short=f"UNKNOWN: {safe_line(message)} ")
