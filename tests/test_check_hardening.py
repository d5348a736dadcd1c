"""Hostile or careless check input: Centreon-faithful filters, repeated options, bounded regexes and
expressions, strict thresholds, escaped echoes, and no empty 'OK:' line."""

# ruff: noqa: E501  (expected plugin outputs are easier to compare on one line)

from __future__ import annotations

import pytest

from shared.checks.result import CheckError, unknown
from tests.test_check_modes import check, data, health_row, services
from tests.test_check_o365 import fake_app  # noqa: F401  (a fixture)

ADVISORY_ONLY = [
    health_row("Exchange", "Exchange Online", "serviceDegradation", "EX-7", "advisory", "slow search"),
    health_row("Teams", "Microsoft Teams", "serviceDegradation", "TM-1", "Incident", "calls drop"),
    health_row("POIUYT", "SharePoint Online", "serviceOperational"),
]


# --- service-status classification filters (as Centreon) ----------------------------------------------------
def test_service_whose_only_issues_are_excluded_by_classification_is_not_shown():
    r = services({"exclude-classification": "advisory"}, ADVISORY_ONLY)
    assert (
        r.text()
        == "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, TM-1, 2025-09-30T07:15:00Z, calls drop] \n"
    )
    r = services({"exclude-classification": "advisory", "include-service-name": "Exchange"}, ADVISORY_ONLY)
    assert r.text() == "UNKNOWN: No services found. \n" and r.exit_code == 3
    r = services({"include-classification": "Incident", "verbose": "1"}, ADVISORY_ONLY)
    assert (
        r.short
        == "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, TM-1, 2025-09-30T07:15:00Z, calls drop] "
    )


def test_resolved_issues_still_leave_the_service_with_its_status():
    rows = [
        health_row("Exchange", "Exchange Online", "serviceRestored", "EX-1", "Incident", "fixed", resolved=True),
        health_row("Exchange", "Exchange Online", "serviceRestored", "EX-2", "advisory", "fixed", resolved=True),
    ]
    assert services({}, rows).text() == "OK: Service 'Exchange Online' status is 'serviceRestored' \n"
    assert (
        services({"exclude-classification": "advisory"}, rows).text()
        == "OK: Service 'Exchange Online' status is 'serviceRestored' \n"
    )
    # one open advisory next to a resolved incident: excluding advisories hides the service
    rows[1] = health_row("Exchange", "Exchange Online", "serviceDegradation", "EX-2", "advisory", "slow")
    assert services({"exclude-classification": "advisory"}, rows).text() == "UNKNOWN: No services found. \n"


# --- thresholds strictly per the Nagios plugin guidelines ----------------------------------------------------
EMAIL = [
    {
        "User Principal Name": "alice@contoso.com",
        "Last Activity Date": "2024-01-15",
        "Send Count": 4,
        "Receive Count": 3,
        "Read Count": 10,
        "Report Period": 7,
    },
    {
        "User Principal Name": "bob@contoso.com",
        "Last Activity Date": "2024-01-10",
        "Send Count": 1,
        "Receive Count": 1,
        "Read Count": 1,
        "Report Period": 7,
    },
    {
        "User Principal Name": "alice@contoso.com",
        "Last Activity Date": "2024-01-15",
        "Send Count": 6,
        "Receive Count": 20,
        "Read Count": 10,
        "Report Period": 1,
    },
]


def email(options=None):
    return check("exchange", "email-activity", data("email_activity", EMAIL), options)


@pytest.mark.parametrize("value", ["10:5", "@", "~", "1" * 400, "1e309", "@20:3", "9" * 400 + ":", "9" * 300 + "EB"])
def test_malformed_or_impossible_thresholds_are_refused(value):
    with pytest.raises(CheckError) as err:
        email({"warning-active-users": value})
    shown = value if len(value) <= 80 else value[:80] + "..."
    assert err.value.message == f"Wrong warning-active-users threshold '{shown}'."
    assert err.value.http_status == 400


