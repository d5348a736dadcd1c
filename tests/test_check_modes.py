"""Every Centreon office365 mode beyond Exchange, the output options, the Centreon bugs fixed, the six upstream
service-status cases and the health plugin, against hand-built rows (flattened as the collector stores them)."""

# ruff: noqa: E501  (expected plugin outputs are easier to compare on one line)

from datetime import UTC, datetime

import pytest

from shared.checks import clock
from shared.checks.data import ReportData
from shared.checks.engine import run_check, summary_accumulators
from shared.checks.modes import MODES
from shared.collect.catalog import DATASETS

TB, GB, MB = 1024**4, 1024**3, 1024**2
SETTING = "Display concealed user, group, and site names in all reports"


def data(key, rows, refresh="2024-01-15", concealed=False, summaries=None):
    cols = list(DATASETS[key].columns) if key in DATASETS else list(rows[0])
    table = [tuple(r.get(c) for c in cols) for r in rows]
    return ReportData(key, refresh, cols, summaries or {}, lambda: iter(table), concealed)


def check(plugin, mode, d, options=None):
    return run_check(plugin, mode, lambda key: d, options or {})


# --- teams / skype -----------------------------------------------------------------------------------------
def teams_row(upn, period, chat=0, private=0, call=0, meeting=0):
    return {"User Principal Name": upn, "Last Activity Date": "2024-01-15", "Team Chat Message Count": chat,
            "Private Chat Message Count": private, "Call Count": call, "Meeting Count": meeting, "Report Period": period}  # fmt: skip


TEAMS = [teams_row("a@c.com", 7), teams_row("b@c.com", 7), teams_row("c@c.com", 7),
         teams_row("a@c.com", 1, 4, 2, 1, 3), teams_row("b@c.com", 1, 6, 1, 0, 2)]  # fmt: skip


def test_teams_users_activity_both_label_styles():
    r = check("teams", "users-activity", data("teams_user_activity", TEAMS))
    assert r.text() == (
        "OK: Active users on 2024-01-15 : 2/3 (66.67%) - Total Team Chat Message Count: 10, Private Chat Message "
        "Count: 3, Call Count: 1, Meeting Count: 5 | 'perfdate'=1705320000;;;; 'active_users'=2users;;;0;3 "
        "'total_team_chat'=10;;;0; 'total_private_chat'=3;;;0; 'total_call'=1;;;0; 'total_meeting'=5;;;0;\n"
    )
    r = check("cloud::microsoft::office365::teams::plugin", "users-activity", data("teams_user_activity", TEAMS),
              {"use-new-perfdata": "1", "filter-counters": "", "warning-instance-teams-users-call-count": "0"})  # fmt: skip
    assert r.short == "WARNING: User 'a@c.com' Call Count: 1 "
    text = r.text()
    assert "'teams.users.active.count'=2users;;;0;3 'teams.users.messages.team.total.count'=10;;;0;" in text
    assert "'a@c.com#teams.users.call.count'=1;0:0;;0;" in text


def devices_row(upn, period, *yes):
    cols = ("Used Windows", "Used iPad", "Used iPhone", "Used Android Phone", "Used Windows Phone")
    return {"User Principal Name": upn, "Report Period": period, **{c: "Yes" if c in yes else "No" for c in cols}}


def test_skype_devices_usage_seed_example():
    rows = [devices_row("a@c.com", 7, "Used Windows")]
    r = check("skype", "devices-usage", data("skype_device_usage", rows, "2020-09-27"))
    assert r.text() == (
        "OK: Active devices on 2020-09-27 : 0/1 (0.00%) - Users count by device type : Windows: 0, iPad: 0, "
        "iPhone: 0, Android Phone: 0, Windows Phone: 0 | 'perfdate'=1601208000;;;; 'active_devices'=0devices;;;0;1 "
        "'windows'=0;;;0; 'ipad'=0;;;0; 'iphone'=0;;;0; 'android_phone'=0;;;0; 'windows_phone'=0;;;0;\n"
    )
    new = check("skype", "devices-usage", data("skype_device_usage", rows), {"use-new-perfdata": "1"}).text()
    assert "'skype.devices.active.count'=0devices;;;0;1 'skype.devices.windows.count'=0;;;0;" in new


