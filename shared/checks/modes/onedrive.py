"""cloud::microsoft::office365::onedrive::plugin: site-usage, users-activity, list-sites (centreon-plugins
src/cloud/microsoft/office365/onedrive/mode/siteusage.pm, usersactivity.pm, listsites.pm)."""

from __future__ import annotations

from .common import activity_mode, file_activity, list_sites_mode, site_usage_mode

SITE_USAGE = site_usage_mode(
    "onedrive",
    "onedrive_usage",
    filters={"filter-url": "Site URL", "filter-owner": "Owner Display Name"},
    prefix="Site '{url}' [Owner: {owner}] ",
)

USERS_ACTIVITY = activity_mode(
    "onedrive",
    "onedrive_activity",
    file_activity("onedrive"),
    total_prefix="Total (active sites) ",  # sic, as Centreon
)

# Centreon keys the list by 'Site Id', a column the OneDrive report does not have: every row collapsed into
# one (bug fixed: keyed by the site URL).
LIST_SITES = list_sites_mode(
    "onedrive",
    "onedrive_usage",
    line=(("owner", "Owner Display Name"), ("url", "Site URL")),
    sep=" = ",
    key="Site URL",
    filters={"filter-url": "Site URL", "filter-owner": "Owner Display Name"},
    period_column="Report Period",
)

MODES = (SITE_USAGE, USERS_ACTIVITY, LIST_SITES)