def test_valid_edge_thresholds_still_work():
    assert email({"warning-active-users": "5:5"}).status == "WARNING"  # 50 % is outside 5..5
    assert email({"critical-active-users": "~:"}).status == "OK"
    assert email({"warning-active-users": "1" * 300}).status == "OK"  # large but finite


def test_four_hundred_digit_threshold_over_http_is_a_400_with_the_reason(served_app):
    from tests.test_http_checks import get

    base, tenant = served_app
    status, headers, body = get(
        f"{base}/api/checks/exchange/email-activity?tenant={tenant}&warning-active-users={'9' * 400}"
    )
    assert (status, headers["X-Nagios-Exit-Code"]) == (400, "3")
    assert body == f"UNKNOWN: Wrong warning-active-users threshold '{'9' * 80}...'. \n"


# --- status expressions: bounded nesting, long chains without recursion ---------------------------------------
def mailboxes(options):
    rows = [{"User Principal Name": "ceo@contoso.com", "Last Activity Date": "2024-01-15", "Storage Used (Byte)": 10,
             "Issue Warning Quota (Byte)": 100, "Prohibit Send Quota (Byte)": 200, "Prohibit Send/Receive Quota (Byte)": 300,
             "Item Count": 5, "Report Period": 7}]  # fmt: skip
    return check("exchange", "mailbox-usage", data("mailbox_usage", rows), {"filter-counters": "status", **options})


def test_deeply_nested_expression_is_a_clear_unknown():
    with pytest.raises(CheckError) as err:
        mailboxes({"critical-status": "(" * 60 + "%{used} > 1" + ")" * 60})
    assert "nested deeper than 32 levels" in err.value.message and err.value.http_status == 400
    assert err.value.message.startswith("Syntax error in expression '((((")
    with pytest.raises(CheckError, match="nested deeper than 32"):
        mailboxes({"critical-status": "!" * 100 + "%{used}"})
    with pytest.raises(CheckError, match="nested deeper than 32"):
        mailboxes({"critical-status": "not " * 50 + "%{used}"})
    assert mailboxes({"critical-status": "(" * 32 + "%{used} > 1" + ")" * 32}).status == "CRITICAL"


def test_long_operator_chains_evaluate_without_recursion():
    many_or = " or ".join(["%{display} eq 'nobody'"] * 3000) + " or %{used} > 1"
    assert mailboxes({"critical-status": many_or}).status == "CRITICAL"
    many_and = " && ".join(["%{used} > 1"] * 3000) + " && %{used} > 100"
    assert mailboxes({"critical-status": many_and}).status == "OK"
    total = " + ".join(["1"] * 3000)
    assert mailboxes({"critical-status": f"{total} == 3000"}).status == "CRITICAL"
    assert mailboxes({"critical-status": "10 - 2 - 3 == 5 and 2 * 3 / 4 == 1.5 and 'b' gt 'a'"}).status == "CRITICAL"


# --- echoed request values are escaped and cut ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"warning-active-users": "5\nOK: fake|x=1"}, "Wrong warning-active-users threshold '5\\nOK: fake\\x7cx=1'."),
        ({"warning-active-users": "1\x00"}, "Wrong warning-active-users threshold '1\\x00'."),
        ({"bogus\nOK: forged|a=1": "1"}, "Unknown option: --bogus\\nOK: forged\\x7ca=1"),
        ({"filter-user": "(\n"}, "Invalid regular expression in --filter-user '(\\n': "),
        ({"float-precision": "x|y"}, "Wrong float-precision option 'x\\x7cy' (an integer from 0 to 20)."),
        ({"change-short-output": "no-tilde\r\n"}, "Wrong change-short-output option 'no-tilde\\r\\n'."),
        ({"warning-active-users": "a\\b|"}, "Wrong warning-active-users threshold 'a\\\\b\\x7c'."),
        ({"warning-active-users": "x" * 200}, "Wrong warning-active-users threshold '" + "x" * 80 + "...'."),
    ],
)
def test_request_values_echoed_in_errors_are_escaped(options, expected):
    with pytest.raises(CheckError) as err:
        email(options)
    assert err.value.message.startswith(expected)
    text = unknown(err.value.message).text()
    assert text.count("\n") == 1 and "|" not in text and "\x00" not in text