def test_teams_devices_usage_counts_yes_cells():
    def row(period, *yes):
        cols = ("Used Windows", "Used Mac", "Used Web", "Used iOS", "Used Android Phone", "Used Windows Phone")
        return {"User Principal Name": "a", "Report Period": period, **{c: "Yes" if c in yes else "No" for c in cols}}

    rows = [row(7, "Used Windows", "Used iOS"), row(1, "Used Windows", "Used iOS")]
    r = check("teams", "devices-usage", data("teams_device_usage", rows), {"critical-ios": "0"})
    assert r.short == "CRITICAL: Users count by device type : iOS: 1 "
    assert "'active_devices'=2devices;;;0;2 'windows'=1;;;0; 'mac'=0;;;0;" in r.text()


def test_skype_users_activity():
    rows = [{"User Principal Name": "a", "Report Period": 7}, {"User Principal Name": "a", "Report Period": 1,
             "Total Peer-to-peer Session Count": 3, "Total Organized Conference Count": 1, "Total Participated Conference Count": 2}]  # fmt: skip
    r = check("skype", "users-activity", data("skype_user_activity", rows))
    assert r.short == (
        "OK: Active users on 2024-01-15 : 1/1 (100.00%) - Total Peer-to-peer Sessions Count: 3, "
        "Organized Conference Count: 1, Participated Conference Count: 2 "
    )
    assert "'total_peer_to_peer_sessions'=3;;;0;" in r.text()


# --- onedrive / sharepoint ---------------------------------------------------------------------------------
def site(url, last, used, period, sid="id-1", owner="Ann", files=1200, active=5):
    return {"Site URL": url, "Owner Display Name": owner, "Last Activity Date": last, "Storage Used (Byte)": used,
            "Storage Allocated (Byte)": TB, "File Count": files, "Active File Count": active, "Report Period": period,
            "Site Id": sid, "Visited Page Count": 3, "Page View Count": 9}  # fmt: skip


ANN, BOB = "https://c-my.sharepoint.com/personal/ann", "https://c-my.sharepoint.com/personal/bob"
SITES = [site(ANN, "2024-01-15", 5 * GB, 7), site(BOB, "2024-01-02", MB, 7, "id-2", "Bob", 10, 0),
         site(ANN, "2024-01-15", 5 * GB, 1)]  # fmt: skip
SITE_LINE = f"Site '{ANN}' [Owner: Ann] Total: 1.00 TB Used: 5.00 GB (0.49%) Free: 1019.00 GB (99.51%), File Count: 1200, Active File Count: 5"  # fmt: skip


def test_onedrive_site_usage_reference_example():
    r = check("onedrive", "site-usage", data("onedrive_usage", SITES))
    assert r.text() == (
        "OK: Active sites on 2024-01-15 : 1/2 (50.00%) - Total Usage (active sites): 5.00 GB, Usage (inactive "
        "sites): 1.00 MB, File Count (active sites): 1200, File Count (inactive sites): 10, Active File Count "
        "(active sites): 5 | 'perfdate'=1705320000;;;; 'active_sites'=1sites;;;0;2 'total_usage_active'=5368709120B;;;0; "
        "'total_usage_inactive'=1048576B;;;0; 'total_file_count_active'=1200;;;0; 'total_file_count_inactive'=10;;;0; "
        "'total_active_file_count'=5;;;0;\n"
    )
    r = check("onedrive", "site-usage", data("onedrive_usage", SITES), {"filter-counters": "", "verbose": "1"})
    assert r.short.endswith(" - " + SITE_LINE + " ")
    assert r.long_lines == [SITE_LINE]
    assert "'used'=5368709120B;;;0;1099511627776 'file_count'=1200;;;0; 'active_file_count'=5;;;0;" in r.text()


