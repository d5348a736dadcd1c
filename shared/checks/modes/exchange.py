"""cloud::microsoft::office365::exchange::plugin: modes email-activity and mailbox-usage (centreon-plugins
src/cloud/microsoft/office365/exchange/mode/emailactivity.pm, mailboxusage.pm)."""

from __future__ import annotations

from shared.collect.catalog import UPN

from ..spec import ActiveCounter, Col, Counter, GlobalBlock, InstanceBlock, Perf, ReportMode, StatusCounter, Sum
from .common import ColumnCounters, activity_mode

EMAIL_ACTIVITY = activity_mode(
    "exchange",
    "email_activity",
    (
        ColumnCounters("send_count", "Send Count", "Send Count: %d", "exchange.users.emails.sent.count"),
        ColumnCounters("receive_count", "Receive Count", "Receive Count: %d", "exchange.users.emails.received.count"),
        ColumnCounters("read_count", "Read Count", "Read Count: %d", "exchange.users.emails.read.count"),
    ),
    total_prefix="Total (active users) ",
    name="email-activity",
    message_multiple="All email activity are ok",
)  # fmt: skip

MAILBOX_USAGE = ReportMode(
    plugin="exchange",
    name="mailbox-usage",
    report="mailbox_usage",
    filters={"filter-mailbox": UPN},
    active_from="last_activity",  # only D7 rows; active = last activity on the refresh date
    active=ActiveCounter(
        label="active-mailboxes",
        output="Active mailboxes on %s : %d/%d (%.2f%%)",
        perf_label="active_mailboxes",
        nlabel="exchange.mailboxes.active.count",
        unit="mailboxes",
    ),
    totals=GlobalBlock(
        prefix="Total ",
        sums={
            "storage_used_active": Sum(Col("Storage Used (Byte)"), "active"),
            "storage_used_inactive": Sum(Col("Storage Used (Byte)"), "inactive"),
        },
        counters=(
            Counter(
                "total-usage-active",
                "exchange.mailboxes.active.usage.total.bytes",
                "storage_used_active",
                "Usage (active mailboxes): %s %s",
                Perf("total_usage_active", unit="B"),
                bytes=True,
            ),
            Counter(
                "total-usage-inactive",
                "exchange.mailboxes.inactive.usage.total.bytes",
                "storage_used_inactive",
                "Usage (inactive mailboxes): %s %s",
                Perf("total_usage_inactive", unit="B"),
                bytes=True,
            ),
        ),
    ),
    instances=InstanceBlock(
        name="mailboxes",
        key=UPN,
        prefix="Mailbox '{name}' ",
        message_multiple="All mailboxes usage are ok",
        values={
            "used": Col("Storage Used (Byte)"),
            # Blank quotas stay '' as in Centreon (numerically 0 in expressions, '0.00 B' in the output).
            "issue_warning_quota": Col("Issue Warning Quota (Byte)", blank=""),
            "prohibit_send_quota": Col("Prohibit Send Quota (Byte)", blank=""),
            "prohibit_send_receive_quota": Col("Prohibit Send/Receive Quota (Byte)", blank=""),
            "items": Col("Item Count"),
        },
        counters=(
            StatusCounter(
                label="status",
                output="Used: {used:bytes} Issue Warning Quota: {issue_warning_quota:bytes} "
                "Prohibit Send Quota: {prohibit_send_quota:bytes} "
                "Prohibit Send/Receive Quota: {prohibit_send_receive_quota:bytes}",
                variables={
                    "used": "used",
                    "issue_warning_quota": "issue_warning_quota",
                    "prohibit_send_quota": "prohibit_send_quota",
                    "prohibit_send_receive_quota": "prohibit_send_receive_quota",
                    "display": "name",
                },
                warning_default="%{used} > %{issue_warning_quota}",
                critical_default="%{used} > %{prohibit_send_quota}",
                perf=Perf("used", unit="B", thresholds=False, integer=False),
                perf_value="used",
                perf_nlabel="exchange.mailboxes.usage.bytes",
            ),
            Counter("items", "exchange.mailboxes.items.count", "items", "Items: %d", Perf("items")),
        ),
    ),
)

MODES = (EMAIL_ACTIVITY, MAILBOX_USAGE)