def test_expression_errors_and_unknown_modes_are_escaped():
    with pytest.raises(CheckError) as err:
        mailboxes({"critical-status": "%{used} >\n| 'x'"})
    assert "\n" not in err.value.message and "|" not in err.value.message
    with pytest.raises(CheckError) as err:
        mailboxes({"critical-status": "%{no\nbody} > 1"})
    assert err.value.message.startswith("Unknown variable '%{no\\nbody}' in --critical-status")
    with pytest.raises(CheckError) as err:
        check("exchange", "mode\n|x", data("email_activity", EMAIL))
    assert err.value.message == "Unknown mode 'mode\\n\\x7cx' for plugin 'exchange'." and err.value.http_status == 404
    # the whole UNKNOWN line is one line even when a message comes from elsewhere (a tenant name, say)
    assert unknown("unknown tenant 'a\nOK: b|c=1'").text() == "UNKNOWN: unknown tenant 'a\\nOK: b\\x7cc=1' \n"


def test_change_short_output_cannot_forge_lines():
    r = email({"change-short-output": "Active~\nCRITICAL: forged\x00~"})
    assert r.text().count("\n") == 1 and r.short.startswith("OK: \\nCRITICAL: forged\\x00 users on")


# --- units and float-precision --------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["bogus", "percent", "%%", "Count"])
def test_unknown_units_refused(value):
    with pytest.raises(CheckError) as err:
        email({"units": value})
    assert err.value.message == f"Wrong units option '{value}' (use '%' or 'count')." and err.value.http_status == 400


def test_known_units_still_work():
    assert email({"units": "count", "warning-active-users": "2:"}).status == "WARNING"
    assert email({"units": "%", "warning-active-users": "60:"}).status == "WARNING"


@pytest.mark.parametrize("value", ["-1", "21", "2.5", "1e3", "999999999999", "abc"])
def test_absurd_float_precision_refused(value):
    with pytest.raises(CheckError) as err:
        email({"float-precision": value})
    assert err.value.message == f"Wrong float-precision option '{value}' (an integer from 0 to 20)."


def test_float_precision_in_range_still_works():
    assert email({"float-precision": "0", "warning-active-users": "49.6:"}).status == "OK"  # 50 >= 50
    assert email({"float-precision": "20"}).status == "OK"


def test_concealed_names_message_says_per_mailbox():
    rows = [
        {
            "User Principal Name": "5F2A",
            "Last Activity Date": "2024-01-15",
            "Storage Used (Byte)": 1,
            "Report Period": 7,
        }
    ]
    r = check("exchange", "mailbox-usage", data("mailbox_usage", rows, concealed=True), {"filter-counters": ""})
    assert "the per-mailbox counters cannot work" in r.short and "mailboxe " not in r.short
    r = check("exchange", "email-activity", data("email_activity", EMAIL, concealed=True), {"filter-counters": ""})
    assert "the per-user counters cannot work" in r.short