def test_site_usage_thresholds_percent_bytes_free():
    d = data("onedrive_usage", SITES)
    r = check("onedrive", "site-usage", d, {"filter-counters": "usage", "warning-usage": "0.1"})
    assert (
        r.short == f"WARNING: Site '{ANN}' [Owner: Ann] Total: 1.00 TB Used: 5.00 GB (0.49%) Free: 1019.00 GB (99.51%) "
    )
    assert "'used'=5368709120B;0:1099511627;;0;1099511627776" in r.text()  # % of the allocation, cast to int
    assert (
        check(
            "onedrive", "site-usage", d, {"filter-counters": "usage", "units": "count", "warning-usage": "6GB"}
        ).status
        == "OK"
    )
    assert (
        check(
            "onedrive", "site-usage", d, {"filter-counters": "usage", "units": "count", "warning-usage": "4GB"}
        ).status
        == "WARNING"
    )
    assert (
        check("onedrive", "site-usage", d, {"filter-counters": "usage", "free": "1", "critical-usage": "99.6:"}).status
        == "CRITICAL"
    )
    assert check("onedrive", "site-usage", d, {"filter-owner": "Bob"}).short.startswith(
        "OK: Active sites on 2024-01-15 : 0/1"
    )


def test_sharepoint_site_usage_new_perfdata_and_pseudonymize():
    d = data("sharepoint_usage", SITES)
    r = check("sharepoint", "site-usage", d, {"filter-counters": "", "use-new-perfdata": "1", "filter-id": "id-1"})
    assert r.short.endswith(f"- Site '{ANN}' [ID: id-1] Total: 1.00 TB Used: 5.00 GB (0.49%) Free: 1019.00 GB (99.51%), File Count: 1200, Active File Count: 5, Visited Page Count: 3, Page View Count: 9 ")  # fmt: skip
    assert "Visited Page Count (active sites): 3, Page View Count (active sites): 9" in r.short
    assert f"'{ANN}#sharepoint.sites.usage.bytes'=5368709120B;;;0;1099511627776" in r.text()
    assert "'sharepoint.sites.pages.viewed.total.count'=9;;;0;" in r.text()
    hashed = [site("5F2A...", "2024-01-15", GB, 7, "id-7"), site("5F2A...", "2024-01-15", GB, 1, "id-7")]
    observed = "UNKNOWN: reports pseudonymize user-level information is enabled. use option --use-pseudonymize or disable it \n"
    assert check("sharepoint", "site-usage", data("sharepoint_usage", hashed)).text() == observed
    assert check("sharepoint", "list-sites", data("sharepoint_usage", hashed)).text() == observed
    # a concealed snapshot gives the same answer, even on the summary fast path
    assert check("sharepoint", "site-usage", data("sharepoint_usage", SITES, concealed=True)).text() == observed
    r = check(
        "sharepoint", "site-usage", data("sharepoint_usage", hashed), {"use-pseudonymize": "1", "filter-counters": ""}
    )
    assert r.short.endswith("- Site '5F2A...' [ID: id-7] Total: 1.00 TB Used: 1.00 GB (0.10%) Free: 1023.00 GB (99.90%), File Count: 1200, Active File Count: 5, Visited Page Count: 3, Page View Count: 9 ")  # fmt: skip


