"""The one clock of the check engine: tests monkeypatch `now` (app-credentials, health plugin)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def now() -> datetime:
    return datetime.now(UTC)


def parse_iso(text: str) -> datetime | None:
    """'YYYY-MM-DDTHH:MM:SS...' read to the second as UTC (like Centreon: fractions and offsets ignored, Graph
    always answers in UTC) or 'YYYY-MM-DD' (midnight UTC); None when blank or invalid."""
    m = _ISO.match((str(text) if text is not None else "").strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in m.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