# --- repeated options: the last value wins (Getopt::Long), over HTTP, the CLI and check_o365 -----------------
def test_repeated_options_over_http_last_value_wins(served_app):
    from tests.test_http_checks import get

    base, tenant = served_app
    url = f"{base}/api/checks/exchange/email-activity?tenant=nobody.example&tenant={tenant}"
    status, headers, body = get(url + "&warning-active-users=90:&warning-active-users=10:")
    assert (status, headers["X-Nagios-Exit-Code"]) == (200, "0") and body.startswith(
        "OK: Active users on 2024-01-15 : 2/3"
    )
    status, headers, body = get(url + "&warning-active-users=10:&warning-active-users=90:")
    assert headers["X-Nagios-Exit-Code"] == "1" and body.startswith("WARNING: Active users")
    # an option and its nlabel alias: the one given last wins, wherever the first occurrence was
    aliases = "&use-new-perfdata=1&warning-total-send-count=1&warning-exchange-users-emails-sent-total-count=5&warning-total-send-count=50"
    status, headers, body = get(url + aliases)
    assert headers["X-Nagios-Exit-Code"] == "0", body
    assert get(f"{base}/api/checks/exchange/email-activity?tenant={tenant}&tenant=nobody.example")[0] == 404


def test_repeated_options_on_the_cli_last_value_wins():
    from shared.cli.main import parse_check_args

    plugin, mode, options = parse_check_args(
        ["exchange", "email-activity", "--tenant=a", "--warning-total-send-count=1",
         "--warning-exchange-users-emails-sent-total-count", "5", "--tenant", "b", "--warning-total-send-count=50"]
    )  # fmt: skip
    assert (plugin, mode, options["tenant"]) == ("exchange", "email-activity", "b")
    assert list(options) == ["warning-exchange-users-emails-sent-total-count", "tenant", "warning-total-send-count"]
    settings_value = check("exchange", "email-activity", data("email_activity", EMAIL),
                           {"use-new-perfdata": "1", **{k: v for k, v in options.items() if k != "tenant"}})  # fmt: skip
    assert settings_value.status == "OK"


def test_check_o365_sends_the_last_value_of_a_repeated_option(fake_app):  # noqa: F811
    from tests.test_check_o365 import run_plugin

    code, out, _ = run_plugin(f"--url={fake_app.url}", "exchange", "email-activity", "--tenant=a", "--warning-x=90:",
                              "--tenant", "b", "--verbose", "--warning-x=10:")  # fmt: skip
    assert (code, out) == (0, b"OK: fake\n")
    ((path, _),) = fake_app.seen
    assert path == "/api/checks/exchange/email-activity?tenant=b&verbose=1&warning-x=10%3A"


