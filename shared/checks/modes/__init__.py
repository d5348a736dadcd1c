"""The registry of modes, keyed by (plugin, mode); plugins answer to their short and Centreon names."""

from __future__ import annotations

from ..spec import AnyMode
from . import azuread, exchange, health, management, onedrive, sharepoint, skype, teams

_WORKLOADS = (exchange, teams, skype, onedrive, sharepoint, azuread, management)

PLUGIN_ALIASES: dict[str, str] = {"health": "health", "o365mon::health::plugin": "health"}
for _module in _WORKLOADS:
    _short = _module.__name__.rsplit(".", 1)[-1]
    PLUGIN_ALIASES[_short] = _short
    PLUGIN_ALIASES[f"cloud::microsoft::office365::{_short}::plugin"] = _short

MODES: dict[tuple[str, str], AnyMode] = {(m.plugin, m.name): m for mod in (*_WORKLOADS, health) for m in mod.MODES}


def resolve(plugin: str, mode: str) -> AnyMode | None:
    short = PLUGIN_ALIASES.get(plugin.strip().lower())
    return None if short is None else MODES.get((short, mode.strip().lower()))
