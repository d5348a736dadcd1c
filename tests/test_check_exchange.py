"""The two Exchange modes reproduced byte-for-byte from Centreon's centreon-plugins
src/cloud/microsoft/office365/exchange/mode/emailactivity.pm and mailboxusage.pm."""

import pytest

from shared.checks.data import ReportData
from shared.checks.engine import run_check, summary_accumulators
from shared.checks.result import CheckError, unknown
from shared.collect.catalog import EMAIL_ACTIVITY, MAILBOX_USAGE

EMAIL_COLS = list(EMAIL_ACTIVITY.columns)
MAILBOX_COLS = list(MAILBOX_USAGE.columns)
GB, MB = 1024**3, 1024**2


def email_row(upn, last, send, receive, read, period):
    values = {
        "User Principal Name": upn,
        "Last Activity Date": last,
        "Send Count": send,
        "Receive Count": receive,
        "Read Count": read,
        "Report Period": period,
    }
    return tuple(values[c] for c in EMAIL_COLS)


EMAIL_ROWS = [
    email_row("alice@contoso.com", "2024-01-15", 20, 40, 30, 7),
    email_row("bob@contoso.com", "2024-01-15", 5, 9, 4, 7),
    email_row("carol@contoso.com", "2024-01-09", 0, 1, 0, 7),
    email_row("alice@contoso.com", "2024-01-15", 4, 10, 7, 1),
    email_row("bob@contoso.com", "2024-01-15", 6, 13, 8, 1),
]


def mailbox_row(upn, last, used, warn, send, send_receive, items):
    values = {
        "User Principal Name": upn,
        "Last Activity Date": last,
        "Storage Used (Byte)": used,
        "Issue Warning Quota (Byte)": warn,
        "Prohibit Send Quota (Byte)": send,
        "Prohibit Send/Receive Quota (Byte)": send_receive,
        "Item Count": items,
        "Report Period": 7,
    }
    return tuple(values[c] for c in MAILBOX_COLS)


MAILBOX_ROWS = [
    mailbox_row("ann@contoso.com", "2024-01-15", 49 * GB, 49 * GB, 50 * GB, 100 * GB, 1500),
    mailbox_row("ben@contoso.com", "2024-01-15", 1 * GB, 49 * GB, 50 * GB, 100 * GB, 20),
    mailbox_row("cid@contoso.com", "2024-01-02", 2 * MB, 49 * GB, 50 * GB, 100 * GB, 3),
]


def data(report, cols, rows, refresh="2024-01-15", summaries=None, calls=None):
    def load():
        if calls is not None:
            calls.append(1)
        return iter(rows)

    return ReportData(report, refresh, cols, summaries or {}, load)


def email(options=None, rows=EMAIL_ROWS, refresh="2024-01-15"):
    d = data("email_activity", EMAIL_COLS, rows, refresh)
    return run_check("exchange", "email-activity", lambda key: d, options or {})


def mailbox(options=None, rows=MAILBOX_ROWS):
    d = data("mailbox_usage", MAILBOX_COLS, rows)
    return run_check("cloud::microsoft::office365::exchange::plugin", "mailbox-usage", lambda key: d, options or {})


OBSERVED = (
    "OK: Active users on 2024-01-15 : 2/3 (66.67%) - Total (active users) Send Count: 10, Receive Count: 23, "
    "Read Count: 15 | 'perfdate'=1705320000;;;; 'active_users'=2users;;;0;3 'total_send_count'=10;;;0; "
    "'total_receive_count'=23;;;0; 'total_read_count'=15;;;0;\n"
)


def test_email_activity_observed_output():
    r = email()
    assert r.text() == OBSERVED
    assert (r.status, r.exit_code) == ("OK", 0)
    assert r.short.endswith("Read Count: 15 ")
    assert r.to_json()["output"].endswith("Read Count: 15")


def test_active_threshold_in_percent_gives_absolute_perfdata():
    r = email({"warning-active-users": "90:"})
    assert r.text() == (
        "WARNING: Active users on 2024-01-15 : 2/3 (66.67%) | 'perfdate'=1705320000;;;; "
        "'active_users'=2users;2:;;0;3 'total_send_count'=10;;;0; 'total_receive_count'=23;;;0; "
        "'total_read_count'=15;;;0;\n"
    )
    assert r.exit_code == 1