def test_users_activity_onedrive_and_sharepoint():
    rows = [{"User Principal Name": "a", "Report Period": 7}, {"User Principal Name": "a", "Report Period": 1,
             "Viewed Or Edited File Count": 4, "Synced File Count": 3, "Shared Internally File Count": 2,
             "Shared Externally File Count": 1, "Visited Page Count": 7}]  # fmt: skip
    r = check("onedrive", "users-activity", data("onedrive_activity", rows))
    assert r.short == (
        "OK: Active users on 2024-01-15 : 1/1 (100.00%) - Total (active sites) Viewed or Edited File Count: 4, "
        "Synced File Count: 3, Shared Internally File Count: 2, Shared Externally File Count: 1 "
    )
    r = check("sharepoint", "users-activity", data("sharepoint_activity", rows), {"use-new-perfdata": "1"})
    assert r.short.endswith("Shared Externally File Count: 1, Visited Page Count (active sites): 7 ")
    assert "'sharepoint.users.pages.visited.total.count'=7;;;0;" in r.text()


def test_list_sites():
    r = check("onedrive", "list-sites", data("onedrive_usage", SITES))
    assert r.text() == f"List sites:  \n[owner = Ann] [url = {ANN}]\n[owner = Bob] [url = {BOB}]\n"
    r = check("sharepoint", "list-sites", data("sharepoint_usage", SITES), {"filter-url": "bob"})
    assert r.long_lines == [f"[id: id-2] [url: {BOB}]"]


def test_onedrive_list_sites_does_not_collapse_without_site_id():
    rows = [dict(s, **{"Site Id": None}) for s in SITES]
    assert len(check("onedrive", "list-sites", data("onedrive_usage", rows)).long_lines) == 2


@pytest.mark.parametrize(
    ("plugin", "mode", "report", "options"),
    [
        ("exchange", "email-activity", "email_activity", {"filter-user": "alice"}),
        ("exchange", "mailbox-usage", "mailbox_usage", {"filter-counters": ""}),
        ("teams", "users-activity", "teams_user_activity", {"filter-counters": ""}),
        ("teams", "devices-usage", "teams_device_usage", {"filter-user": "a"}),
        ("skype", "users-activity", "skype_user_activity", {"filter-user": "a"}),
        ("onedrive", "site-usage", "onedrive_usage", {"filter-owner": "Ann"}),
        ("onedrive", "users-activity", "onedrive_activity", {"filter-counters": ""}),
        ("onedrive", "list-sites", "onedrive_usage", {}),
        ("sharepoint", "users-activity", "sharepoint_activity", {"filter-user": "a"}),
    ],
)
def test_concealed_names_answer_names_the_setting(plugin, mode, report, options):
    r = check(plugin, mode, data(report, [{"Report Period": 7}], concealed=True), options)
    assert r.status == "UNKNOWN" and r.exit_code == 3
    assert SETTING in r.short and "PATCH /admin/reportSettings" in r.short and report in r.short
    # without names, a concealed report still answers (totals do not need names)
    if options and mode != "list-sites" and "filter-counters" not in options:
        assert check(plugin, mode, data(report, [{"Report Period": 7}], concealed=True)).status == "OK"


# --- azuread -----------------------------------------------------------------------------------------------
def test_directory_size_usage():
    d = data("organization", [{"directory_used": 45, "directory_total": 300000}])
    r = check("azuread", "directory-size-usage", d)
    assert r.text() == "OK: Directory size usage : 45/300000 (0.01%) | 'azure.ad.directory.usage.count'=45;;;0;300000\n"
    r = check("azuread", "directory-size-usage", d, {"units": "count", "warning-usage": "40"})
    assert (
        r.text()
        == "WARNING: Directory size usage : 45/300000 (0.01%) | 'azure.ad.directory.usage.count'=45;0:40;;0;300000\n"
    )
    r = check("azuread", "directory-size-usage", d, {"critical-usage": "0.001"})
    assert "'azure.ad.directory.usage.count'=45;;0:3;0;300000" in r.text() and r.status == "CRITICAL"
    assert (
        check("azuread", "directory-size-usage", data("organization", [], summaries={})).short
        == "UNKNOWN: No organization found. "
    )


