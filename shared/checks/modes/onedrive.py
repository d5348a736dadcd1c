"""cloud::microsoft::office365::onedrive::plugin: site-usage, users-activity, list-sites (reference §3.6-3.8)."""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from .common import Metric, activity_mode, list_sites_mode, site_usage_mode

SITE_USAGE = site_usage_mode(
    "onedrive",
    "onedrive_usage",
    filters={"filter-url": "Site URL", "filter-owner": "Owner Display Name"},
    prefix="Site '{url}' [Owner: {owner}] ",
)

USERS_ACTIVITY = activity_mode(
    "onedrive",
    "onedrive_activity",
    (
        Metric("viewed_edited_file_count", "Viewed Or Edited File Count", "Viewed or Edited File Count: %d", "onedrive.users.files.viewed.count"),
        Metric("synced_file_count", "Synced File Count", "Synced File Count: %d", "onedrive.users.files.synced.count"),
        Metric("shared_int_file_count", "Shared Internally File Count", "Shared Internally File Count: %d", "onedrive.users.files.shared.internally.count"),
        Metric("shared_ext_file_count", "Shared Externally File Count", "Shared Externally File Count: %d", "onedrive.users.files.shared.externally.count"),
    ),
    total_prefix="Total (active sites) ",  # sic, as Centreon
)  # fmt: skip

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
