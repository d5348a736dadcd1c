"""Nagios threshold ranges with Centreon's extensions, and their rendering in perfdata.

`[@]start:end`; `N` = `0:N`; `N:` = N..inf; `~:N` = -inf..N; `@a:b` alerts inside (inclusive); decimals
with `.` or `,`; byte suffixes KB MB GB TB PB EB (or Kb...) in 1024 steps. Without `@` the range alerts
when the value is outside [start, end].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shared.echo import echo

from .result import CheckError, perl_number

_RANGE = re.compile(
    r"^(@?)((?:~|(?:\+|-)?[0-9]+(?:[.,][0-9]+)?(?:[KMGTPE][bB])?|):)?"
    r"((?:\+|-)?[0-9]+(?:[.,][0-9]+)?(?:[KMGTPE][bB])?)?$"
)
_SCALE = {"K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


@dataclass(frozen=True)
class Range:
    text: str  # as given
    start: str  # as Centreon keeps it for perfdata ('' never: 0 when omitted)
    end: str
    inside: bool  # '@'
    neg_inf: bool  # '~'
    pos_inf: bool  # 'N:'
    precision: int = 8
    start_value: float = 0.0  # exact bounds (the strings above may be Perl-rounded: 1.12589990684262e+15)
    end_value: float = 0.0

    def _bound(self, s: str, value: float) -> float:
        if "." in s or "," in s:  # Centreon rounds decimal bounds to --float-precision digits
            value = float(f"{value:.{self.precision}f}")
        return value

    def alerts(self, value: float) -> bool:
        """True when `value` raises this threshold."""
        shown = perl_number(value)
        if "." in shown or "," in shown:
            value = float(f"{value:.{self.precision}f}")
        lo = float("-inf") if self.neg_inf else self._bound(self.start, self.start_value)
        hi = float("inf") if self.pos_inf else self._bound(self.end, self.end_value)
        if self.inside:
            return lo <= value <= hi
        return value < lo or value > hi

    def perfdata(self, total: float | None = None, cast_int: bool = False) -> str:
        """Centreon's get_perfdata_for_output: 'start:end', optionally as a percentage of `total`."""
        start: object = self.start
        end: object = self.end
        if total is not None:
            if not self.neg_inf:
                start = self.start_value * total / 100
                if not cast_int:
                    start = f"{start:.2f}"
            if not self.pos_inf:
                end = self.end_value * total / 100
                if not cast_int:
                    end = f"{end:.2f}"
        if cast_int:
            if not self.neg_inf:
                start = int(float(start))  # type: ignore[arg-type]  # a bound or its '%.2f' text
            if not self.pos_inf:
                end = int(float(end))  # type: ignore[arg-type]  # a bound or its '%.2f' text
        return (
            ("@" if self.inside else "")
            + ("~" if self.neg_inf else perl_number(start))
            + ":"
            + ("" if self.pos_inf else perl_number(end))
        )


def _scaled(part: str) -> tuple[str, float]:
    """(text kept for perfdata, exact value): a suffixed value becomes a Perl number, else stays as typed."""
    m = re.search(r"([KMGTPE])([bB])$", part)
    part = part.replace(",", ".", 1)
    if not m:
        return part, float(part)
    number = float(part[: m.start()]) * 1024 ** _SCALE[m.group(1)]
    return perl_number(int(number) if number.is_integer() and abs(number) < 1e15 else number), number


def parse_range(value: str, label: str, precision: int = 8) -> Range | None:
    """Parse the value of option `label` (e.g. 'warning-active-users'); '' disables the threshold."""
    if value is None or value == "":
        return None
    wrong = CheckError(f"Wrong {echo(label)} threshold '{echo(value)}'.")
    text = value.strip(" \t\r\n")
    m = _RANGE.match(text)
    # Nagios plugin guidelines: a bare '@' is no range, and a start above the end matches nothing
    # (it would alert on every value).
    if not m or text == "@":
        raise wrong
    inside, start, end = m.group(1) == "@", m.group(2) or "", m.group(3) or ""
    start = start.replace("+", "").replace(":", "")
    end = end.replace("+", "", 1)
    neg_inf = start == "~"
    pos_inf = end == ""
    start, start_value = ("0", 0.0) if start == "" else (("", 0.0) if neg_inf else _scaled(start))
    end, end_value = ("", 0.0) if pos_inf else _scaled(end)
    if not (math.isfinite(start_value) and math.isfinite(end_value)):
        raise wrong  # a bound beyond a double (a 400-digit number): no comparison could mean anything
    if not neg_inf and not pos_inf and start_value > end_value:
        raise wrong
    return Range(value, start, end, inside, neg_inf, pos_inf, precision, start_value, end_value)
