"""Six-field NCRONTAB schedules, as the Azure Functions timer trigger reads them.

`{second} {minute} {hour} {day} {month} {day-of-week}`; each field takes `*`, `n`, `a-b`, `*/n`, `a-b/n`,
`a/n` (from a to the field's maximum, every n) and comma lists of those. Months and days of the week also
take English names (`Jan`, `Mon`); day-of-week 0 and 7 are Sunday. As in NCrontab (the library the host
uses), a day must match both the day-of-month and the day-of-week fields.

Also accepted: a TimeSpan `hh:mm:ss` (or `d.hh:mm:ss`), meaning "every interval" as the host allows on
App Service plans. Times are whatever the caller passes (the runner uses UTC, like Azure by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, min, max, names, name offset)
_FIELDS: list[tuple[str, int, int, list[str], int]] = [
    ("second", 0, 59, [], 0),
    ("minute", 0, 59, [], 0),
    ("hour", 0, 23, [], 0),
    ("day", 1, 31, [], 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day-of-week", 0, 7, _DAYS, 0),
]
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
_MAX_SEARCH = timedelta(days=366 * 5)


class CrontabError(ValueError):
    """The schedule is not a valid six-field NCRONTAB expression (or TimeSpan)."""


def _value(text: str, lo: int, hi: int, names: list[str], offset: int, field: str) -> int:
    low = text.lower()
    if names and low in names:
        return names.index(low) + offset
    if not text.isdigit():
        raise CrontabError(f"{field}: {text!r} is not a number")
    value = int(text)
    if not lo <= value <= hi:
        raise CrontabError(f"{field}: {value} is outside {lo}-{hi}")
    return value


def _parse_field(text: str, index: int) -> frozenset[int]:
    field, lo, hi, names, offset = _FIELDS[index]
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CrontabError(f"{field}: empty list item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CrontabError(f"{field}: bad step {step_text!r}")
            step = int(step_text)
        if base in ("*", "?"):
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start = _value(a, lo, hi, names, offset, field)
            end = _value(b, lo, hi, names, offset, field)
            if end < start:
                raise CrontabError(f"{field}: range {base!r} runs backwards")
        else:
            start = _value(base, lo, hi, names, offset, field)
            end = hi if step_text else start  # `a/n` runs from a to the maximum
        values.update(range(start, end + 1, step))
    if index == 5 and 7 in values:  # 7 is Sunday too
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; `next_after(t)` is the first occurrence strictly after `t`."""

    expression: str
    seconds: frozenset[int] = frozenset()
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 0 = Sunday
    interval: timedelta | None = None

    def next_after(self, after: datetime) -> datetime:
        if self.interval is not None:
            return after + self.interval
        t = after.replace(microsecond=0) + timedelta(seconds=1)
        limit = after + _MAX_SEARCH
        while t <= limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
                continue
            if t.day not in self.days or (t.weekday() + 1) % 7 not in self.weekdays:
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            if t.second not in self.seconds:
                t += timedelta(seconds=1)
                continue
            return t
        raise CrontabError(f"{self.expression!r} has no occurrence within 5 years of {after.isoformat()}")


def parse(expression: str) -> Schedule:
    """Parse a six-field NCRONTAB expression (or a `hh:mm:ss` TimeSpan); raise CrontabError if invalid."""
    text = expression.strip()
    span = _TIMESPAN.match(text)
    if span:
        days, hours, minutes, seconds = (int(g) if g else 0 for g in span.groups())
        interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if interval <= timedelta(0):
            raise CrontabError(f"{expression!r}: the interval must be positive")
        return Schedule(expression, interval=interval)
    parts = text.split()
    if len(parts) != 6:
        raise CrontabError(
            f"{expression!r}: expected six fields 'sec min hour day month day-of-week', got {len(parts)}"
        )
    fields = [_parse_field(part, i) for i, part in enumerate(parts)]
    return Schedule(expression, *fields)


def next_occurrence(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` that matches `expression`."""
    return parse(expression).next_after(after)
