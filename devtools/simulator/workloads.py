"""CSV generators for the Teams, Skype for Business, OneDrive and SharePoint usage reports.

Same users as the Exchange reports (user i of a tenant, recomputed from the seed), headers verbatim from
Microsoft Graph's report documentation and real captures, concealed as the service conceals (hashed names):
- Teams user activity in the *captured* column order by default, the documented order with `reorder`;
  Yes/No flags, ISO 8601 durations (`PT1H2M3S`), `User Id` becomes the zero GUID when concealed.
- Teams device usage keeps the real header's double space (`Used  Chrome OS`).
- Skype for Business Online is retired: every user has a row of zero/blank activity (what the
  service still returns), and a day form has no active user.
- OneDrive: one personal site per user, `https://<tenant>-my.sharepoint.com/personal/<upn with . and @ as _>`.
- SharePoint: a few dozen sites with GUID Site Ids, the tenant-wide pooled Storage Allocated on every row;
  concealed: zero Site Id, blank Site URL, 32-hex owners.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
import re
import uuid
from collections.abc import Callable, Iterator

from .tenants import (
    EXTRA_COLUMN,
    PERIODS,
    SampleTenant,
    SampleUser,
    _active_on,
    _bool,
    _chunks,
    _day,
    _Layout,
    _parse_period_or_date,
    _sub_seed,
    conceal,
)
from .tenants import (
    _scaled as _scaled_by,
)

TEAMS_USER_ACTIVITY = "getTeamsUserActivityUserDetail"
TEAMS_DEVICE_USAGE = "getTeamsDeviceUsageUserDetail"
SKYPE_ACTIVITY = "getSkypeForBusinessActivityUserDetail"
SKYPE_DEVICE_USAGE = "getSkypeForBusinessDeviceUsageUserDetail"
ONEDRIVE_USAGE = "getOneDriveUsageAccountDetail"
ONEDRIVE_ACTIVITY = "getOneDriveActivityUserDetail"
SHAREPOINT_SITE_USAGE = "getSharePointSiteUsageDetail"
SHAREPOINT_ACTIVITY = "getSharePointActivityUserDetail"

ZERO_GUID = "00000000-0000-0000-0000-000000000000"

# The captured order (PnP CLI docs, 2022-10): the default.
TEAMS_USER_ACTIVITY_HEADER = (
    "Report Refresh Date", "User Id", "User Principal Name", "Last Activity Date", "Is Deleted", "Deleted Date",
    "Assigned Products", "Team Chat Message Count", "Private Chat Message Count", "Call Count", "Meeting Count",
    "Meetings Organized Count", "Meetings Attended Count", "Ad Hoc Meetings Organized Count",
    "Ad Hoc Meetings Attended Count", "Scheduled One-time Meetings Organized Count",
    "Scheduled One-time Meetings Attended Count", "Scheduled Recurring Meetings Organized Count",
    "Scheduled Recurring Meetings Attended Count", "Audio Duration", "Video Duration", "Screen Share Duration",
    "Audio Duration In Seconds", "Video Duration In Seconds", "Screen Share Duration In Seconds",
    "Has Other Action", "Urgent Messages", "Post Messages", "Tenant Display Name",
    "Shared Channel Tenant Display Names", "Reply Messages", "Is Licensed", "Report Period",
)  # fmt: skip
# The v1.0 doc page's order (same 33 names): served with `reorder_columns`.
TEAMS_USER_ACTIVITY_DOC_HEADER = (
    "Report Refresh Date", "Tenant Display Name", "Shared Channel Tenant Display Names", "User Id",
    "User Principal Name", "Last Activity Date", "Is Deleted", "Deleted Date", "Assigned Products",
    "Team Chat Message Count", "Private Chat Message Count", "Call Count", "Meeting Count", "Post Messages",
    "Reply Messages", "Urgent Messages", "Meetings Organized Count", "Meetings Attended Count",
    "Ad Hoc Meetings Organized Count", "Ad Hoc Meetings Attended Count",
    "Scheduled One-time Meetings Organized Count", "Scheduled One-time Meetings Attended Count",
    "Scheduled Recurring Meetings Organized Count", "Scheduled Recurring Meetings Attended Count",
    "Audio Duration", "Video Duration", "Screen Share Duration", "Audio Duration In Seconds",
    "Video Duration In Seconds", "Screen Share Duration In Seconds", "Has Other Action", "Is Licensed",
    "Report Period",
)  # fmt: skip
TEAMS_DEVICE_USAGE_HEADER = (
    "Report Refresh Date", "User Id", "User Principal Name", "Last Activity Date", "Is Deleted", "Deleted Date",
    "Used Web", "Used Windows Phone", "Used iOS", "Used Mac", "Used Android Phone", "Used Windows",
    "Used  Chrome OS", "Used Linux", "Is Licensed", "Report Period",
)  # fmt: skip
SKYPE_ACTIVITY_HEADER = (
    "Report Refresh Date", "User Principal Name", "Is Deleted", "Deleted Date", "Last Activity Date",
    "Total Peer-to-peer Session Count", "Total Organized Conference Count", "Total Participated Conference Count",
    "Peer-to-peer Last Activity Date", "Organized Conference Last Activity Date",
    "Participated Conference Last Activity Date", "Peer-to-peer IM Count", "Peer-to-peer Audio Count",
    "Peer-to-peer Audio Minutes", "Peer-to-peer Video Count", "Peer-to-peer Video Minutes",
    "Peer-to-peer App Sharing Count", "Peer-to-peer File Transfer Count", "Organized Conference IM Count",
    "Organized Conference Audio/Video Count", "Organized Conference Audio/Video Minutes",
    "Organized Conference App Sharing Count", "Organized Conference Web Count",
    "Organized Conference Dial-in/out 3rd Party Count", "Organized Conference Dial-in/out Microsoft Count",
    "Organized Conference Dial-in Microsoft Minutes", "Organized Conference Dial-out Microsoft Minutes",
    "Participated Conference IM Count", "Participated Conference Audio/Video Count",
    "Participated Conference Audio/Video Minutes", "Participated Conference App Sharing Count",
    "Participated Conference Web Count", "Participated Conference Dial-in/out 3rd Party Count",
    "Assigned Products", "Report Period",
)  # fmt: skip
SKYPE_DEVICE_USAGE_HEADER = (
    "Report Refresh Date", "User Principal Name", "Last Activity Date", "Used Windows", "Used Windows Phone",
    "Used Android Phone", "Used iPhone", "Used iPad", "Report Period",
)  # fmt: skip
ONEDRIVE_USAGE_HEADER = (
    "Report Refresh Date", "Site URL", "Owner Display Name", "Is Deleted", "Last Activity Date", "File Count",
    "Active File Count", "Storage Used (Byte)", "Storage Allocated (Byte)", "Owner Principal Name", "Report Period",
)  # fmt: skip
ONEDRIVE_ACTIVITY_HEADER = (
    "Report Refresh Date", "User Principal Name", "Is Deleted", "Deleted Date", "Last Activity Date",
    "Viewed Or Edited File Count", "Synced File Count", "Shared Internally File Count",
    "Shared Externally File Count", "Assigned Products", "Report Period",
)  # fmt: skip
SHAREPOINT_SITE_USAGE_HEADER = (
    "Report Refresh Date", "Site Id", "Site URL", "Owner Display Name", "Is Deleted", "Last Activity Date",
    "File Count", "Active File Count", "Page View Count", "Visited Page Count", "Storage Used (Byte)",
    "Storage Allocated (Byte)", "Root Web Template", "Owner Principal Name", "Report Period",
)  # fmt: skip
SHAREPOINT_ACTIVITY_HEADER = (
    "Report Refresh Date", "User Principal Name", "Is Deleted", "Deleted Date", "Last Activity Date",
    "Viewed Or Edited File Count", "Synced File Count", "Shared Internally File Count",
    "Shared Externally File Count", "Visited Page Count", "Assigned Products", "Report Period",
)  # fmt: skip

HEADERS: dict[str, tuple[str, ...]] = {
    TEAMS_USER_ACTIVITY: TEAMS_USER_ACTIVITY_HEADER,
    TEAMS_DEVICE_USAGE: TEAMS_DEVICE_USAGE_HEADER,
    SKYPE_ACTIVITY: SKYPE_ACTIVITY_HEADER,
    SKYPE_DEVICE_USAGE: SKYPE_DEVICE_USAGE_HEADER,
    ONEDRIVE_USAGE: ONEDRIVE_USAGE_HEADER,
    ONEDRIVE_ACTIVITY: ONEDRIVE_ACTIVITY_HEADER,
    SHAREPOINT_SITE_USAGE: SHAREPOINT_SITE_USAGE_HEADER,
    SHAREPOINT_ACTIVITY: SHAREPOINT_ACTIVITY_HEADER,
}

ONEDRIVE_QUOTA = 1099511627776  # 1 TiB, the default OneDrive quota (real capture)
ONEDRIVE_LARGE_QUOTA = 5 * ONEDRIVE_QUOTA
_POOL_BASE = 1099511627776  # SharePoint pooled storage: 1 TiB + 10 GiB per licence
_POOL_PER_USER = 10 * 1024**3
_SITE_NAMES = (
    "Marketing", "Sales", "HR", "Finance", "Legal", "Engineering", "Support", "ElMontePythons", "Intranet",
    "ProjectAtlas", "ProjectBorealis", "Procurement", "Facilities", "ITHelpdesk", "Communications", "Design",
    "Research", "Training", "Onboarding", "Compliance", "Partners", "Events", "Board", "Executive",
    "Operations", "QualityAssurance", "Logistics", "Security", "DataPlatform", "CustomerSuccess",
    "Contoso Café", "Product Management", "Archive 2019", "Archive 2020", "Archive 2021", "Benefits",
    "Recruiting", "Wiki", "Knowledge Base", "Town Hall",
)  # fmt: skip
_TEMPLATES = ("Group", "Team Site", "Communication Site", "Team Site (classic)")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')

# Per-workload salt and share of users who use the workload at all.
_WORKLOADS = {"teams": (11, 0.85), "skype": (12, 0.0), "onedrive": (13, 0.8), "sharepoint": (14, 0.7)}


def _layout(function: str, *, crlf: bool, reorder: bool, extra_columns: bool) -> _Layout:
    header = HEADERS[function]
    if reorder:
        if function == TEAMS_USER_ACTIVITY:
            header = TEAMS_USER_ACTIVITY_DOC_HEADER
        else:  # as the Exchange reports do: keep the first column, reverse the rest
            header = header[:1] + header[:0:-1]
    return _Layout(header, crlf=crlf, extra_columns=extra_columns)


def _rng(tenant: SampleTenant, user: SampleUser, salt: int, *extra: int) -> random.Random:
    return random.Random(_sub_seed(tenant.seed, user.index, salt, *extra))


def workload_last_activity(tenant: SampleTenant, user: SampleUser, workload: str) -> dt.date | None:
    """The user's last activity in a workload (None: never used it); stable per tenant, user and workload."""
    salt, share = _WORKLOADS[workload]
    rng = _rng(tenant, user, salt)
    if user.last_activity is None or rng.random() >= share:
        return None
    if user.is_deleted:
        return user.last_activity
    return max(user.created_date, user.last_activity - dt.timedelta(days=int(rng.expovariate(1 / 3))))