def test_units_count():
    r = email({"units": "count", "critical-active-users": "3:"})
    assert r.short == "CRITICAL: Active users on 2024-01-15 : 2/3 (66.67%) "
    assert "'active_users'=2users;;3:;0;3" in r.text()
    assert email({"units": "count", "critical-active-users": "2:"}).status == "OK"


def test_empty_report():
    r = email(rows=[], refresh="")
    assert r.text() == (
        "OK: Active users on  : 0/0 (0.00%) - Total (active users) Send Count: 0, Receive Count: 0, "
        "Read Count: 0 | 'active_users'=0users;;;0;0 'total_send_count'=0;;;0; 'total_receive_count'=0;;;0; "
        "'total_read_count'=0;;;0;\n"
    )


def test_global_threshold_and_buckets():
    r = email({"critical-total-send-count": "5", "warning-total-read-count": "10", "warning-active-users": "90:"})
    assert r.short == (
        "CRITICAL: Total (active users) Send Count: 10, Read Count: 15 "
        "WARNING: Active users on 2024-01-15 : 2/3 (66.67%) "
    )
    assert "'total_send_count'=10;;0:5;0;" in r.text()
    assert r.exit_code == 2


def test_filter_user_applies_to_total_and_active():
    r = email({"filter-user": "^(alice|carol)"})
    assert r.short.startswith("OK: Active users on 2024-01-15 : 1/2 (50.00%) - Total (active users) Send Count: 4,")
    assert email({"filter-user": "ALICE"}).short.startswith("OK: Active users on 2024-01-15 : 0/0")


def test_single_instance_fragment_is_fixed():
    r = email({"filter-user": "alice"})
    assert r.short == (
        "OK: Active users on 2024-01-15 : 1/1 (100.00%) - Total (active users) Send Count: 4, "
        "Receive Count: 10, Read Count: 7 "
    )
    assert "User 'alice" not in r.text()


def test_single_instance_with_counters_shown():
    r = email({"filter-user": "alice", "filter-counters": ""})
    assert r.short.endswith(" - User 'alice@contoso.com' Send Count: 4, Receive Count: 10, Read Count: 7 ")
    assert "'send_count'=4;;;0;" in r.text()  # no instance suffix with a single instance


def test_verbose_and_all_ok():
    r = email({"filter-counters": "", "verbose": "1"})
    assert r.short.endswith("Read Count: 15 - All email activity are ok ")
    assert r.long_lines == [
        "User 'alice@contoso.com' Send Count: 4, Receive Count: 10, Read Count: 7",
        "User 'bob@contoso.com' Send Count: 6, Receive Count: 13, Read Count: 8",
    ]
    assert r.text().endswith(
        "'read_count_bob@contoso.com'=8;;;0;\nUser 'alice@contoso.com' Send Count: 4, Receive Count: 10, "
        "Read Count: 7\nUser 'bob@contoso.com' Send Count: 6, Receive Count: 13, Read Count: 8\n"
    )
    assert email({"filter-counters": ""}).long_lines == []


def test_instance_problem_goes_to_its_bucket():
    r = email({"filter-counters": "", "warning-send-count": "5"})
    assert r.short == "WARNING: User 'bob@contoso.com' Send Count: 6 "
    assert "'send_count_bob@contoso.com'=6;0:5;;0;" in r.text()


def test_use_new_perfdata_labels_and_nlabel_thresholds():
    r = email(
        {
            "use-new-perfdata": "1",
            "filter-counters": "",
            "warning-exchange-users-emails-sent-total-count": "5",
            "critical-instance-exchange-users-emails-sent-count": "5",
        }
    )
    text = r.text()
    assert "'exchange.users.active.count'=2users;;;0;3" in text
    assert "'exchange.users.emails.sent.total.count'=10;0:5;;0;" in text
    assert "'bob@contoso.com#exchange.users.emails.sent.count'=6;;0:5;0;" in text
    assert r.short.startswith("CRITICAL: User 'bob@contoso.com' Send Count: 6 WARNING: Total (active users)")
    # the short label form still works with --use-new-perfdata
    assert email({"use-new-perfdata": "", "warning-total-send-count": "5"}).status == "WARNING"


