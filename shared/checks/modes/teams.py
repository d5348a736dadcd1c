"""cloud::microsoft::office365::teams::plugin: users-activity and devices-usage (centreon-plugins
src/cloud/microsoft/office365/teams/mode/usersactivity.pm, devicesusage.pm)."""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

from .common import ColumnCounters, activity_mode, devices_mode

USERS_ACTIVITY = activity_mode(
    "teams",
    "teams_user_activity",
    (
        ColumnCounters("team_chat", "Team Chat Message Count", "Team Chat Message Count: %d", "teams.users.messages.team.count"),
        ColumnCounters("private_chat", "Private Chat Message Count", "Private Chat Message Count: %d", "teams.users.messages.private.count"),
        ColumnCounters("call", "Call Count", "Call Count: %d", "teams.users.call.count"),
        ColumnCounters("meeting", "Meeting Count", "Meeting Count: %d", "teams.users.meeting.count"),
    ),
)  # fmt: skip

DEVICES_USAGE = devices_mode(
    "teams",
    "teams_device_usage",
    (
        ("windows", "Used Windows", "Windows"),
        ("mac", "Used Mac", "Mac"),
        ("web", "Used Web", "Web"),
        ("ios", "Used iOS", "iOS"),
        ("android-phone", "Used Android Phone", "Android Phone"),
        ("windows-phone", "Used Windows Phone", "Windows Phone"),
    ),
)

MODES = (USERS_ACTIVITY, DEVICES_USAGE)
