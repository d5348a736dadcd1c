"""cloud::microsoft::office365::sharepoint::plugin: site-usage, users-activity, list-sites (centreon-plugins
src/cloud/microsoft/office365/sharepoint/mode/siteusage.pm, usersactivity.pm, listsites.pm).

SharePoint keeps Centreon's own pseudonymization check: a 'Site URL' that is not http(s) (or a report stored
as concealed) answers `UNKNOWN: reports pseudonymize user-level information is enabled. use option
--use-pseudonymize or disable it`; with --use-pseudonymize sites are shown with their (hashed) URL and keyed
by 'Site Id' so that they do not collapse into one instance.
"""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from .common import ColumnCounters, activity_mode, file_activity, list_sites_mode, site_usage_mode

PAGES = (
    ColumnCounters("visited_page_count", "Visited Page Count", "Visited Page Count: %d", "sharepoint.sites.pages.visited.count", total_text="Visited Page Count (active sites): %d"),
    ColumnCounters("page_view_count", "Page View Count", "Page View Count: %d", "sharepoint.sites.pages.viewed.count", total_text="Page View Count (active sites): %d"),
)  # fmt: skip

SITE_USAGE = site_usage_mode(
    "sharepoint",
    "sharepoint_usage",
    filters={"filter-url": "Site URL", "filter-id": "Site Id"},
    prefix="Site '{url}' [ID: {id}] ",
    extra=PAGES,
    extra_options={"use-pseudonymize": ""},
    pseudonymize_column="Site URL",
    key_pseudonymized="Site Id",
)

USERS_ACTIVITY = activity_mode(
    "sharepoint",
    "sharepoint_activity",
    (
        *file_activity("sharepoint"),
        ColumnCounters("visited_page_count", "Visited Page Count", "Visited Page Count: %d", "sharepoint.users.pages.visited.count", total_text="Visited Page Count (active sites): %d"),
    ),
    total_prefix="Total (active sites) ",
)  # fmt: skip

LIST_SITES = list_sites_mode(
    "sharepoint",
    "sharepoint_usage",
    line=(("id", "Site Id"), ("url", "Site URL")),
    sep=": ",
    key="Site Id",
    filters={"filter-url": "Site URL", "filter-id": "Site Id"},
    extra_options={"use-pseudonymize": ""},
    pseudonymize_column="Site URL",
    period_column="Report Period",
)

MODES = (SITE_USAGE, USERS_ACTIVITY, LIST_SITES)