def test_nlabel_threshold_needs_use_new_perfdata():
    with pytest.raises(CheckError) as err:
        email({"warning-instance-exchange-users-emails-sent-count": "5"})
    assert err.value.message == "Unknown option: --warning-instance-exchange-users-emails-sent-count"


def test_unknown_option_and_mode():
    with pytest.raises(CheckError, match=r"^Unknown option: --filter-mailbox$"):
        email({"filter-mailbox": "x"})
    with pytest.raises(CheckError) as err:
        run_check("exchange", "nope", lambda k: None, {})
    assert err.value.http_status == 404
    with pytest.raises(CheckError) as err:
        run_check("teamz", "email-activity", lambda k: None, {})
    assert err.value.http_status == 404


def test_invalid_threshold_message():
    with pytest.raises(CheckError) as err:
        mailbox({"warning-total-usage-active": "abc"})
    assert err.value.message == "Wrong warning-total-usage-active threshold 'abc'."
    assert unknown(err.value.message).text() == "UNKNOWN: Wrong warning-total-usage-active threshold 'abc'. \n"
    assert unknown("x").exit_code == 3


def test_invalid_regex():
    with pytest.raises(CheckError, match="filter-user"):
        email({"filter-user": "(unclosed"})


def test_filter_perfdata_and_ignore_perfdata():
    r = email({"filter-perfdata": "send"})
    assert r.text().endswith("| 'total_send_count'=10;;;0;\n")
    r = email({"output-ignore-perfdata": "1"})
    assert r.text() == OBSERVED.split("|")[0] + "\n"
    r = email({"warning-active-users": "0:90", "range-perfdata": "1"})
    assert "'active_users'=2users;2;;0;3" in r.text()


def test_mailbox_usage_default():
    r = mailbox()
    assert r.text() == (
        "OK: Active mailboxes on 2024-01-15 : 2/3 (66.67%) - Total Usage (active mailboxes): 50.00 GB, "
        "Usage (inactive mailboxes): 2.00 MB | 'perfdate'=1705320000;;;; 'active_mailboxes'=2mailboxes;;;0;3 "
        "'total_usage_active'=53687091200B;;;0; 'total_usage_inactive'=2097152B;;;0;\n"
    )


def test_mailbox_bytes_threshold_with_suffix():
    r = mailbox({"critical-total-usage-active": "40GB"})
    assert r.short == "CRITICAL: Total Usage (active mailboxes): 50.00 GB "
    assert "'total_usage_active'=53687091200B;;0:42949672960;0;" in r.text()


def test_mailbox_status_default_expressions():
    r = mailbox({"filter-counters": "", "verbose": "1"})
    # ann is exactly at her warning quota (not above it); cid is inactive, so has no instance
    assert r.short.endswith("Usage (inactive mailboxes): 2.00 MB - All mailboxes usage are ok ")
    assert len(r.long_lines) == 2
    assert r.long_lines[0] == (
        "Mailbox 'ann@contoso.com' Used: 49.00 GB Issue Warning Quota: 49.00 GB Prohibit Send Quota: 50.00 GB "
        "Prohibit Send/Receive Quota: 100.00 GB, Items: 1500"
    )
    assert "'used_ann@contoso.com'=52613349376B;;;0; 'items_ann@contoso.com'=1500;;;0;" in r.text()
    rows = [mailbox_row("ann@contoso.com", "2024-01-15", 49 * GB + 1, 49 * GB, 50 * GB, 100 * GB, 1500)]
    single = mailbox({"filter-counters": ""}, rows)
    assert single.short.startswith("WARNING: Mailbox 'ann@contoso.com' Used: 49.00 GB")
    assert "'used'=52613349377B;;;0; 'items'=1500;;;0;" in single.text()


