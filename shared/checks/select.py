"""Row selection shared by the modes over JSON collections and the list modes: include/exclude regexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.settings import parse_bool

if TYPE_CHECKING:
    from .options import CheckOptions


def as_bool(value: object) -> bool:
    """A stored JSON boolean: True/False, or 'true'/'false'/'1'/'0' text."""
    if isinstance(value, bool):
        return value
    return parse_bool(str(value or "")) is True


def keep(mode: object, options: CheckOptions, row: dict, column: str | None = None) -> bool:
    """The mode's include filters (regex must match its column) and exclude filters (must not match); with
    `column`, only the filters on that column."""
    filters, excludes = getattr(mode, "filters", {}), getattr(mode, "excludes", {})
    for option, rx in options.filters.items():
        if (column is None or filters[option] == column) and rx.search(_text(row.get(filters[option]))) is None:
            return False
    for option, rx in options.excludes.items():
        if (column is None or excludes[option] == column) and rx.search(_text(row.get(excludes[option]))):
            return False
    return True


def _text(value: object) -> str:
    return "" if value is None else str(value)
