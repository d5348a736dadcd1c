"""Six-field NCRONTAB schedules, as the Azure Functions timer trigger reads them, on top of `croniter`.

`{second} {minute} {hour} {day} {month} {day-of-week}` (croniter's seconds-first form). The wrapper keeps
what the host does and croniter does not by default: exactly six fields (croniter also takes five or
seven); a range never runs backwards (croniter reads `5-1` as wrapping around); a day matches both the
day-of-month and the day-of-week fields (NCrontab's rule, croniter's `day_or=False`); a schedule that
never fires (`0 0 0 31 2 *`) is an error, not a hang.

Also accepted: a TimeSpan `hh:mm:ss` (or `d.hh:mm:ss`), meaning "every interval" as the host allows on
App Service plans. Times are whatever the caller passes (the runner uses UTC, like Azure by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import CroniterError, croniter

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
_MAX_YEARS = 5
_RANGE = re.compile(r"([0-9A-Za-z]+)-([0-9A-Za-z]+)")
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_DAYS = "sun mon tue wed thu fri sat".split()
_NAMES = {name: i + 1 for i, name in enumerate(_MONTHS)} | {name: i for i, name in enumerate(_DAYS)}


class CrontabError(ValueError):
    """The schedule is not a valid six-field NCRONTAB expression (or TimeSpan)."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; `next_after(t)` is the first occurrence strictly after `t`."""

    expression: str
    interval: timedelta | None = None

    def next_after(self, after: datetime) -> datetime:
        if self.interval is not None:
            return after + self.interval
        try:
            cron = croniter(
                self.expression,
                after.replace(microsecond=0),
                second_at_beginning=True,
                day_or=False,
                max_years_between_matches=_MAX_YEARS,
            )
            found: datetime = cron.get_next(datetime)
        except CroniterError as exc:
            raise CrontabError(f"{self.expression!r}: {exc}") from exc
        return found


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NAMES.get(text.lower(), -1)


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
    for part in parts:
        for start, end in _RANGE.findall(part):
            if _number(end) < _number(start):
                raise CrontabError(f"{expression!r}: range {start}-{end} runs backwards")
    schedule = Schedule(" ".join(parts))
    try:
        croniter.expand(schedule.expression, second_at_beginning=True)
    except CroniterError as exc:
        raise CrontabError(f"{expression!r}: {exc}") from exc
    return schedule


def next_occurrence(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` that matches `expression`."""
    return parse(expression).next_after(after)