# --- management: service-status (upstream robot cases, observed output, bug fixes) -------------------------
def health_row(service_id, service, status, issue_id="", classification="", title="", resolved=False):
    return {"service_id": service_id, "service": service, "status": status, "issue_id": issue_id,
            "classification": classification, "title": title, "start": "2025-09-30T07:15:00Z" if issue_id else "",
            "end": "", "last_modified": "", "issue_status": status if issue_id else "", "is_resolved": resolved,
            "feature": "", "feature_group": "", "impact": ""}  # fmt: skip


UPSTREAM_MOCK = [
    health_row("Exchange", "Exchange Online", "serviceRestored"),
    health_row("Teams", "Microsoft Teams", "serviceDegradation", "ABCDEF-01", "Incident", " 😀 漢 with special fields"),
    health_row("Teams", "Microsoft Teams", "serviceDegradation", "ABCDEF-02", "advisory", "un deuxieme"),
    health_row("POIUYT", "SharePoint Online", "serviceOperational"),
]


def services(options=None, rows=UPSTREAM_MOCK):
    return check(
        "cloud::microsoft::office365::management::plugin", "service-status", data("service_health", rows, ""), options
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, r"^CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation'"),
        ({"warning-status": "%{status} =~ /serviceDegradation/i", "critical-status": ""},
         r"^WARNING: Service 'Microsoft Teams' status is 'serviceDegradation'"),
        ({"include-service-name": "SharePoint"}, r"OK: Service 'SharePoint Online' status is 'serviceOperational'"),
        ({"exclude-service-name": "Teams"}, r"OK: All services are ok"),
        ({"include-classification": "Unknown"}, r"UNKNOWN: No services found."),
        ({"exclude-classification": "Incident"},
         r"CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' \[issue: advisory, ABCDEF-02, 2025-09-30T07:15:00Z, un deuxieme\]"),
    ],
)  # fmt: skip
def test_upstream_service_status_cases(options, expected):
    import re

    assert re.search(expected, services(options).text().strip())


def test_service_status_observed_output():
    assert services().text() == (
        "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, ABCDEF-01, "
        "2025-09-30T07:15:00Z,  😀 漢 with special fields] - Service 'Microsoft Teams' status is "
        "'serviceDegradation' [issue: advisory, ABCDEF-02, 2025-09-30T07:15:00Z, un deuxieme] \n"
    )
    r = services({"critical-status": "", "verbose": "1", "filter-service-name": "Exchange|SharePoint"})
    assert r.text() == (
        "OK: All services are ok \nService 'Exchange Online' status is 'serviceRestored'\n"
        "Service 'SharePoint Online' status is 'serviceOperational'\n"
    )
    r = services({"critical-status": "%{issue_id} eq 'ABCDEF-02' and %{issue_resolved} == 0 and %{issue_status} ne ''"})
    assert r.short.startswith("CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: advisory")


def test_service_with_only_resolved_issues_keeps_its_status():
    rows = [health_row("Exchange", "Exchange Online", "serviceRestored", "EX-1", "Incident", "fixed", resolved=True)]
    # Centreon: 'UNKNOWN: No services found.' (the service vanishes)
    assert services({}, rows).text() == "OK: Service 'Exchange Online' status is 'serviceRestored' \n"
    r = services({"exclude-resolved": "0", "critical-status": "%{issue_resolved} == 1"}, rows)
    assert r.short == "CRITICAL: Service 'Microsoft Teams' status".replace("Microsoft Teams", "Exchange Online") + (
        " is 'serviceRestored' [issue: Incident, EX-1, 2025-09-30T07:15:00Z, fixed] "
    )
    # all open issues excluded by classification: the service is not shown, as in Centreon
    r = services({"exclude-classification": "Incident|advisory", "include-service-name": "Teams"})
    assert r.text() == "UNKNOWN: No services found. \n"


