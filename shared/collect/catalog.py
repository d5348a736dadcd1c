"""What o365mon collects from Graph, and the columns each stored snapshot keeps.

CSV reports: column names are Microsoft's headers verbatim (whitespace-normalised); the parser looks them
up by name, so reordered or extra columns change nothing. JSON collections (service health, licences,
app credentials, organization) are flattened by the collector into rows with the columns listed here, so
every dataset is stored, read and filtered the same way. Only the columns some check needs are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    INT = "int"  # counts and byte sizes; a blank cell is stored as None
    BOOL = "bool"  # JSON booleans (stored as true/false)


@dataclass(frozen=True)
class Dataset:
    key: str  # storage name, e.g. "email_activity"
    function: str  # Graph reportRoot function (CSV) or the v1.0 path (JSON)
    daily: bool  # CSV: Centreon also fetches (date=<Report Refresh Date>) after the D7 report
    columns: dict[str, Kind]
    identity_column: str  # the column that names a user/site (checked for concealed names)
    source: str = "csv"  # "csv" report or "json" collection
    schedule: str = "reports"  # which timer collects it: "reports" (COLLECT_SCHEDULE) or "health"
    # The Graph application permission it needs (least privileged; a 403 or a token without it names it), and the
    # broader ones that also grant it (graph-api.md): any of them in the token's `roles` claim will do.
    permission: str = "Reports.Read.All"
    also_granted_by: tuple[str, ...] = ()

    @property
    def accepted_roles(self) -> frozenset[str]:
        return frozenset((self.permission, *self.also_granted_by))


UPN = "User Principal Name"
LAST = "Last Activity Date"
PERIOD = "Report Period"


def _csv(key: str, function: str, daily: bool, identity: str, columns: dict[str, Kind]) -> Dataset:
    return Dataset(key=key, function=function, daily=daily, columns=columns, identity_column=identity)


T, N, B = Kind.TEXT, Kind.INT, Kind.BOOL

EMAIL_ACTIVITY = _csv(
    "email_activity", "getEmailActivityUserDetail", True, UPN,
    {UPN: T, LAST: T, "Send Count": N, "Receive Count": N, "Read Count": N, PERIOD: N},
)  # fmt: skip
MAILBOX_USAGE = _csv(
    "mailbox_usage", "getMailboxUsageDetail", False, UPN,
    {
        UPN: T, LAST: T, "Storage Used (Byte)": N, "Issue Warning Quota (Byte)": N, "Prohibit Send Quota (Byte)": N,
        "Prohibit Send/Receive Quota (Byte)": N, "Item Count": N, PERIOD: N,
    },
)  # fmt: skip
TEAMS_USER_ACTIVITY = _csv(
    "teams_user_activity", "getTeamsUserActivityUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Team Chat Message Count": N, "Private Chat Message Count": N, "Call Count": N,
        "Meeting Count": N, PERIOD: N,
    },
)  # fmt: skip
TEAMS_DEVICE_USAGE = _csv(
    "teams_device_usage", "getTeamsDeviceUsageUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Used Windows": T, "Used Mac": T, "Used Web": T, "Used iOS": T, "Used Android Phone": T,
        "Used Windows Phone": T, PERIOD: N,
    },
)  # fmt: skip
SKYPE_USER_ACTIVITY = _csv(
    "skype_user_activity", "getSkypeForBusinessActivityUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Total Peer-to-peer Session Count": N, "Total Organized Conference Count": N,
        "Total Participated Conference Count": N, PERIOD: N,
    },
)  # fmt: skip
SKYPE_DEVICE_USAGE = _csv(
    "skype_device_usage", "getSkypeForBusinessDeviceUsageUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Used Windows": T, "Used iPad": T, "Used iPhone": T, "Used Android Phone": T,
        "Used Windows Phone": T, PERIOD: N,
    },
)  # fmt: skip
ONEDRIVE_USAGE = _csv(
    "onedrive_usage", "getOneDriveUsageAccountDetail", True, "Owner Principal Name",
    {
        "Site URL": T, "Owner Display Name": T, "Owner Principal Name": T, LAST: T, "Storage Used (Byte)": N,
        "Storage Allocated (Byte)": N, "File Count": N, "Active File Count": N, PERIOD: N,
    },
)  # fmt: skip
ONEDRIVE_ACTIVITY = _csv(
    "onedrive_activity", "getOneDriveActivityUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Viewed Or Edited File Count": N, "Synced File Count": N,
        "Shared Internally File Count": N, "Shared Externally File Count": N, PERIOD: N,
    },
)  # fmt: skip
SHAREPOINT_USAGE = _csv(
    "sharepoint_usage", "getSharePointSiteUsageDetail", True, "Owner Principal Name",
    {
        "Site Id": T, "Site URL": T, "Owner Display Name": T, "Owner Principal Name": T, LAST: T,
        "Storage Used (Byte)": N, "Storage Allocated (Byte)": N, "File Count": N, "Active File Count": N,
        "Visited Page Count": N, "Page View Count": N, PERIOD: N,
    },
)  # fmt: skip
SHAREPOINT_ACTIVITY = _csv(
    "sharepoint_activity", "getSharePointActivityUserDetail", True, UPN,
    {
        UPN: T, LAST: T, "Viewed Or Edited File Count": N, "Synced File Count": N,
        "Shared Internally File Count": N, "Shared Externally File Count": N, "Visited Page Count": N, PERIOD: N,
    },
)  # fmt: skip

# Organization.Read.All is the least privileged for organization and subscribedSkus; the directory-wide
# permissions include it (Graph's permission reference).
_DIRECTORY_WIDE = ("Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")

# JSON collections, flattened. One row per (service, issue); a service without issues has one row whose
# issue columns are "" (Centreon shows them as "-").
SERVICE_HEALTH = Dataset(
    permission="ServiceHealth.Read.All",
    key="service_health",
    function="admin/serviceAnnouncement/healthOverviews?$expand=issues",
    daily=False,
    source="json",
    schedule="health",
    identity_column="service",
    columns={
        "service_id": T, "service": T, "status": T, "issue_id": T, "classification": T, "title": T,
        "start": T, "end": T, "last_modified": T, "issue_status": T, "is_resolved": B, "feature": T,
        "feature_group": T, "impact": T,
    },
)  # fmt: skip
# One row per SKU (subscribedSkus): prepaid units, consumed units, capability status as Graph spells it.
SUBSCRIPTIONS = Dataset(
    permission="Organization.Read.All",
    also_granted_by=_DIRECTORY_WIDE,
    key="subscriptions",
    function="subscribedSkus",
    daily=False,
    source="json",
    identity_column="sku_part_number",
    columns={
        "sku_id": T, "sku_part_number": T, "capability_status": T, "applies_to": T, "enabled": N, "warning": N,
        "suspended": N, "locked_out": N, "consumed": N,
    },
)  # fmt: skip
# One row per credential of every application: type "password" or "key", end/start as ISO 8601 UTC.
APP_CREDENTIALS = Dataset(
    permission="Application.Read.All",
    also_granted_by=("Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
    key="app_credentials",
    function="applications",
    daily=False,
    source="json",
    identity_column="app_name",
    columns={"app_id": T, "app_name": T, "type": T, "key_id": T, "display_name": T, "start": T, "end": T},
)
# One row (the tenant's organization): directory size quota, domains (JSON-encoded list of names).
ORGANIZATION = Dataset(
    permission="Organization.Read.All",
    also_granted_by=_DIRECTORY_WIDE,
    key="organization",
    function="organization",
    daily=False,
    source="json",
    identity_column="display_name",
    columns={
        "tenant_id": T, "display_name": T, "directory_used": N, "directory_total": N, "verified_domains": T,
        "default_domain": T, "initial_domain": T,
    },
)  # fmt: skip
# One row: the tenant's "display concealed names in reports" setting (admin/reportSettings).
REPORT_SETTINGS = Dataset(
    permission="ReportSettings.Read.All",
    also_granted_by=("ReportSettings.ReadWrite.All",),
    key="report_settings",
    function="admin/reportSettings",
    daily=False,
    source="json",
    identity_column="display_concealed_names",
    columns={"display_concealed_names": B},
)

DATASETS: dict[str, Dataset] = {
    r.key: r
    for r in (
        EMAIL_ACTIVITY, MAILBOX_USAGE, TEAMS_USER_ACTIVITY, TEAMS_DEVICE_USAGE, SKYPE_USER_ACTIVITY,
        SKYPE_DEVICE_USAGE, ONEDRIVE_USAGE, ONEDRIVE_ACTIVITY, SHAREPOINT_USAGE, SHAREPOINT_ACTIVITY,
        SERVICE_HEALTH, SUBSCRIPTIONS, APP_CREDENTIALS, ORGANIZATION, REPORT_SETTINGS,
    )
}  # fmt: skip