# Workload counts spread wider than the mail counts.
_scaled = functools.partial(_scaled_by, spread=(0.5, 1.5))


def iso_duration(seconds: int) -> str:
    """ISO 8601 duration as the Teams report writes it: PT0S, PT45S, PT1H2M, PT1H2M3S."""
    if seconds <= 0:
        return "PT0S"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + (f"{s}S" if s else "")


def user_guid(tenant: SampleTenant, user: SampleUser) -> str:
    """The user's object id: the same in the Teams reports and the directory (/users)."""
    return stable_guid(tenant, "user", user.index)


def stable_guid(tenant: SampleTenant, kind: str, index: int) -> str:
    digest = hashlib.sha256(f"{tenant.tenant_id}|{kind}|{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def initial_name(tenant: SampleTenant) -> str:
    """`contoso` of contoso.onmicrosoft.com / contoso-my.sharepoint.com."""
    return tenant.domain.split(".", 1)[0]


def onedrive_url(tenant: SampleTenant, upn: str) -> str:
    return f"https://{initial_name(tenant)}-my.sharepoint.com/personal/{re.sub(r'[.@]', '_', upn)}"


def _user_report(
    function: str,
    workload: str,
    tenant: SampleTenant,
    period_or_date: str | dt.date,
    fill: Callable[[dict[str, str], SampleUser, random.Random | None, float, dt.date | None], None],
    *,
    crlf: bool = False,
    reorder: bool = False,
    extra_columns: bool = False,
    concealed: bool | None = None,
    header_only: bool = False,
    include_inactive: bool = True,
) -> Iterator[str]:
    """One row per user (period form) or per user active that day (date form); `fill` adds the counts."""
    period, day = _parse_period_or_date(period_or_date)
    concealed = tenant.concealed if concealed is None else concealed
    layout = _layout(function, crlf=crlf, reorder=reorder, extra_columns=extra_columns)
    refresh = tenant.report_refresh_date
    salt = _WORKLOADS[workload][0]

    def lines() -> Iterator[str]:
        yield layout.header_line()
        if header_only or tenant.header_only or (day is not None and day > refresh):
            return
        for user in tenant.iter_users():
            upn = conceal(tenant, user.upn) if concealed else user.upn
            cells = {
                "Report Refresh Date": refresh.isoformat(),
                "User Principal Name": upn,
                "Is Deleted": _bool(user.is_deleted),
                "Deleted Date": _day(user.deleted_date),
                "Assigned Products": user.products,
                EXTRA_COLUMN: "User",
            }
            last = workload_last_activity(tenant, user, workload)
            if day is not None:
                rng = _active_on(last, day, _sub_seed(tenant.seed, user.index, salt, day.toordinal()), 0.6)
                if rng is None:
                    continue
                cells.update({"Report Refresh Date": day.isoformat(), "Last Activity Date": day.isoformat()})
                cells["Report Period"] = "1"
                fill(cells, user, rng, 1.0, day)
                yield layout.line(cells)
                continue
            assert period is not None
            start = refresh - dt.timedelta(days=period - 1)
            cells["Last Activity Date"] = _day(last)
            cells["Report Period"] = str(period)
            if last is None or last < start:
                if not include_inactive and last is None:
                    continue
                fill(cells, user, None, 0.0, None)
            else:
                rng = _rng(tenant, user, salt, period, refresh.toordinal())
                fill(cells, user, rng, max(1.0, (last - start).days * 5 / 7 + 1), None)
            yield layout.line(cells)

    return _chunks(lines())


def teams_user_activity_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    concealed = tenant.concealed if options.get("concealed") is None else options["concealed"]

    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        cells["User Id"] = ZERO_GUID if concealed else user_guid(tenant, user)
        cells["Tenant Display Name"] = tenant.display_name.upper()
        cells["Shared Channel Tenant Display Names"] = ""
        cells["Is Licensed"] = "No" if user.is_deleted else "Yes"
        if rng is None:
            counts = dict.fromkeys(_TEAMS_COUNTS, 0)
            audio = video = share = 0
            other = False
        else:
            counts = {
                "Team Chat Message Count": _scaled(rng, 6, days),
                "Private Chat Message Count": _scaled(rng, 15, days),
                "Call Count": _scaled(rng, 0.8, days),
                "Post Messages": _scaled(rng, 1.5, days),
                "Reply Messages": _scaled(rng, 2.5, days),
                "Urgent Messages": _scaled(rng, 0.05, days),
            }
            adhoc_o, adhoc_a = _scaled(rng, 0.2, days), _scaled(rng, 0.4, days)
            once_o, once_a = _scaled(rng, 0.3, days), _scaled(rng, 0.6, days)
            rec_o, rec_a = _scaled(rng, 0.3, days), _scaled(rng, 0.9, days)
            counts.update(
                {
                    "Ad Hoc Meetings Organized Count": adhoc_o,
                    "Ad Hoc Meetings Attended Count": adhoc_a,
                    "Scheduled One-time Meetings Organized Count": once_o,
                    "Scheduled One-time Meetings Attended Count": once_a,
                    "Scheduled Recurring Meetings Organized Count": rec_o,
                    "Scheduled Recurring Meetings Attended Count": rec_a,
                    "Meetings Organized Count": adhoc_o + once_o + rec_o,
                    "Meetings Attended Count": adhoc_a + once_a + rec_a,
                    "Meeting Count": adhoc_o + once_o + rec_o + adhoc_a + once_a + rec_a,
                }
            )
            meetings = counts["Meeting Count"] + counts["Call Count"]
            audio = meetings * rng.randint(300, 2400)
            video = int(audio * rng.uniform(0, 0.6))
            share = int(audio * rng.uniform(0, 0.3))
            other = rng.random() < 0.2
        cells.update({k: str(v) for k, v in counts.items()})
        cells.update(
            {
                "Audio Duration": iso_duration(audio),
                "Video Duration": iso_duration(video),
                "Screen Share Duration": iso_duration(share),
                "Audio Duration In Seconds": str(audio),
                "Video Duration In Seconds": str(video),
                "Screen Share Duration In Seconds": str(share),
                "Has Other Action": "Yes" if other else "No",
            }
        )

    return _user_report(TEAMS_USER_ACTIVITY, "teams", tenant, period_or_date, fill, **options)


_TEAMS_COUNTS = (
    "Team Chat Message Count", "Private Chat Message Count", "Call Count", "Meeting Count", "Post Messages",
    "Reply Messages", "Urgent Messages", "Meetings Organized Count", "Meetings Attended Count",
    "Ad Hoc Meetings Organized Count", "Ad Hoc Meetings Attended Count",
    "Scheduled One-time Meetings Organized Count", "Scheduled One-time Meetings Attended Count",
    "Scheduled Recurring Meetings Organized Count", "Scheduled Recurring Meetings Attended Count",
)  # fmt: skip
_TEAMS_DEVICES = (
    ("Used Windows", 0.7), ("Used Mac", 0.12), ("Used Web", 0.3), ("Used iOS", 0.35),
    ("Used Android Phone", 0.3), ("Used Windows Phone", 0.0), ("Used  Chrome OS", 0.03), ("Used Linux", 0.02),
)  # fmt: skip


def teams_device_usage_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    concealed = tenant.concealed if options.get("concealed") is None else options["concealed"]

    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        cells["User Id"] = ZERO_GUID if concealed else user_guid(tenant, user)
        cells["Is Licensed"] = "No" if user.is_deleted else "Yes"
        # Devices are a property of the user, stable across periods; a day shows a subset of them.
        dev_rng = _rng(tenant, user, 21)
        used = {name: dev_rng.random() < share for name, share in _TEAMS_DEVICES}
        if not any(used.values()):
            used["Used Windows"] = True
        for name, _share in _TEAMS_DEVICES:
            flag = used[name] and rng is not None and (days > 1 or rng.random() < 0.8)
            cells[name] = "Yes" if flag else "No"

    return _user_report(TEAMS_DEVICE_USAGE, "teams", tenant, period_or_date, fill, **options)


def skype_activity_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        for name in SKYPE_ACTIVITY_HEADER:
            if name.endswith(("Count", "Minutes")):
                cells[name] = "0"
            elif name.endswith("Last Activity Date"):
                cells[name] = ""

    return _user_report(SKYPE_ACTIVITY, "skype", tenant, period_or_date, fill, **options)


def skype_device_usage_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        for name in SKYPE_DEVICE_USAGE_HEADER:
            if name.startswith("Used "):
                cells[name] = "No"

    return _user_report(SKYPE_DEVICE_USAGE, "skype", tenant, period_or_date, fill, **options)


def _file_counts(rng: random.Random | None, days: float, sharepoint: bool) -> dict[str, str]:
    if rng is None:
        values = (0, 0, 0, 0, 0)
    else:
        values = (
            _scaled(rng, 8, days),
            _scaled(rng, 3 if not sharepoint else 1, days) if rng.random() < 0.6 else 0,
            _scaled(rng, 0.6, days),
            _scaled(rng, 0.1, days) if rng.random() < 0.3 else 0,
            _scaled(rng, 5, days),
        )
    names = (
        "Viewed Or Edited File Count",
        "Synced File Count",
        "Shared Internally File Count",
        "Shared Externally File Count",
        "Visited Page Count",
    )
    return {n: str(v) for n, v in zip(names, values, strict=True)}


def onedrive_activity_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        counts = _file_counts(rng, days, False)
        counts.pop("Visited Page Count")
        cells.update(counts)

    return _user_report(ONEDRIVE_ACTIVITY, "onedrive", tenant, period_or_date, fill, **options)


def sharepoint_activity_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        cells.update(_file_counts(rng, days, True))

    return _user_report(SHAREPOINT_ACTIVITY, "sharepoint", tenant, period_or_date, fill, **options)


def onedrive_usage_csv(tenant: SampleTenant, period_or_date: str | dt.date, **options) -> Iterator[str]:
    """One personal site per user (idle ones included, with blank Last Activity Date)."""
    concealed = tenant.concealed if options.get("concealed") is None else options["concealed"]

    def fill(cells: dict[str, str], user: SampleUser, rng: random.Random | None, days: float, _day_: object) -> None:
        site_rng = _rng(tenant, user, 31)
        quota = ONEDRIVE_LARGE_QUOTA if site_rng.random() < 0.05 else ONEDRIVE_QUOTA
        used = int(quota * min(0.99, site_rng.paretovariate(1.2) / 400)) if site_rng.random() < 0.98 else quota
        files = max(1, used // site_rng.randint(200_000, 3_000_000))
        active = 0 if rng is None else min(files, _scaled(rng, 4, days))
        if concealed:
            cells["Site URL"] = conceal(tenant, onedrive_url(tenant, user.upn), "site")
            cells["Owner Display Name"] = conceal(tenant, user.upn, "displayName")
            cells["Owner Principal Name"] = conceal(tenant, user.upn)
        else:
            cells["Site URL"] = onedrive_url(tenant, user.upn)
            cells["Owner Display Name"] = user.display_name
            cells["Owner Principal Name"] = user.upn
        cells.update(
            {
                "File Count": str(files),
                "Active File Count": str(active),
                "Storage Used (Byte)": str(used),
                "Storage Allocated (Byte)": str(quota),
            }
        )

    return _user_report(ONEDRIVE_USAGE, "onedrive", tenant, period_or_date, fill, **options)


class SharePointSite:
    __slots__ = ("index", "site_id", "url", "name", "owner_name", "owner_upn", "template", "used", "files")

    def __init__(self, tenant: SampleTenant, index: int) -> None:
        rng = random.Random(_sub_seed(tenant.seed, index, 41))
        base = _SITE_NAMES[index % len(_SITE_NAMES)]
        lap = index // len(_SITE_NAMES)
        self.index = index
        self.name = base if not lap else f"{base} {lap + 1}"
        slug = re.sub(r"[^A-Za-z0-9]", "", self.name.replace("é", "e"))
        self.site_id = stable_guid(tenant, "site", index)
        initial = initial_name(tenant)
        self.url = f"https://{initial}.sharepoint.com/sites/{slug}"
        self.template = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
        if self.template == "Group" or tenant.users == 0:
            self.owner_name = f"{self.name} Owners"
            self.owner_upn = f"{slug}@{initial}.onmicrosoft.com"
        else:
            owner = tenant.user(rng.randrange(tenant.users))
            self.owner_name, self.owner_upn = owner.display_name, owner.upn
        self.used = int(rng.lognormvariate(21, 2))
        self.files = max(1, self.used // rng.randint(150_000, 2_000_000))


def sharepoint_sites(tenant: SampleTenant) -> list[SharePointSite]:
    """A few dozen sites: 24 plus one per 50 users, at most 60."""
    return [SharePointSite(tenant, i) for i in range(min(60, 24 + tenant.users // 50))]


def sharepoint_pool(tenant: SampleTenant) -> int:
    return _POOL_BASE + _POOL_PER_USER * tenant.users


def sharepoint_site_usage_csv(
    tenant: SampleTenant,
    period_or_date: str | dt.date,
    *,
    crlf: bool = False,
    reorder: bool = False,
    extra_columns: bool = False,
    concealed: bool | None = None,
    header_only: bool = False,
) -> Iterator[str]:
    period, day = _parse_period_or_date(period_or_date)
    concealed = tenant.concealed if concealed is None else concealed
    layout = _layout(SHAREPOINT_SITE_USAGE, crlf=crlf, reorder=reorder, extra_columns=extra_columns)
    refresh = tenant.report_refresh_date
    pool = str(sharepoint_pool(tenant))

    def lines() -> Iterator[str]:
        yield layout.header_line()
        if header_only or tenant.header_only or (day is not None and day > refresh):
            return
        for site in sharepoint_sites(tenant):
            rng = random.Random(_sub_seed(tenant.seed, site.index, 43))
            last = refresh - dt.timedelta(days=int(rng.expovariate(1 / 6))) if rng.random() < 0.85 else None
            deleted = site.index % 29 == 28
            if day is not None:
                if last is None or last < day or (last != day and rng.random() < 0.4):
                    continue
                days, report_date, period_cell = 1.0, day, "1"
                last_cell = day.isoformat()
            else:
                assert period is not None
                start = refresh - dt.timedelta(days=period - 1)
                days = 0.0 if last is None or last < start else max(1.0, (last - start).days * 5 / 7 + 1)
                report_date, period_cell, last_cell = refresh, str(period), _day(last)
            day_rng = random.Random(_sub_seed(tenant.seed, site.index, 44, report_date.toordinal(), int(days)))
            views = _scaled(day_rng, 25, days)
            cells = {
                "Report Refresh Date": report_date.isoformat(),
                "Site Id": ZERO_GUID if concealed else site.site_id,
                "Site URL": "" if concealed else site.url,
                "Owner Display Name": conceal(tenant, site.owner_upn, "displayName") if concealed else site.owner_name,
                "Owner Principal Name": conceal(tenant, site.owner_upn) if concealed else site.owner_upn,
                "Is Deleted": _bool(deleted),
                "Last Activity Date": last_cell,
                "File Count": str(site.files),
                "Active File Count": str(min(site.files, _scaled(day_rng, 3, days))),
                "Page View Count": str(views),
                "Visited Page Count": str(min(views, _scaled(day_rng, 6, days))),
                "Storage Used (Byte)": str(site.used),
                "Storage Allocated (Byte)": pool,
                "Root Web Template": site.template,
                "Report Period": period_cell,
                EXTRA_COLUMN: "Site",
            }
            yield layout.line(cells)

    return _chunks(lines())


GENERATORS: dict[str, Callable[..., Iterator[str]]] = {
    TEAMS_USER_ACTIVITY: teams_user_activity_csv,
    TEAMS_DEVICE_USAGE: teams_device_usage_csv,
    SKYPE_ACTIVITY: skype_activity_csv,
    SKYPE_DEVICE_USAGE: skype_device_usage_csv,
    ONEDRIVE_USAGE: onedrive_usage_csv,
    ONEDRIVE_ACTIVITY: onedrive_activity_csv,
    SHAREPOINT_SITE_USAGE: sharepoint_site_usage_csv,
    SHAREPOINT_ACTIVITY: sharepoint_activity_csv,
}


__all__ = ["GENERATORS", "HEADERS", "PERIODS"]