def test_mailbox_status_ok_and_custom():
    rows = MAILBOX_ROWS[1:]
    r = mailbox({"filter-counters": ""}, rows)
    assert r.short.endswith(
        " - Mailbox 'ben@contoso.com' Used: 1.00 GB Issue Warning Quota: 49.00 GB Prohibit Send Quota: "
        "50.00 GB Prohibit Send/Receive Quota: 100.00 GB, Items: 1500 ".replace("1500", "20")
    )
    r = mailbox(
        {
            "filter-counters": "status",
            "warning-status": "",
            "critical-status": "%{display} =~ /^ann/ && %{used} >= %{issue_warning_quota}",
        }
    )
    assert r.short.startswith("CRITICAL: Mailbox 'ann@contoso.com' Used: 49.00 GB")
    assert mailbox({"filter-counters": "status", "warning-status": "", "critical-status": ""}).short == (
        "OK: All mailboxes usage are ok "
    )


def test_mailbox_use_new_perfdata_instance_label():
    r = mailbox({"filter-counters": "", "use-new-perfdata": "1", "warning-status": ""})
    text = r.text()
    assert "'ann@contoso.com#exchange.mailboxes.usage.bytes'=52613349376B;;;0;" in text
    assert "'ann@contoso.com#exchange.mailboxes.items.count'=1500;;;0;" in text
    assert "'exchange.mailboxes.active.usage.total.bytes'=53687091200B;;;0;" in text


def test_mailbox_bad_status_expression():
    with pytest.raises(CheckError, match="Syntax error"):
        mailbox({"warning-status": "%{used} >"})
    with pytest.raises(CheckError, match="Unknown variable"):
        mailbox({"warning-status": "%{usd} > 1"})


def test_mailbox_blank_quota_is_empty_string_like_perl():
    rows = [mailbox_row("ann@contoso.com", "2024-01-15", 10, None, None, None, None)]
    r = mailbox({"filter-counters": ""}, rows)
    assert r.short == (
        "CRITICAL: Mailbox 'ann@contoso.com' Used: 10.00 B Issue Warning Quota: 0.00 B Prohibit Send Quota: "
        "0.00 B Prohibit Send/Receive Quota: 0.00 B "
    )


@pytest.mark.parametrize(
    ("mode", "report", "cols", "rows"),
    [
        ("email-activity", "email_activity", EMAIL_COLS, EMAIL_ROWS),
        ("mailbox-usage", "mailbox_usage", MAILBOX_COLS, MAILBOX_ROWS),
    ],
)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"verbose": "1"},
        {"use-new-perfdata": "1"},
        {"warning-active-users": "90:"},
        {"units": "count", "critical-active-mailboxes": "1"},
        {"filter-counters": "total"},
    ],
)
def test_fast_path_equals_fold(mode, report, cols, rows, options):
    if mode == "mailbox-usage":
        options = {k.replace("active-users", "active-mailboxes"): v for k, v in options.items()}
    else:
        options = {k: v for k, v in options.items() if not k.endswith("-active-mailboxes")}
    accs = summary_accumulators(report, cols, "2024-01-15")
    assert len(accs) == 1
    for row in rows:
        accs[0].add(row)
    summaries = {accs[0].mode_key: accs[0].result()}
    calls = []
    fast = data(report, cols, rows, summaries=summaries, calls=calls)
    slow = data(report, cols, rows)
    a = run_check("exchange", mode, lambda k: fast, options)
    b = run_check("exchange", mode, lambda k: slow, options)
    assert calls == []
    assert a.text() == b.text()


def test_filters_and_instance_counters_force_the_fold():
    accs = summary_accumulators("email_activity", EMAIL_COLS, "2024-01-15")
    for row in EMAIL_ROWS:
        accs[0].add(row)
    calls = []
    d = data("email_activity", EMAIL_COLS, EMAIL_ROWS, summaries={accs[0].mode_key: accs[0].result()}, calls=calls)
    run_check("exchange", "email-activity", lambda k: d, {"filter-user": "alice"})
    run_check("exchange", "email-activity", lambda k: d, {"filter-counters": ""})
    assert calls == [1, 1]
    assert summary_accumulators("nothing", [], "") == []
