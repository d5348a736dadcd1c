"""Ranges, status expressions and Perl regex translation of the check engine."""

import pytest

from shared.checks.evaluate import human_bytes, perfdate
from shared.checks.expressions import parse_expression
from shared.checks.modes import MODES, resolve
from shared.checks.perlre import compile_perl
from shared.checks.ranges import parse_range
from shared.checks.result import CheckError, CheckResult, Perfdata


@pytest.mark.parametrize(
    ("text", "ok", "alert", "perf"),
    [
        ("10", [0, 10, 5.5], [-1, 10.5, 11], "0:10"),
        ("10:", [10, 1e9], [9.99], "10:"),
        ("~:10", [-1e9, 10], [10.01], "~:10"),
        ("5:10", [5, 7, 10], [4, 11], "5:10"),
        ("@5:10", [4, 11], [5, 7, 10], "@5:10"),
        ("@10", [11, -1], [0, 10], "@0:10"),
        ("1,5", [1.5, 0], [1.6], "0:1.5"),
        ("0.5:2.25", [0.5, 2.25], [0.4, 2.26], "0.5:2.25"),
        ("+5", [5], [6], "0:5"),
        ("-5:", [-5, 0], [-6], "-5:"),
        (":7", [7], [8], "0:7"),
        (" 3 ", [3], [4], "0:3"),
        ("1KB", [1024], [1025], "0:1024"),
        ("2Kb", [2048], [2049], "0:2048"),
        ("40GB", [40 * 1024**3], [40 * 1024**3 + 1], "0:42949672960"),
        ("1MB:1TB", [1024**2, 1024**4], [1024**2 - 1], "1048576:1099511627776"),
        ("1PB", [1024**5], [1024**5 + 1], "0:1.12589990684262e+15"),  # Perl prints 1024**5 so
        ("1EB", [1024**6], [2 * 1024**6], "0:1.15292150460685e+18"),
        ("1.5KB", [1536], [1537], "0:1536"),
    ],
)
def test_range_forms(text, ok, alert, perf):
    rng = parse_range(text, "warning-x")
    assert all(not rng.alerts(v) for v in ok)
    assert all(rng.alerts(v) for v in alert)
    assert rng.perfdata() == perf


@pytest.mark.parametrize("text", ["abc", "1:2:3", "10%", "~", "@", "1kb", "5 6", "1GiB", "--5"])
def test_invalid_ranges(text):
    with pytest.raises(CheckError) as err:
        parse_range(text, "warning-total-send-count")
    assert err.value.message == f"Wrong warning-total-send-count threshold '{text}'."


def test_empty_range_is_disabled():
    assert parse_range("", "warning-x") is None


def test_range_percent_conversion():
    assert parse_range("90:", "w").perfdata(total=3, cast_int=True) == "2:"
    assert parse_range("50:90", "w").perfdata(total=3, cast_int=True) == "1:2"
    assert parse_range("@~:50", "w").perfdata(total=10, cast_int=True) == "@~:5"
    assert parse_range("90", "w").perfdata(total=3) == "0.00:2.70"


def test_range_float_precision():
    assert not parse_range("66.66666667:", "w").alerts(200 / 3)
    assert parse_range("66.666666671:", "w").alerts(200 / 3) is False  # both rounded to 8 decimals


V = {"used": 10, "quota": "20", "status": "serviceDegradation", "empty": "", "name": "Alice Smith"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("%{used} > 5", True),
        ("%{used} < 5", False),
        ("%{used} >= 10", True),
        ("%{used} <= 9.5", False),
        ("%{used} == 10.0", True),
        ("%{used} != 10", False),
        ("%{quota} > %{used}", True),  # numeric, not string, comparison
        ("'abc' == 0", True),  # Perl: non-numeric strings are 0
        ("%{empty} < %{used}", True),
        ("'12abc' == 12", True),
        ("%{status} eq 'serviceDegradation'", True),
        ('%{status} ne "serviceDegradation"', False),
        ("'b' gt 'a' and 'a' lt 'b' and 'a' le 'a' and 'a' ge 'a'", True),
        ("%{status} =~ /degradation/i", True),
        ("%{status} =~ /degradation/", False),
        ("%{status} !~ /serviceOperational|serviceRestored/i", True),
        ("%{status} =~ m{^service}", True),
        ("%{name} =~ /^alice\\s+smith$/i", True),
        ("%{name} =~ 'Smith'", True),
        ("%{used} > 5 and %{used} < 20", True),
        ("%{used} > 5 && %{used} > 20", False),
        ("%{used} > 50 or %{used} == 10", True),
        ("%{used} > 50 || %{used} == 11", False),
        ("not %{used} > 50", True),
        ("!(%{used} > 5)", False),
        ("! %{empty}", True),
        ("(%{used} > 50 or %{used} == 10) and %{status} =~ /service/", True),
        ("not 1 or 1", True),  # 'not' binds tighter than 'or'
        ("%{used} * 2 > 15 && %{used} / 2 == 5 && %{used} - 1 == 9 && %{used} + 1 == 11", True),
        ("-%{used} < 0", True),
        ('"%{status}" eq "serviceDegradation"', True),
        ("'%{name}' =~ /Alice/", True),
        ("%{status} =~ /%{status}/", True),
        ("%{used}", True),
        ("%{empty}", False),
        ("'0'", False),
    ],
)
def test_expression_operators(expr, expected):
    assert parse_expression(expr).matches(V) is expected


