"""cloud::microsoft::office365::azuread::plugin: directory-size-usage (centreon-plugins
src/cloud/microsoft/office365/azuread/mode/directorysizeusage.pm).

Reads the `organization` row (directory_used / directory_total): `Directory size usage : %d/%d (%.2f%%)`,
thresholds --warning-usage / --critical-usage in % (default --units) or count; perfdata always new-style
`azure.ad.directory.usage.count`. Centreon dies with a Perl error on an empty answer; o365mon says
`UNKNOWN: No organization found.`
"""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from ..expressions import to_number
from ..fold import Metrics
from ..result import ModeExit
from ..spec import ActiveCounter, CollectionMode


def _directory(rows: list[dict], options: object) -> Metrics:
    if not rows:
        raise ModeExit("No organization found.")
    row = rows[0]
    return Metrics("", total=to_number(row.get("directory_total")), active=to_number(row.get("directory_used")))


DIRECTORY_SIZE_USAGE = CollectionMode(
    plugin="azuread",
    name="directory-size-usage",
    report="organization",
    build=_directory,
    force_new_perfdata=True,
    active=ActiveCounter("usage", "Directory size usage : %d/%d (%.2f%%)", "", "azure.ad.directory.usage.count", "", dated=False),
)  # fmt: skip

MODES = (DIRECTORY_SIZE_USAGE,)
