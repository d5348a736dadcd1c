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
]
