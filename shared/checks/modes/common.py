"""Shapes shared by several workloads (Centreon copied the same Perl module across plugins): a users-activity
mode is a list of reported columns, a devices-usage mode a list of 'Used <device>' columns, a site-usage mode
the usage counter plus a few file/page counts. Each workload module then states its modes in a few lines."""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from dataclasses import dataclass

from shared.collect.catalog import UPN

from ..spec import (
    ActiveCounter,
    Col,
    Counter,
    CountMatching,
    GlobalBlock,
    InstanceBlock,
    ListMode,
    Perf,
    ReportMode,
    Sum,
    UsageCounter,
)


@dataclass(frozen=True)
class ColumnCounters:
    """The two counters of one reported column: a global total ('total-<label>') and a per-instance one
    ('<label>')."""

    key: str  # 'team_chat': labels 'total-team-chat' / 'team-chat', perfdata 'total_team_chat' / 'team_chat'
    column: str  # 'Team Chat Message Count'
    text: str  # 'Team Chat Message Count: %d'
    nlabel: str  # per instance 'teams.users.messages.team.count'; the total inserts '.total' before '.count'
    total_text: str = ""  # when the total's text differs
    total_nlabel: str = ""  # when the total's nlabel is not the '.total' form
    scope: str = "active"  # 'inactive': summed over D7 rows not active on the report date (site usage)
    per_instance: bool = True
    bytes: bool = False

    @property
    def label(self) -> str:
        return self.key.replace("_", "-")

    def total(self) -> Counter:
        nlabel = self.total_nlabel or self.nlabel.removesuffix(".count") + ".total.count"
        perf = Perf(f"total_{self.key}", unit="B" if self.bytes else "")
        return Counter(f"total-{self.label}", nlabel, self.key, self.total_text or self.text, perf, self.bytes)

    def instance(self) -> Counter:
        return Counter(self.label, self.nlabel, self.key, self.text, Perf(self.key))


def activity_mode(
    plugin: str,
    report: str,
    metrics: tuple[ColumnCounters, ...],
    total_prefix: str = "Total ",
    name: str = "users-activity",
    message_multiple: str = "All users activity are ok",
) -> ReportMode:
    """users-activity (and exchange email-activity): 'Active users on <date> : a/t (p%)', totals over the
    active users, per-user counters."""
    return ReportMode(
        plugin=plugin,
        name=name,
        report=report,
        filters={"filter-user": UPN},
        active=ActiveCounter("active-users", "Active users on %s : %d/%d (%.2f%%)", "active_users",
                             f"{plugin}.users.active.count", "users"),
        totals=GlobalBlock(total_prefix, {m.key: Sum(Col(m.column)) for m in metrics}, tuple(m.total() for m in metrics)),
        instances=InstanceBlock(
            name="users",
            key=UPN,
            prefix="User '{name}' ",
            message_multiple=message_multiple,
            values={m.key: Col(m.column) for m in metrics},
            counters=tuple(m.instance() for m in metrics),
        ),
    )  # fmt: skip


def file_activity(plugin: str) -> tuple[ColumnCounters, ...]:
    """The file counters OneDrive and SharePoint users-activity share."""
    return (
        ColumnCounters("viewed_edited_file_count", "Viewed Or Edited File Count", "Viewed or Edited File Count: %d", f"{plugin}.users.files.viewed.count"),
        ColumnCounters("synced_file_count", "Synced File Count", "Synced File Count: %d", f"{plugin}.users.files.synced.count"),
        ColumnCounters("shared_int_file_count", "Shared Internally File Count", "Shared Internally File Count: %d", f"{plugin}.users.files.shared.internally.count"),
        ColumnCounters("shared_ext_file_count", "Shared Externally File Count", "Shared Externally File Count: %d", f"{plugin}.users.files.shared.externally.count"),
    )  # fmt: skip


