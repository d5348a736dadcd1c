"""Hostile or careless check input: Centreon-faithful filters, repeated options, bounded regexes and
expressions, strict thresholds, escaped echoes, and no empty 'OK:' line."""

# ruff: noqa: E501  (expected plugin outputs are easier to compare on one line)

from __future__ import annotations

from tests.test_check_modes import health_row, services

ADVISORY_ONLY = [
    health_row("Exchange", "Exchange Online", "serviceDegradation", "EX-7", "advisory", "slow search"),
    health_row("Teams", "Microsoft Teams", "serviceDegradation", "TM-1", "Incident", "calls drop"),
    health_row("POIUYT", "SharePoint Online", "serviceOperational"),
]


# --- service-status classification filters (as Centreon) ----------------------------------------------------
def test_service_whose_only_issues_are_excluded_by_classification_is_not_shown():
    r = services({"exclude-classification": "advisory"}, ADVISORY_ONLY)
    assert r.text() == "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, TM-1, 2025-09-30T07:15:00Z, calls drop] \n"
    r = services({"exclude-classification": "advisory", "include-service-name": "Exchange"}, ADVISORY_ONLY)
    assert r.text() == "UNKNOWN: No services found. \n" and r.exit_code == 3
    r = services({"include-classification": "Incident", "verbose": "1"}, ADVISORY_ONLY)
    assert r.short == "CRITICAL: Service 'Microsoft Teams' status is 'serviceDegradation' [issue: Incident, TM-1, 2025-09-30T07:15:00Z, calls drop] "


def test_resolved_issues_still_leave_the_service_with_its_status():
    rows = [
        health_row("Exchange", "Exchange Online", "serviceRestored", "EX-1", "Incident", "fixed", resolved=True),
        health_row("Exchange", "Exchange Online", "serviceRestored", "EX-2", "advisory", "fixed", resolved=True),
    ]
    assert services({}, rows).text() == "OK: Service 'Exchange Online' status is 'serviceRestored' \n"
    assert services({"exclude-classification": "advisory"}, rows).text() == "OK: Service 'Exchange Online' status is 'serviceRestored' \n"
    # one open advisory next to a resolved incident: excluding advisories hides the service
    rows[1] = health_row("Exchange", "Exchange Online", "serviceDegradation", "EX-2", "advisory", "slow")
    assert services({"exclude-classification": "advisory"}, rows).text() == "UNKNOWN: No services found. \n"