def test_list_services_filter_name_filters():
    r = check("management", "list-services", data("service_health", UPSTREAM_MOCK, ""))
    assert r.text() == (
        "List services:  \n[service_id: Exchange] [service_name: Exchange Online]\n"
        "[service_id: POIUYT] [service_name: SharePoint Online]\n[service_id: Teams] [service_name: Microsoft Teams]\n"
    )
    r = check("management", "list-services", data("service_health", UPSTREAM_MOCK, ""), {"filter-name": "Teams"})
    assert r.long_lines == ["[service_id: Teams] [service_name: Microsoft Teams]"]  # Centreon: all three


# --- management: subscriptions ----------------------------------------------------------------------------
def sku(sku_id, part, status, enabled, consumed, warning=0):
    return {"sku_id": sku_id, "sku_part_number": part, "capability_status": status, "applies_to": "User",
            "enabled": enabled, "warning": warning, "suspended": 0, "locked_out": 0, "consumed": consumed}  # fmt: skip


def test_subscriptions():
    d = data("subscriptions", [sku("1", "ENTERPRISEPACK", "Enabled", 50, 45)], "")
    r = check("management", "subscriptions", d)
    assert r.text() == (
        "OK: Subscriptions 'ENTERPRISEPACK' capability status: enabled, usage total: 50 used: 45 (90.00%) free: 5 "
        "(10.00%) | 'ENTERPRISEPACK#subscription.usage.count'=45;;;0;50 'ENTERPRISEPACK#subscription.free.count'=5;;;0;50 "
        "'ENTERPRISEPACK#subscription.usage.percentage'=90.00%;;;0;100\n"
    )
    r = check("management", "subscriptions", d, {"warning-subscription-usage-free": "10:"})
    assert r.short == "WARNING: Subscriptions 'ENTERPRISEPACK' usage total: 50 used: 45 (90.00%) free: 5 (10.00%) "
    assert "'ENTERPRISEPACK#subscription.free.count'=5;10:;;0;50" in r.text()
    rows = [sku("1", "A", "Warning", 0, 0, 5), sku("2", "B", "Enabled", 0, 0), sku("3", "C", "Enabled", 10, 1)]
    r = check("management", "subscriptions", data("subscriptions", rows, ""), {"verbose": "1"})
    assert r.short == "WARNING: Subscriptions 'A' capability status: warning "
    assert r.long_lines[1] == "Subscriptions 'B' capability status: enabled"  # total 0: only the status
    assert (
        check("management", "subscriptions", d, {"filter-sku-part-number": "X"}).short
        == "UNKNOWN: No subscriptions found. "
    )
    r = check("management", "list-subscriptions", data("subscriptions", rows, ""))
    assert r.long_lines[0] == "[skuPartNumber: A] [capabilityStatus: warning] [appliesTo: User]"


# --- management: app-credentials -----------------------------------------------------------------------------
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def cred(app_id, app, kind, key_id, end):
    return {
        "app_id": app_id,
        "app_name": app,
        "type": kind,
        "key_id": key_id,
        "display_name": "",
        "start": "",
        "end": end,
    }


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_app_credentials(frozen):
    rows = [
        cred("1", "billing", "password", "p-1", "2029-02-06T21:24:31Z"),
        cred("1", "billing", "key", "k-1", "2025-12-01T00:00:00.123Z"),
    ]
    d = data("app_credentials", rows, "")
    r = check("management", "app-credentials", d, {"verbose": "1"})
    assert r.text() == (
        "CRITICAL: application 'billing' key credential 'k-1' status: expired | "
        "'billing~p-1#application.password.expires.seconds'=97881871s;;;0; 'billing~k-1#application.key.expires.seconds'=0s;;;0;\n"
        "checking application 'billing'\n    password credential 'p-1' status: valid, expires in 3y 1M 6d 17h 29m 10s\n"
        "    key credential 'k-1' status: expired, expires in 0\n"
    )
    r = check("management", "app-credentials", d, {"critical-key-expires": "30:", "unit": "d"})
    assert r.short == "CRITICAL: application 'billing' key credential 'k-1' status: expired, expires in 0 "
    assert (
        "'billing~p-1#application.password.expires.days'=1132d;;;0; 'billing~k-1#application.key.expires.days'=0d;;30:;0;"
        in r.text()
    )
    # #3502: a bare number is a Nagios range: 30 alerts when MORE than 30 days are left
    ok = check(
        "management", "app-credentials", d, {"unit": "d", "warning-password-expires": "30", "critical-key-status": ""}
    )
    assert ok.short == "WARNING: application 'billing' password credential 'p-1' expires in 3y 1M 6d 17h 29m 10s "
    mode = MODES[("management", "app-credentials")]
    assert "#3502" in __import__("shared.checks.modes.management", fromlist=["x"]).__doc__ and mode.name