def test_check_o365_says_when_it_cuts_an_answer(fake_app):  # noqa: F811
    from tests.test_check_o365 import run_plugin

    line = b"Mailbox 'user@contoso.com' Used: 1.00 GB, Items: 12\n"
    body = b"OK: All mailboxes usage are ok | 'used'=1B;;;0;\n" + line * (17 * 1024 * 1024 // len(line))
    fake_app.reply = (200, {"X-Nagios-Exit-Code": "0"}, body)
    code, out, _ = run_plugin(f"--url={fake_app.url}", "exchange", "mailbox-usage", "--tenant=a", "--verbose")
    assert code == 0 and out.startswith(b"OK: All mailboxes usage are ok | 'used'=1B;;;0;\nMailbox ")
    assert len(out) <= 16 * 1024 * 1024 + 200
    lines = out.split(b"\n")
    assert (
        lines[-1] == b""
        and lines[-2]
        == b"check_o365: answer cut at 16 MiB, the rest was not read (narrow the check with a filter or drop --verbose)"
    )
    assert lines[-3] + b"\n" == line  # only whole lines before the note
    fake_app.reply = (200, {"X-Nagios-Exit-Code": "0"}, b"OK: " + b"x" * (17 * 1024 * 1024))
    code, out, _ = run_plugin(f"--url={fake_app.url}", "exchange", "mailbox-usage", "--tenant=a")
    assert code == 3 and out.startswith(b"UNKNOWN: the answer of http://127.0.0.1:") and b"larger than 16 MiB" in out


# --- user regexes run under the check's budget; the whole check has a deadline ------------------------------
EVIL = r"^([a-z.]+){1,50}$"  # backtracks catastrophically on 'firstname.lastname42@...' (the regex engine
# cuts '^([a-z.]+)+$' short on its own, so the outer repeat is counted here)


def tenant_of_users(tenant_id: str, count: int) -> None:
    from shared.collect.catalog import EMAIL_ACTIVITY
    from tests.support import store_snapshot

    rows = [[f"firstname.lastname{i}@contoso.com", "2024-01-15", 1, 2, 3, 7] for i in range(count)]
    rows += [[f"firstname.lastname{i}@contoso.com", "2024-01-15", 1, 2, 3, 1] for i in range(0, count, 2)]
    store_snapshot(tenant_id, EMAIL_ACTIVITY, rows, "2024-01-15")


@pytest.fixture
def five_thousand_users(storage_env, tenant_id):
    from shared.store import tenants

    tenants.add(tenants.Tenant(tenant_id, "Contoso", []))
    tenant_of_users(tenant_id, 5000)
    return tenant_id


def test_evil_filter_over_five_thousand_users_answers_unknown(five_thousand_users):
    from shared.checks.service import answer

    result, status = answer("exchange", "email-activity", {"tenant": five_thousand_users, "filter-user": EVIL})
    assert (result.exit_code, status) == (3, 200)
    assert result.text() == "UNKNOWN: filter-user: pattern took longer than 250 ms on this tenant's data \n"
    # the classic form no longer backtracks (the regex engine cuts it short): an ordinary answer
    result, _ = answer("exchange", "email-activity", {"tenant": five_thousand_users, "filter-user": r"^([a-z.]+)+$"})
    assert result.short.startswith("OK: Active users on 2024-01-15 : 0/0")


def test_fast_matches_are_free_and_slow_ones_share_one_budget(five_thousand_users, monkeypatch):
    from shared.checks import limits
    from shared.checks.perlre import compile_perl
    from shared.checks.service import answer

    monkeypatch.setenv("CHECK_REGEX_BUDGET_MS", "0")
    ok, _ = answer("exchange", "email-activity", {"tenant": five_thousand_users, "filter-user": "^first"})
    assert ok.short.startswith("OK: Active users on 2024-01-15 : 2500/5000 (50.00%)")
    result, _ = answer("exchange", "email-activity", {"tenant": five_thousand_users, "filter-user": EVIL})
    assert result.text() == "UNKNOWN: filter-user: pattern took longer than 0 ms on this tenant's data \n"

    monkeypatch.setenv("CHECK_REGEX_BUDGET_MS", "250")
    with limits.scope() as budget, pytest.raises(CheckError) as err:
        first, second = compile_perl(EVIL, what="--filter-user"), compile_perl(EVIL, what="--filter-mailbox")
        for _ in range(50):
            first.search("firstname.lastname42@contoso.com")
            second.search("firstname.lastname42@contoso.com")
    assert set(budget.regex_spent) == {"filter-user", "filter-mailbox"} and budget.regex_left <= 0
    assert err.value.message.endswith(": pattern took longer than 250 ms on this tenant's data")


def test_expression_and_change_short_output_patterns_are_budgeted(monkeypatch):
    monkeypatch.setenv("CHECK_REGEX_BUDGET_MS", "0")
    with pytest.raises(CheckError) as err:
        mailboxes({"critical-status": '"%{display}%{display}!" =~ /^([a-z@.]+){1,50}$/'})
    assert err.value.message == "critical-status: pattern took longer than 0 ms on this tenant's data"
    with pytest.raises(CheckError) as err:
        email({"change-short-output": "^([A-Za-z .:0-9-]+){1,50}$~x"})
    assert err.value.message == "change-short-output: pattern took longer than 0 ms on this tenant's data"
    assert email({"change-short-output": "Active~Busy"}).short.startswith("OK: Busy users")


def test_evil_status_expression_regex_answers_unknown():
    rows = [{"User Principal Name": f"firstname.lastname{i}@contoso.com", "Last Activity Date": "2024-01-15",
             "Storage Used (Byte)": 1, "Report Period": 7} for i in range(50)]  # fmt: skip
    with pytest.raises(CheckError) as err:
        check("exchange", "mailbox-usage", data("mailbox_usage", rows),
              {"filter-counters": "status", "critical-status": "%{display} =~ /" + EVIL + "/"})  # fmt: skip
    assert err.value.message == "critical-status: pattern took longer than 250 ms on this tenant's data"


def test_a_check_past_its_deadline_answers_unknown(five_thousand_users, monkeypatch):
    from shared.checks.service import answer

    monkeypatch.setenv("CHECK_DEADLINE_S", "0")
    result, status = answer("exchange", "email-activity", {"tenant": five_thousand_users, "filter-user": "^first"})
    assert (result.exit_code, status) == (3, 200)
    assert result.text() == "UNKNOWN: check took longer than 0 s (CHECK_DEADLINE_S): narrow it with a filter \n"
    # an unfiltered check reads the stored summary: no loop, no deadline to reach
    result, _ = answer("exchange", "email-activity", {"tenant": five_thousand_users})
    assert result.short.startswith("OK: Active users on 2024-01-15 : 2500/5000")


def test_huge_counted_repetitions_are_refused_before_compiling():
    with pytest.raises(CheckError) as err:
        email({"filter-user": "(?:a{1000}){1000}"})
    assert (
        err.value.message
        == "Invalid regular expression in --filter-user '(?:a{1000}){1000}': counted repetitions multiply to more than 100000."
    )
    assert email({"filter-user": r"^\w{1,64}@\w{2,20}\.com$"}).status == "OK"


def test_perl_regex_semantics_kept_under_the_regex_engine():
    rows = [dict(EMAIL[0]), dict(EMAIL[2]), {**EMAIL[0], "User Principal Name": "Bob.Smith@contoso.com"}]
    d = data("email_activity", rows)
    for pattern, active_total in [(r"\Qalice@\E", "1/1"), ("(?<u>alice)@", "1/1"), ("^[[:alpha:]]+\\.", "0/1"),
                                  ("(?i)^bob", "0/1"), ("contoso\\.com\\z", "1/2"), ("^(?:(?!bob).)*$", "1/2")]:  # fmt: skip
        r = check("exchange", "email-activity", d, {"filter-user": pattern})
        assert f": {active_total} (" in r.short, (pattern, r.short)


def test_patterns_without_repetition_skip_the_timeout_and_others_do_not():
    from shared.checks.perlre import translate, without_repetition

    linear = ["^ceo@", r"contoso\.com$", "alice|bob", "(?i)^bob", r"\Qa*b\E", "(?<n>a)\\k<n>", "(?<=a)b", "(a|b)@(c|d)"]
    bounded = [
        "^a*",
        "a+",
        "x{2}",
        "a?",
        "[*]",
        "(?R)",
        "(a(?1))",
        "(?(1)a|b)",
        "(a|b)(c|d)(e|f)(g|h)(i|j)(k|l)(m|n)(o|p)(q|r)",
    ]
    assert [p for p in linear if not without_repetition(translate(p))] == []
    assert [p for p in bounded if without_repetition(translate(p))] == []


# --- a check whose filters leave nothing to show never prints an empty 'OK:  ' --------------------------------
def test_filters_matching_nothing_say_so():
    r = mailboxes({"filter-mailbox": "^nobody@", "verbose": "1"})
    assert (r.text(), r.exit_code) == ("UNKNOWN: No active mailbox found (--filter-mailbox '^nobody@'). \n", 3)
    r = mailboxes({"filter-counters": "nothing"})
    assert r.text() == "UNKNOWN: No counter selected (--filter-counters 'nothing'). \n"
    r = mailboxes({"filter-counters-block": "mailboxes"})
    assert (
        r.text() == "UNKNOWN: No counter selected (--filter-counters 'status', --filter-counters-block 'mailboxes'). \n"
    )
    r = check(
        "exchange",
        "email-activity",
        data("email_activity", EMAIL),
        {"filter-user": "^x|y\n", "filter-counters": "^send"},
    )
    assert r.text() == "UNKNOWN: No active user found (--filter-user '^x\\x7cy\\n'). \n"
    # --change-exit applies to it as to any UNKNOWN of a mode
    assert mailboxes({"filter-mailbox": "^nobody@", "change-exit": "unknown=ok"}).exit_code == 0


def test_counters_that_are_shown_keep_centreon_output_when_nothing_matches():
    # Centreon's own behaviour where it has one: the active and total counters, at 0/0
    assert email({"filter-user": "^nobody"}).short == (
        "OK: Active users on 2024-01-15 : 0/0 (0.00%) - Total (active users) Send Count: 0, Receive Count: 0, Read Count: 0 "
    )
    r = check("exchange", "mailbox-usage", data("mailbox_usage", []), {})
    assert r.short.startswith("OK: Active mailboxes on 2024-01-15 : 0/0 (0.00%)")


def test_readme_example_prints_something_meaningful(storage_env, tenant_id):
    from shared.checks.service import answer
    from shared.collect.catalog import MAILBOX_USAGE
    from shared.store import tenants
    from tests.support import store_snapshot

    tenants.add(tenants.Tenant(tenant_id, "Contoso", []))
    rows = [["ceo@contoso.com", "2024-01-15", 10 * 1024**3, 49 * 1024**3, 50 * 1024**3, 100 * 1024**3, 1500, 7],
            ["cfo@contoso.com", "2024-01-02", 1024**3, 49 * 1024**3, 50 * 1024**3, 100 * 1024**3, 10, 7]]  # fmt: skip
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    options = {"tenant": tenant_id, "filter-counters": "status", "verbose": "1"}
    result, _ = answer("exchange", "mailbox-usage", {**options, "filter-mailbox": "^ceo@"})
    assert result.text() == (
        "OK: Mailbox 'ceo@contoso.com' Used: 10.00 GB Issue Warning Quota: 49.00 GB Prohibit Send Quota: 50.00 GB "
        "Prohibit Send/Receive Quota: 100.00 GB | 'used'=10737418240B;;;0;\n"
        "Mailbox 'ceo@contoso.com' Used: 10.00 GB Issue Warning Quota: 49.00 GB Prohibit Send Quota: 50.00 GB "
        "Prohibit Send/Receive Quota: 100.00 GB\n"
    )
    result, _ = answer("exchange", "mailbox-usage", {**options, "filter-mailbox": "^cfo@"})  # inactive on the date
    assert result.text() == "UNKNOWN: No active mailbox found (--filter-mailbox '^cfo@'). \n"


def test_forged_lines_over_http_come_back_escaped_with_400(served_app):
    from tests.test_http_checks import get

    base, tenant = served_app
    url = f"{base}/api/checks/exchange/email-activity?tenant={tenant}"
    status, headers, body = get(url + "&warning-active-users=5%0AOK:%20fake%7C'x'=1%00")
    assert (status, headers["X-Nagios-Exit-Code"]) == (400, "3")
    assert body == "UNKNOWN: Wrong warning-active-users threshold '5\\nOK: fake\\x7c'x'=1\\x00'. \n"
    status, _, body = get(url + "&bogus%0ACRITICAL:%20x%7Cy=1=1")
    assert (status, body) == (400, "UNKNOWN: Unknown option: --bogus\\nCRITICAL: x\\x7cy \n")
    status, _, body = get(url + "&units=bogus")
    assert (status, body) == (400, "UNKNOWN: Wrong units option 'bogus' (use '%' or 'count'). \n")