def devices_mode(plugin: str, report: str, devices: tuple[tuple[str, str, str], ...]) -> ReportMode:
    """devices-usage: total = 'Yes' cells over D7 rows, active = over daily rows; counts per device type.
    `devices`: (label, 'Used <column>', text)."""
    columns = tuple(column for _, column, _ in devices)
    return ReportMode(
        plugin=plugin,
        name="devices-usage",
        report=report,
        filters={"filter-user": UPN},
        weight=CountMatching(columns, "Yes"),
        filter_counters_default="",
        active=ActiveCounter("active-devices", "Active devices on %s : %d/%d (%.2f%%)", "active_devices",
                             f"{plugin}.devices.active.count", "devices"),
        totals=GlobalBlock(
            "Users count by device type : ",
            {label: Sum(CountMatching((column,), "Yes")) for label, column, _ in devices},
            tuple(
                Counter(label, f"{plugin}.devices.{_nl(label)}.count", label, f"{text}: %d", Perf(label.replace("-", "_")))
                for label, _, text in devices
            ),
        ),
        instances=InstanceBlock("users", UPN, "User '{name}' ", "", {}, ()),
    )  # fmt: skip


def _nl(label: str) -> str:
    return {"android-phone": "android", "windows-phone": "windowsphone"}.get(label, label)


SITE_METRICS = (
    ColumnCounters("usage_active", "Storage Used (Byte)", "Usage (active sites): %s %s", "", total_nlabel="{p}.sites.active.usage.total.bytes", per_instance=False, bytes=True),
    ColumnCounters("usage_inactive", "Storage Used (Byte)", "Usage (inactive sites): %s %s", "", total_nlabel="{p}.sites.inactive.usage.total.bytes", scope="inactive", per_instance=False, bytes=True),
    ColumnCounters("file_count_active", "File Count", "File Count (active sites): %d", "", total_nlabel="{p}.sites.active.files.total.count", per_instance=False),
    ColumnCounters("file_count_inactive", "File Count", "File Count (inactive sites): %d", "", total_nlabel="{p}.sites.inactive.files.total.count", scope="inactive", per_instance=False),
    ColumnCounters("active_file_count", "Active File Count", "Active File Count: %d", "{p}.sites.files.active.count", total_text="Active File Count (active sites): %d"),
)  # fmt: skip
SITE_INSTANCE_METRICS = (ColumnCounters("file_count", "File Count", "File Count: %d", "{p}.sites.files.count"),)


def site_usage_mode(
    plugin: str, report: str, filters: dict[str, str], prefix: str, extra: tuple[ColumnCounters, ...] = (), **kw: object
) -> ReportMode:
    """site-usage: active sites, usage/file totals (active and inactive sites), per site the usage counter
    (used vs allocated), file counts (+ `extra`). Site perfdata instances are the site URLs."""

    def fmt(m: ColumnCounters) -> ColumnCounters:
        from dataclasses import replace

        return replace(m, nlabel=m.nlabel.format(p=plugin), total_nlabel=m.total_nlabel.format(p=plugin))

    totals = tuple(fmt(m) for m in SITE_METRICS + extra)
    per_site = tuple(fmt(m) for m in SITE_INSTANCE_METRICS + SITE_METRICS + extra if m.per_instance)
    return ReportMode(
        plugin=plugin,
        name="site-usage",
        report=report,
        filters=filters,
        filter_counters_default="active-sites|total",
        extra_options={"free": "", **kw.pop("extra_options", {})},  # type: ignore[dict-item]  # kw: ReportMode fields
        active=ActiveCounter("active-sites", "Active sites on %s : %d/%d (%.2f%%)", "active_sites",
                             f"{plugin}.sites.active.count", "sites"),
        totals=GlobalBlock("Total ", {m.key: Sum(Col(m.column), m.scope) for m in totals}, tuple(m.total() for m in totals)),
        instances=InstanceBlock(
            name="sites",
            key="Site URL",
            prefix=prefix,
            message_multiple="All sites usage are ok",
            values={
                "url": Col("Site URL", blank=""), "owner": Col("Owner Display Name", blank=""),
                "id": Col("Site Id", blank=""), "used": Col("Storage Used (Byte)"),
                "allocated": Col("Storage Allocated (Byte)"), **{m.key: Col(m.column) for m in per_site},
            },
            counters=(UsageCounter("usage", f"{plugin}.sites.usage.bytes"), *(m.instance() for m in per_site)),
            perf_instance=("url",),
        ),
        **kw,  # type: ignore[arg-type]  # the caller's other ReportMode fields
    )  # fmt: skip


def list_sites_mode(plugin: str, report: str, **kw: object) -> ListMode:
    return ListMode(plugin=plugin, name="list-sites", report=report, title="List sites: ", **kw)  # type: ignore[arg-type]  # ListMode fields
