"""Perfdata labels (old style / --use-new-perfdata) and the generic perfdata output options."""

from __future__ import annotations

import re

from .options import CheckOptions
from .result import Perfdata


def label(options: CheckOptions, old: str, nlabel: str, instance: str | None) -> str:
    """Centreon's perfdata_add: nlabel with --use-new-perfdata; the instance as '_<i>' or '<i>#' prefix."""
    if options.new_perfdata:
        return nlabel if instance is None else f"{instance}#{nlabel}"
    return old if instance is None else f"{old}_{instance}"


def displayed(options: CheckOptions, perfdata: list[Perfdata]) -> list[Perfdata]:
    """Apply --output-ignore-perfdata, --filter-perfdata, --filter-uom and --range-perfdata."""
    if options.ignore_perfdata:
        return []
    out = []
    for p in perfdata:
        if options.filter_perfdata is not None and not options.filter_perfdata.search(p.label):
            continue
        if options.filter_uom is not None and not options.filter_uom.search(p.unit):
            p.unit = ""
        if options.range_perfdata == 1:
            p.warning = re.sub(r"^(@?)-?[0.]+:", r"\1", p.warning)
            p.critical = re.sub(r"^(@?)-?[0.]+:", r"\1", p.critical)
        elif options.range_perfdata == 2:
            p.warning = p.critical = ""
        out.append(p)
    return out
