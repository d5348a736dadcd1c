"""cloud::microsoft::office365::skype::plugin: users-activity and devices-usage (centreon-plugins
src/cloud/microsoft/office365/skype/mode/usersactivity.pm, devicesusage.pm; Skype for Business Online was
retired in 2021, the modes stay for command-line compatibility)."""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from .common import ColumnCounters, activity_mode, devices_mode

USERS_ACTIVITY = activity_mode(
    "skype",
    "skype_user_activity",
    (
        ColumnCounters("peer_to_peer_sessions", "Total Peer-to-peer Session Count", "Peer-to-peer Sessions Count: %d", "skype.users.sessions.p2p.count"),
        ColumnCounters("organized_conference", "Total Organized Conference Count", "Organized Conference Count: %d", "skype.users.conferences.organized.count"),
        ColumnCounters("participated_conference", "Total Participated Conference Count", "Participated Conference Count: %d", "skype.users.conferences.participated.count"),
    ),
)  # fmt: skip

DEVICES_USAGE = devices_mode(
    "skype",
    "skype_device_usage",
    (
        ("windows", "Used Windows", "Windows"),
        ("ipad", "Used iPad", "iPad"),
        ("iphone", "Used iPhone", "iPhone"),
        ("android-phone", "Used Android Phone", "Android Phone"),
        ("windows-phone", "Used Windows Phone", "Windows Phone"),
    ),
)

MODES = (USERS_ACTIVITY, DEVICES_USAGE)