def test_app_credentials_single_and_several_apps(frozen):
    one = data("app_credentials", [cred("1", "a", "password", "p", "2026-01-02T00:00:00Z")], "")
    assert (
        check("management", "app-credentials", one).short
        == "OK: application 'a' password credential 'p' status: valid, expires in 1d "
    )
    two = data(
        "app_credentials",
        [cred("1", "a", "password", "p", "2026-01-02T00:00:00Z"), cred("2", "b", "key", "k", "2026-01-01T01:00:00Z")],
        "",
    )
    r = check("management", "app-credentials", two, {"filter-app-name": "a|b"})
    assert r.short == "OK: All application credentials are ok "
    assert r.perfdata[1].label == "b~k#application.key.expires.seconds" and r.perfdata[1].value == 3600


# --- output options ----------------------------------------------------------------------------------------
def test_output_options():
    d = data("teams_user_activity", TEAMS)
    r = check(
        "teams",
        "users-activity",
        d,
        {"change-short-output": "Active users~Utilisateurs actifs~", "filter-perfdata": "^total_call$"},
    )
    assert (
        r.text()
        == "OK: Utilisateurs actifs on 2024-01-15 : 2/3 (66.67%) - Total Team Chat Message Count: 10, Private Chat Message Count: 3, Call Count: 1, Meeting Count: 5 | 'total_call'=1;;;0;\n"
    )
    r = check(
        "teams", "users-activity", d, {"change-short-output": "(\\d+)/(\\d+)~$2 of $1~g", "output-ignore-perfdata": "1"}
    )
    assert r.text().startswith("OK: Active users on 2024-01-15 : 3 of 2 (66.67%)") and "|" not in r.text()
    r = services({"include-classification": "Unknown", "change-exit": "unknown=critical"})
    assert (r.status, r.exit_code) == ("UNKNOWN", 2)
    r = check(
        "teams",
        "users-activity",
        d,
        {"output-json": "1", "warning-active-users": "90:", "verbose": "1", "filter-counters": "active"},
    )
    import json

    doc = json.loads(r.text())
    assert doc == {"plugin": {"name": "cloud::microsoft::office365::teams::plugin", "mode": "users-activity", "exit": "WARNING",
                              "outputs": [{"type": 1, "msg": "Active users on 2024-01-15 : 2/3 (66.67%)", "exit": "WARNING"}],
                              "perfdatas": [{"label": "perfdate", "value": 1705320000, "unit": "", "warning": "", "critical": "", "min": "", "max": ""},
                                            {"label": "active_users", "value": 2, "unit": "users", "warning": "2:", "critical": "", "min": "0", "max": "3"}]}}  # fmt: skip
    assert r.exit_code == 1


