"""The Graph usage reports o365mon collects, and the columns each stored snapshot keeps.

Column names are Microsoft's CSV headers verbatim: the parser looks them up by name, so reordered or extra
columns in a download change nothing. Only the columns some check needs are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    INT = "int"  # counts and byte sizes; a blank cell is stored as None


@dataclass(frozen=True)
class ReportDef:
    key: str  # storage name of the report, e.g. "email_activity"
    function: str  # Graph reportRoot function
    daily: bool  # True: Centreon also fetches (date=<Report Refresh Date>) after the D7 report
    columns: dict[str, Kind]
    identity_column: str  # the column that carries a user/site identity (checked for concealed names)


EMAIL_ACTIVITY = ReportDef(
    key="email_activity",
    function="getEmailActivityUserDetail",
    daily=True,
    columns={
        "User Principal Name": Kind.TEXT,
        "Last Activity Date": Kind.TEXT,
        "Send Count": Kind.INT,
        "Receive Count": Kind.INT,
        "Read Count": Kind.INT,
        "Report Period": Kind.INT,
    },
    identity_column="User Principal Name",
)

MAILBOX_USAGE = ReportDef(
    key="mailbox_usage",
    function="getMailboxUsageDetail",
    daily=False,
    columns={
        "User Principal Name": Kind.TEXT,
        "Last Activity Date": Kind.TEXT,
        "Storage Used (Byte)": Kind.INT,
        "Issue Warning Quota (Byte)": Kind.INT,
        "Prohibit Send Quota (Byte)": Kind.INT,
        "Prohibit Send/Receive Quota (Byte)": Kind.INT,
        "Item Count": Kind.INT,
        "Report Period": Kind.INT,
    },
    identity_column="User Principal Name",
)

REPORTS: dict[str, ReportDef] = {r.key: r for r in (EMAIL_ACTIVITY, MAILBOX_USAGE)}
