"""The registry of modes, keyed by (plugin, mode); plugins answer to their short and Centreon names."""

from __future__ import annotations

from ..spec import ReportMode
from . import exchange

PLUGIN_ALIASES: dict[str, str] = {
    "exchange": "exchange",
    "cloud::microsoft::office365::exchange::plugin": "exchange",
}

MODES: dict[tuple[str, str], ReportMode] = {(m.plugin, m.name): m for m in exchange.MODES}


def resolve(plugin: str, mode: str) -> ReportMode | None:
    short = PLUGIN_ALIASES.get(plugin.strip().lower())
    return None if short is None else MODES.get((short, mode.strip().lower()))