def test_empty_expression_is_disabled():
    assert not parse_expression("").matches(V)
    assert not parse_expression("   ").matches(V)


@pytest.mark.parametrize(
    "expr",
    [
        "%{used} >",
        "(%{used} > 1",
        "%{used} > 1)",
        "system('ls')",
        "%{used} =~ /abc",
        "'abc",
        "%{used} ; 1",
        "%{used} > > 1",
        "%{used} =~ /(/",
        "%{a",
    ],
)
def test_expression_errors(expr):
    with pytest.raises(CheckError):
        parse_expression(expr)


def test_expression_variables_checked():
    with pytest.raises(CheckError, match=r"Unknown variable '%\{nope\}' in --warning-status"):
        parse_expression("%{nope} > 1", ["used"], option="warning-status")


def test_division_by_zero():
    with pytest.raises(CheckError, match="division by zero"):
        parse_expression("%{used} / 0 > 1").matches(V)


@pytest.mark.parametrize(
    ("pattern", "flags", "text", "found"),
    [
        ("^alice", "", "alice@contoso.com", True),
        ("contoso", "", "alice@contoso.com", True),  # unanchored
        ("CONTOSO", "i", "alice@contoso.com", True),
        ("\\Qa.b\\E", "", "axb", False),
        ("\\Qa.b\\E", "", "a.b", True),
        ("com\\z", "", "x.com", True),
        ("(?<user>\\w+)@\\k<user>", "", "bob@bob", True),
        ("[[:alpha:]]+[[:digit:]]", "", "abc1", True),
        ("a\\hb", "", "a b", True),
    ],
)
def test_perl_regex(pattern, flags, text, found):
    assert (compile_perl(pattern, flags).search(text) is not None) is found


def test_perl_regex_errors():
    with pytest.raises(CheckError, match="--filter-user"):
        compile_perl("(", what="--filter-user")
    with pytest.raises(CheckError):
        compile_perl("a", "q")


def test_human_bytes():
    assert human_bytes(0) == ("0.00", "B")
    assert human_bytes("") == ("0.00", "B")
    assert human_bytes(1023) == ("1023.00", "B")
    assert human_bytes(1024) == ("1.00", "KB")
    assert human_bytes(50 * 1024**3) == ("50.00", "GB")
    assert human_bytes(3 * 1024**5) == ("3072.00", "TB")


def test_perfdate():
    assert perfdate("2024-01-15") == 1705320000
    assert perfdate("") is None
    assert perfdate("15/01/2024") is None
    assert perfdate("2024-13-01") is None


def test_result_rendering():
    r = CheckResult("WARNING", 1, "WARNING: x ", ["l1", "l2"], [Perfdata("it's", 1.5, "B", "0:1", "", "0", "")])
    assert r.text() == "WARNING: x | 'it''s'=1.5B;0:1;;0;\nl1\nl2\n"
    assert r.to_json() == {
        "status": "WARNING",
        "exit_code": 1,
        "output": "WARNING: x",
        "long_output": ["l1", "l2"],
        "perfdata": [
            {"label": "it's", "value": 1.5, "unit": "B", "warning": "0:1", "critical": "", "min": "0", "max": ""}
        ],
    }


def test_registry_aliases():
    assert resolve("exchange", "email-activity") is MODES[("exchange", "email-activity")]
    assert (
        resolve("cloud::microsoft::office365::exchange::plugin", "mailbox-usage")
        is MODES[("exchange", "mailbox-usage")]
    )
    assert resolve("exchange", "service-status") is None
