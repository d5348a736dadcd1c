"""Centreon behaviours o365mon deliberately does not reproduce: the one list, from which the README's
"Centreon bugs we fixed" section is generated (`python -m shared.checks.bugs --markdown`; a test keeps the
README equal to it).
"""

from __future__ import annotations

import sys

CENTREON_BUGS_FIXED: list[str] = [
    "When exactly one instance (user, mailbox) passes the filters and its per-instance counters are hidden "
    "by --filter-counters (the default), Centreon appends an empty \"User 'x' \" / \"Mailbox 'x' \" fragment "
    "to the first line; o365mon prints nothing for an instance with no displayed counter.",
    "A Report Refresh Date shaped like YYYY-MM-DD but impossible (e.g. month 13) made Centreon die in "
    "timelocal (\"Month '-1' out of range\", centreon-plugins issue #3059); o365mon omits the perfdate metric instead.",
    "Status expressions are parsed by a safe parser instead of Perl eval: a syntax error or an unknown "
    "%{variable} is reported up front as UNKNOWN with the position, instead of a Perl error (or a silent "
    "undefined value) at evaluation time.",
    "service-status: a service whose issues are all resolved (--exclude-resolved) vanished from Centreon's "
    "output; o365mon keeps one instance with the service status and issue fields '-' (classification filters "
    "apply to it as to a service without issues). A service whose open issues are all excluded by the "
    "classification filters is not shown, as in Centreon.",
    "Thresholds follow the Nagios plugin guidelines strictly: Centreon accepted a bare '@' and a range whose "
    "start is above its end ('10:5'), which then alerted on every value, and died on a bound too large for a "
    "double; o365mon answers 'UNKNOWN: Wrong <label> threshold '<value>'.' for each.",
    "When filters and --filter-counters left nothing to print, Centreon printed an empty 'OK: '; o365mon answers "
    "'UNKNOWN: No active mailbox found (--filter-mailbox ...).' or 'UNKNOWN: No counter selected (...).'.",
    "Centreon echoes option values as typed in its error messages, so a newline or '|' in a value forged a "
    "second line or perfdata; o365mon shows such values escaped and cut at 80 characters.",
    "list-services --filter-name was documented but filtered nothing (the code read another option); it filters.",
    "onedrive list-sites keyed its items by 'Site Id', a column the OneDrive report does not have, so every site "
    "collapsed into one line; o365mon keys them by the site URL.",
    "Concealed (hashed) names: Centreon detects them only in SharePoint site modes and silently reports hashed "
    "UPNs elsewhere; for every workload, a check that needs names (name filter, per-instance counters, list "
    "modes) on a concealed report answers UNKNOWN naming the Microsoft 365 admin center setting 'Display "
    "concealed user, group, and site names in all reports' (or Graph PATCH /admin/reportSettings).",
    "directory-size-usage died with a Perl error ('Can't use an undefined value as a HASH reference') when no "
    "organization came back; o365mon answers 'UNKNOWN: No organization found.'.",
    "service-status and subscriptions answered 'No services found.' / 'No subscriptions found.' when Graph "
    "throttled (429) the request; o365mon reads stored collections, so a throttled collection keeps the "
    "previous data and shows up in the health plugin instead.",
    "Centreon calls Graph on every check (and prints the client secret and bearer token with `--debug`); "
    "o365mon answers from stored data, so no secret or token ever reaches a poller or an output.",
    "Centreon loops forever when `healthOverviews` pages (it re-applies `$expand=issues` over the nextLink's "
    'query) and turns a 429 into "No services found."; o365mon follows nextLinks as given, refuses a repeated '
    "one, and a throttled or failed page fails that collection (recorded, previous snapshot kept) instead of "
    "yielding partial data.",
    'Connection failures and non-JSON bodies are named as what they are instead of "Cannot decode json response".',
]

README_HEADING = "### Centreon bugs we fixed (and so differ from Centreon on purpose)"


GENERATED_NOTE = "<!-- generated from shared/checks/bugs.py: python -m shared.checks.bugs --markdown -->"


def markdown() -> str:
    """The README section's body: the note that it is generated, then one bullet per bug."""
    return GENERATED_NOTE + "\n" + "".join(f"- {bug}\n" for bug in CENTREON_BUGS_FIXED)


def readme_section(readme: str) -> str:
    """The bullets under README_HEADING, up to the next heading (blank lines around them dropped)."""
    after = readme.split(README_HEADING + "\n", 1)[1]
    return after.split("\n#", 1)[0].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m shared.checks.bugs --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
