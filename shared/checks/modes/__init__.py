"""The registry of modes, keyed by (plugin, mode); plugins answer to their short and Centreon names.

A mode is data (shared/checks/spec.py). To write one, copy this: `EMAIL_ACTIVITY` in exchange.py, a
report mode stated through a shape builder of common.py (the reported columns, their texts and nlabels).
Add it to its module's MODES; a new workload module goes into _WORKLOADS.
"""

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