def test_collection_modes_with_or_without_summaries():
    assert summary_accumulators("service_health", list(DATASETS["service_health"].columns), "") == []
    with_summary = data("service_health", UPSTREAM_MOCK, "", summaries={"management:service-status": {"x": 1}})
    assert check("management", "service-status", with_summary).text() == services().text()
    accs = summary_accumulators("teams_user_activity", list(DATASETS["teams_user_activity"].columns), "2024-01-15")
    for values in data("teams_user_activity", TEAMS).load_rows():
        for acc in accs:
            acc.add(values)
    fast = data("teams_user_activity", [], summaries={a.mode_key: a.result() for a in accs})
    assert (
        check("teams", "users-activity", fast).text()
        == check("teams", "users-activity", data("teams_user_activity", TEAMS)).text()
    )


# --- health plugin ----------------------------------------------------------------------------------------
def status_row(report, last_success="2025-12-31T23:00:00Z", refresh="2025-12-30", status="success", error="", **kw):
    return {"report": report, "last_attempt": "2025-12-31T23:00:00Z", "last_status": status, "last_error": error,
            "last_success": last_success, "refresh_date": refresh, "collected_at": last_success, "concealed": False,
            "rows": 10, "throttled": 0, "throttle_wait_s": 0.0, **kw}  # fmt: skip


def health(mode, rows, options=None):
    return check("health", mode, data("collection_status", rows, ""), options)


def test_data_freshness(frozen):
    rows = [status_row("email_activity"), status_row("service_health", "2025-12-31T23:50:00Z", "")]
    r = health("data-freshness", rows, {"verbose": "1"})
    assert r.text() == (
        "OK: All reports are fresh | 'report_age_email_activity'=48.00h;0:72;0:120;0; "
        "'collection_age_email_activity'=1.00h;;;0; 'report_age_service_health'=0.17h;0:72;0:120;0; "
        "'collection_age_service_health'=0.17h;;;0;\n"
        "Report 'email_activity' last success: 2025-12-31T23:00:00Z, data age: 48.00 h, last collection: 1.00 h ago\n"
        "Report 'service_health' last success: 2025-12-31T23:50:00Z, data age: 0.17 h, last collection: 0.17 h ago\n"
    )
    stale = [status_row("email_activity", refresh="2025-12-26"), status_row("service_health")]
    r = health("data-freshness", stale)
    assert r.short == (
        "CRITICAL: Report 'email_activity' data age: 144.00 h WARNING: Report 'service_health' last success: "
        "2025-12-31T23:00:00Z "
    )
    r = health("data-freshness", [status_row("teams_user_activity", "", "", "failed")], {"filter-report": "teams"})
    assert r.short == "UNKNOWN: Report 'teams_user_activity' last success: never "
    assert (
        health("data-freshness", stale, {"filter-report": "nothing"}).short == "UNKNOWN: No collection status found. "
    )


def test_collection_status(frozen):
    rows = [status_row("email_activity"), status_row("mailbox_usage", status="failed", error="HTTP 403 Forbidden"),
            status_row("sharepoint_usage", concealed=True, throttled=3, throttle_wait_s=75.5)]  # fmt: skip
    r = health("collection-status", rows, {"warning-throttle-wait": "60", "warning-concealed": "%{concealed}"})
    assert r.short == (
        "CRITICAL: Report 'mailbox_usage' last collection: failed at 2025-12-31T23:00:00Z: HTTP 403 Forbidden "
        "WARNING: Report 'sharepoint_usage' throttle wait: 75.5 s, concealed names: yes "
    )
    assert r.exit_code == 2
    r = health("collection-status", rows[:1], {"use-new-perfdata": "1"})
    assert r.text() == (
        "OK: Report 'email_activity' last collection: success at 2025-12-31T23:00:00Z, throttled responses: 0, "
        "throttle wait: 0.0 s, concealed names: no | 'email_activity#o365mon.collection.throttled.count'=0;;;0; "
        "'email_activity#o365mon.collection.throttle.wait.seconds'=0.00s;;;0;\n"
    )
    assert (
        check("o365mon::health::plugin", "collection-status", data("collection_status", rows, "")).status == "CRITICAL"
    )
