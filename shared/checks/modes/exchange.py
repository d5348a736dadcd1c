"""cloud::microsoft::office365::exchange::plugin: modes email-activity and mailbox-usage."""

from __future__ import annotations

from ..spec import ActiveCounter, Col, Counter, GlobalBlock, InstanceBlock, Perf, ReportMode, StatusCounter, Sum

UPN = "User Principal Name"

EMAIL_ACTIVITY = ReportMode(
    plugin="exchange",
    name="email-activity",
    report="email_activity",
    filters={"filter-user": UPN},
    active_from="daily",  # D7 rows count 'total'; rows of the date=<refresh> report are the active users
    active=ActiveCounter(
        label="active-users",
        output="Active users on %s : %d/%d (%.2f%%)",
        perf_label="active_users",
        nlabel="exchange.users.active.count",
        unit="users",
    ),
    totals=GlobalBlock(
        prefix="Total (active users) ",
        sums={
            "send_count": Sum(Col("Send Count")),
            "receive_count": Sum(Col("Receive Count")),
            "read_count": Sum(Col("Read Count")),
        },
        counters=(
            Counter(
                "total-send-count",
                "exchange.users.emails.sent.total.count",
                "send_count",
                "Send Count: %d",
                Perf("total_send_count"),
            ),
            Counter(
                "total-receive-count",
                "exchange.users.emails.received.total.count",
                "receive_count",
                "Receive Count: %d",
                Perf("total_receive_count"),
            ),
            Counter(
                "total-read-count",
                "exchange.users.emails.read.total.count",
                "read_count",
                "Read Count: %d",
                Perf("total_read_count"),
            ),
        ),
    ),
    instances=InstanceBlock(
        name="users",
        key=UPN,
        prefix="User '{name}' ",
        message_multiple="All email activity are ok",
        values={
            "send_count": Col("Send Count"),
            "receive_count": Col("Receive Count"),
            "read_count": Col("Read Count"),
        },
        counters=(
            Counter(
                "send-count", "exchange.users.emails.sent.count", "send_count", "Send Count: %d", Perf("send_count")
            ),
            Counter(
                "receive-count",
                "exchange.users.emails.received.count",
                "receive_count",
                "Receive Count: %d",
                Perf("receive_count"),
            ),
            Counter(
                "read-count", "exchange.users.emails.read.count", "read_count", "Read Count: %d", Perf("read_count")
            ),
        ),
    ),
)

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
