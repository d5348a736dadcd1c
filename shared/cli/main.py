"""`o365mon` command line: tenants, collect, check (a Nagios plugin over the stored data), runs,
and, from a source checkout, `simulate` (Graph simulator) and `serve` (local Functions runner)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
from pathlib import Path

from shared import settings

# asyncio, the sync commands (Graph, IT Glue) and the stores are imported by the commands that use them:
# `check` runs every few minutes per service as a Nagios plugin, and its start-up is most of its time.


def parse_check_args(argv: list[str]) -> tuple[str, str, dict[str, str]]:
    """Positional `PLUGIN MODE` or Centreon's `--plugin=... --mode=...`; `--opt=value`, `--opt value`, `--flag`
    (the engine's flags take no value, as Getopt::Long booleans: `--verbose exchange` leaves the plugin)."""
    from shared.checks.options import FLAGS, MODE_FLAGS

    flags = FLAGS | MODE_FLAGS
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq:
                if name not in flags and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                    value = argv[i + 1]
                    i += 1
                else:
                    value = "1"
            options.pop(name, None)  # the last occurrence wins, in its position (Getopt::Long)
            options[name] = value
        else:
            positional.append(arg)
        i += 1
    plugin = options.pop("plugin", "") or (positional[0] if positional else "")
    mode = options.pop("mode", "") or (positional[1] if len(positional) > 1 else "")
    return plugin, mode, options


def cmd_check(argv: list[str]) -> int:
    from shared.checks.result import unknown
    from shared.checks.service import answer

    plugin, mode, options = parse_check_args(argv)
    if not plugin or not mode:
        result = unknown("usage: o365mon check PLUGIN MODE --tenant=T [--option=value ...]")
    else:
        try:
            result, _ = answer(plugin, mode, options)
        except Exception as exc:  # a plugin must always answer in Nagios form
            result = unknown(f"{type(exc).__name__}: {exc}")
    sys.stdout.write(result.text())
    if not result.text().endswith("\n"):
        sys.stdout.write("\n")
    return result.exit_code


def cmd_tenants(args: argparse.Namespace) -> int:
    from shared.store import tenants

    if args.action == "add":
        t = tenants.add(
            tenants.Tenant(
                tenant_id=args.tenant_id,
                display_name=args.name or "",
                domains=[d for d in (args.domain or []) if d],
                credential_prefix=args.credential_prefix or "",
            )
        )
        print(f"tenant {t.tenant_id} added" + (f" ({', '.join(t.domains)})" if t.domains else ""))
    elif args.action == "discover":
        return _discover(args)
    elif args.action in ("disable", "enable"):
        t = tenants.set_enabled(args.tenant_id, args.action == "enable")
        print(f"tenant {t.tenant_id} {args.action}d")
    else:
        for t in tenants.list_all():
            state = "enabled" if t.enabled else "disabled"
            source = f"  ({t.source})" if t.source else ""
            source += f"  (removed {t.removed})" if t.removed else ""
            source += _consent_note(t.tenant_id)
            domains = ", ".join(t.all_domains) or "-"
            print(f"{t.tenant_id}  {state:8}  {t.name or '-'}  {domains}{source}")
    return 0


# The reason graph.describe_error records when Entra ID refuses a token for want of admin consent.
_NO_CONSENT = re.compile(r"has no admin consent in this tenant \((AADSTS\d+)\).*? at (\S+adminconsent\S*)")


def _consent_note(tenant_id: str) -> str:
    """`(no admin consent: <url>)` when the tenant's latest collection run failed for that reason."""
    from shared.store import runs

    latest = runs.recent(tenant_id, 1)
    match = _NO_CONSENT.search(str(latest[0].get("Error") or "")) if latest else None
    return f"  (no admin consent: {match.group(2).rstrip('.;,)')})" if match else ""


def _discover(args: argparse.Namespace) -> int:
    from shared.store import discovery

    found = discovery.discover(args.partner or "")
    for c in found:
        print(f"{c.tenant_id}  {c.state:5}  {c.name or '-'}")
    if not args.add:
        counts = {s: sum(c.state == s for c in found) for s in (discovery.NEW, discovery.KNOWN, discovery.GONE)}
        print(
            ", ".join(f"{n} {s}" for s, n in counts.items()) + ("; --add to add the new ones" if counts["new"] else "")
        )
        return 0
    changes = discovery.apply(found, enabled=args.enabled, dry_run=args.dry_run)
    verb = "would " if args.dry_run else ""
    state = "enabled" if args.enabled else "disabled"
    for c in changes.added:
        print(f"{verb}add {c.tenant_id} ({c.name or '-'}), {state}")
    for c in changes.removed:
        print(f"{verb}mark {c.tenant_id} ({c.name or '-'}) removed")
    for c in changes.returned:
        print(f"{verb}clear the removed mark of {c.tenant_id} ({c.name or '-'})")
    if not (changes.added or changes.removed or changes.returned):
        print("nothing to change")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    import asyncio

    from shared.collect.collector import SCHEDULES, CollectionError, collect_all

    schedules = ["health"] if args.health else [args.only] if args.only else list(SCHEDULES)
    ok = True
    for schedule in schedules:
        try:
            records = asyncio.run(collect_all(args.tenant, schedule=schedule))
        except CollectionError as exc:
            print(f"collection ({schedule}) did not start: {exc}", file=sys.stderr)
            return 1
        for r in records:
            print(
                f"{r.tenant_id} ({schedule}): {r.status}, {r.rows} rows, {r.requests} Graph requests"
                + (f", throttled {r.throttled}x" if r.throttled else "")
                + (f" - {r.error}" if r.error else "")
            )
            ok = ok and r.status == "success"
    return 0 if ok else 1


def cmd_runs(args: argparse.Namespace) -> int:
    from shared.store import runs, tenants

    tenant = tenants.resolve(args.tenant)
    for r in runs.recent(tenant.tenant_id, args.limit):
        print(
            f"{r['Started']}  {r['Status']:8} rows={r['Rows']} requests={r['Requests']}"
            + (f"  {r['Error']}" if r.get("Error") else "")
        )
    return 0


def _settings_line(path: Path | None) -> str:
    if path is not None:
        return f"o365mon: settings from {path.resolve()}"
    looked = Path(os.environ.get("O365MON_LOCAL_SETTINGS", "local.settings.json"))
    return f"o365mon: no local settings file ({looked.absolute()}): app settings from the environment"


def _devtool(module: str, argv: list[str]) -> int:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        print(f"{module} is only available in a source checkout (devtools/)", file=sys.stderr)
        return 2
    return int(mod.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # azure-identity logs each failed token request with the full response body at WARNING; the collector
    # already records the reason, once, as data.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    settings_file = settings.load_local_settings()
    if argv and argv[0] == "check":
        return cmd_check(argv[1:])
    if argv and argv[0] == "simulate":
        return _devtool("devtools.simulator.cli", argv[1:])
    if argv and argv[0] == "serve":
        return _devtool("devtools.runner", argv[1:])
    from shared.cli import sync as sync_cli

    parser = argparse.ArgumentParser(prog="o365mon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="run a check on stored data: check PLUGIN MODE --tenant=T [--option=value]")
    sub.add_parser("simulate", help="start the Graph simulator (source checkout)")
    sub.add_parser("serve", help="run the function app locally (source checkout)")
    t = sub.add_parser("tenants", help="manage monitored tenants")
    t.add_argument("action", choices=["add", "list", "disable", "enable", "discover"])
    t.add_argument("tenant_id", nargs="?", default="", help="add: a tenant id or domain; disable/enable: any name")
    t.add_argument("--name")
    t.add_argument("--domain", action="append")
    t.add_argument("--credential-prefix", help="use <PREFIX>_CLIENT_ID/_CLIENT_SECRET app settings")
    t.add_argument("--partner", help="discover: the partner tenant (default O365_TENANT_ID)")
    t.add_argument("--add", action="store_true", help="discover: add the new customers, mark the gone ones removed")
    t.add_argument("--dry-run", action="store_true", help="discover --add: print what would change, write nothing")
    t.add_argument(
        "--enabled",
        action="store_true",
        help="discover --add: add them enabled. By default they are added disabled: a new GDAP customer has "
        "often not consented to the app yet, and an enabled tenant is collected (and fails) at every round",
    )
    c = sub.add_parser("collect", help="collect every dataset now, reports and service health (every tenant, or one)")
    c.add_argument("--tenant", help="tenant id, domain or display name")
    c.add_argument(
        "--only",
        choices=["reports", "health"],
        help="reports: what the COLLECT_SCHEDULE timer collects; health: service health (the HEALTH_SCHEDULE timer)",
    )
    c.add_argument("--health", action="store_true", help=argparse.SUPPRESS)  # older spelling of --only health
    r = sub.add_parser("runs", help="recent collection runs of a tenant, newest first")
    r.add_argument("--tenant", required=True)
    r.add_argument("--limit", type=int, default=10)
    sync_cli.add_commands(sub)  # docs import|export, sync run|logs, review ...
    args = parser.parse_args(argv)
    if args.command == "tenants" and args.action not in ("list", "discover") and not args.tenant_id:
        parser.error("tenant id required")
    # Not for `check`: a Nagios plugin prints only its result.
    print(_settings_line(settings_file), file=sys.stderr)
    try:
        rc = sync_cli.handle(args)
        if rc is not None:
            return rc
        handler = {"tenants": cmd_tenants, "collect": cmd_collect, "runs": cmd_runs}[args.command]
        return handler(args)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        from shared.store.storage import StorageConfigError

        if isinstance(exc, StorageConfigError) and settings_file is None:
            print(
                "o365mon: point O365MON_LOCAL_SETTINGS at a local.settings.json "
                "(`make demo` writes .local/demo/local.settings.json) or set the storage settings",
                file=sys.stderr,
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
