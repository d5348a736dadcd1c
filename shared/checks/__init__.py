"""The check engine: Centreon's counter template semantics over stored Microsoft 365 usage reports.

Modes are declarative specs (shared/checks/modes/); the engine folds stored rows into metrics, judges them
against thresholds and status expressions, and renders Centreon-identical plugin output.
"""

# Centreon behaviours we deliberately do not reproduce (listed in the README).
CENTREON_BUGS_FIXED: list[str] = [
    "When exactly one instance (user, mailbox) passes the filters and its per-instance counters are hidden "
    "by --filter-counters (the default), Centreon appends an empty \"User 'x' \" / \"Mailbox 'x' \" fragment "
    "to the first line; o365mon prints nothing for an instance with no displayed counter.",
    "A Report Refresh Date shaped like YYYY-MM-DD but impossible (e.g. month 13) made Centreon die in "
    "timelocal (\"Month '-1' out of range\", issue #3059); o365mon omits the perfdate metric instead.",
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
]
