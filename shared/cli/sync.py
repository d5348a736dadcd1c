"""CLI of the contact sync: `o365mon docs import|export`, `o365mon sync run|logs`, `o365mon review ...`.

shared/cli/main.py wires it in: `add_commands(subparsers)` adds the parsers, `handle(args)` runs one of them
(returns None for a command that is not one of these).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

COMMANDS = ("docs", "sync", "review")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    from shared.matching.actions import ACTIONS

    d = subparsers.add_parser("docs", help="import or export the documentation set (organizations, contacts)")
    dsub = d.add_subparsers(dest="docs_action", required=True)
    imp = dsub.add_parser("import", help="import a JSON file, or CSV files of organizations then contacts")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--format", choices=["json", "csv"], help="default: from the file extension")
    exp = dsub.add_parser("export", help="export as JSON (organizations with contacts) or CSV (one kind)")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("--kind", choices=["organizations", "contacts"], default="contacts", help="CSV only")
    exp.add_argument("--out", type=Path, help="file to write (default: stdout)")

    s = subparsers.add_parser("sync", help="directory sync and contact matching")
    ssub = s.add_subparsers(dest="sync_action", required=True)
    run = ssub.add_parser("run", help="start a sync (enqueued; --inline runs it here, without the queue)")
    run.add_argument("--tenant", default="", help="tenant id or domain (default: every enabled tenant)")
    run.add_argument("--inline", action="store_true", help="fetch the directory and match in this process")
    logs = ssub.add_parser("logs", help="sync logs of a tenant, newest first")
    logs.add_argument("--tenant", required=True)
    logs.add_argument("--limit", type=int, default=10)
    logs.add_argument("--json", action="store_true")
    st = ssub.add_parser(
        "settings",
        help="what to sync for a tenant (subscriptions, licences, guests); without options: show it",
        description="Per tenant, as IT Glue's setup screen: whose subscriptions' users become contacts, whether "
        "licences are documented, whether guests take part. Options left out keep their value; without a tenant, "
        "list the tenants that have settings of their own.",
    )
    st.add_argument("tenant", nargs="?", default="", help="tenant id, domain or display name")
    who = st.add_mutually_exclusive_group()
    who.add_argument("--skus", help="create contacts only for users of these subscriptions: SKU part numbers or "
                     "SKU ids, comma-separated (e.g. SPE_E3,O365_BUSINESS_PREMIUM)")  # fmt: skip
    who.add_argument("--all-licensed", action="store_true", help="every licensed user (the default)")
    st.add_argument("--licences", choices=["on", "off", "default"], help="document the subscriptions as licences")
    st.add_argument(
        "--guests", choices=["on", "off", "default"], help="guests take part (default: SYNC_INCLUDE_GUESTS)"
    )
    st.add_argument("--json", action="store_true")

    r = subparsers.add_parser("review", help="review tenant/organization matches")
    rsub = r.add_subparsers(dest="review_action", required=True)
    ls = rsub.add_parser("list", help="matches by status")
    ls.add_argument("--status", choices=["matched", "suggested", "unmatched", "ambiguous", "ignored"], default="")
    ls.add_argument("--tenant", default="")
    ls.add_argument("--json", action="store_true")
    for action in ACTIONS:
        a = rsub.add_parser(action.name, aliases=list(action.aliases), help=action.help)
        a.set_defaults(review_action=action.name)
        a.add_argument("tenant")
        p = action.parameter
        if p and p.positional:
            a.add_argument(f"{p.name}_id", metavar=p.name.upper(), help=p.help)
        elif p:
            a.add_argument(f"--{p.name}", type=int if p.whole_number else str, help=p.help)
    cmp_ = rsub.add_parser("compare", help="a contact next to its Microsoft 365 user: fields that differ")
    cmp_.add_argument("tenant")
    cmp_.add_argument("contact_id")
    cmp_.add_argument("--json", action="store_true")
    link = rsub.add_parser("manage-link", help="the Microsoft 365 admin center page of a user")
    link.add_argument("user_id")


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def _docs(args: argparse.Namespace) -> int:
    from shared import docs
    from shared.docs import transfer

    if args.docs_action == "import":
        try:
            store = docs.import_store()
        except docs.ImportNotSupported as exc:
            print(str(exc), file=sys.stderr)
            return 1
        for path in args.files:
            suffix = path.suffix.lower().lstrip(".")
            fmt = args.format or (suffix if suffix in ("csv", "json") else None)
            try:
                counts = transfer.import_text(store, path.read_bytes().decode("utf-8-sig"), fmt)
            except UnicodeDecodeError as exc:
                print(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}): "
                      "save the file as UTF-8; nothing imported", file=sys.stderr)  # fmt: skip
                return 1
            except transfer.ImportError_ as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                return 1
            print(f"{path}: {counts['organizations']} organizations, {counts['contacts']} contacts")
        return 0
    reader = docs.documentation_store()
    try:
        text = transfer.export_json(reader) if args.format == "json" else transfer.export_csv(reader, args.kind)
    finally:
        docs.close(reader)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def format_log(r: dict) -> str:
    counts = " ".join(f"{k}={r[k]}" for k in ("created", "updated", "matched", "suggested", "ambiguous", "ignored"))
    line = f"{r['started']}  {r['status']:7} org={r['organization_status'] or '-'} {counts} errors={r['errors']}"
    if r.get("doc_requests"):
        line += f" requests={r['doc_requests']} throttled={r['doc_throttled']}"
        line += f" ({r['doc_throttle_wait_seconds']:g} s)" if r["doc_throttled"] else ""
    line += "".join(f"\n    ! {e}" for e in r["errors_text"])
    return line + "".join(f"\n    refused: {e}" for e in r.get("rejections", []))


_SWITCH = {"on": True, "off": False, "default": None}


def format_settings(out: dict) -> str:
    s, eff = out["settings"], out["effective"]

    def origin(key: str, setting: str) -> str:
        return "" if s[key] is not None else f" (app setting {setting})"

    skus = (
        "every licensed user (default)"
        if s["skus"] is None
        else "users of " + ", ".join(s["skus"]) + ("" if eff["sku_ids"] or not out["directory_stored"] else
                                                    " (none of them is in the tenant any more: nobody)")
    )  # fmt: skip
    lines = [
        f"tenant {out['tenant_id']}" + (f" ({out['tenant_name']})" if out["tenant_name"] else ""),
        f"  contacts for:  {skus}",
        f"  licences:      {'synced' if eff['licences'] else 'not synced'}{origin('licences', 'SYNC_LICENCES')}",
        f"  guests:        {'included' if eff['guests'] else 'skipped'}{origin('guests', 'SYNC_INCLUDE_GUESTS')}",
    ]
    if not out["directory_stored"]:
        lines.append("  subscriptions: unknown until the first directory sync")
    for sub in out["subscriptions"]:
        mark = "x" if sub["synced"] else " "
        counts = f"{sub['assigned']}/{sub['total']} assigned"
        lines.append(f"  [{mark}] {sub['sku_part_number']:28} {counts:18} {sub['sku_id']}")
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> int:
    from shared.errors import UserInputError
    from shared.matching import tenant_settings

    if not args.tenant:
        if args.skus or args.all_licensed or args.licences or args.guests:
            raise UserInputError("name the tenant whose settings change")
        rows = tenant_settings.list_all()
        for r in rows:
            skus = ",".join(r.skus) if r.skus is not None else "all-licensed"
            shown = {None: "default", True: "on", False: "off"}
            print(f"{r.tenant_id}  skus={skus} licences={shown[r.licences]} guests={shown[r.guests]}")
        if not rows:
            print("no tenant has settings of its own: the app settings apply to every tenant")
        return 0
    doc: dict = {}
    if args.skus is not None:
        doc["skus"] = [v for v in args.skus.split(",") if v.strip()]
    if args.all_licensed:
        doc["skus"] = None
    for key in ("licences", "guests"):
        if getattr(args, key) is not None:
            doc[key] = _SWITCH[getattr(args, key)]
    out = tenant_settings.change(args.tenant, doc) if doc else tenant_settings.show(args.tenant)
    if args.json:
        _print_json(out)
    else:
        print(format_settings(out))
    return 0


def _sync(args: argparse.Namespace) -> int:
    from shared.matching import review
    from shared.store import tenants

    if args.sync_action == "settings":
        return _settings(args)
    if args.sync_action == "logs":
        rows = review.logs(args.tenant, args.limit)
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(format_log(r))
        return 0
    if not args.inline:
        out = review.manual_sync(args.tenant)
        print(f"sync enqueued on {out['queue']} for {len(out['enqueued'])} tenant(s): {', '.join(out['enqueued'])}")
        return 0
    from shared.directory.sync import sync_tenant
    from shared.matching.run import handle_message

    if args.tenant:
        try:
            selected = [tenants.resolve(args.tenant)]
        except tenants.TenantError as exc:
            raise review.ReviewError(str(exc), 404) from None
    else:
        selected = [t for t in tenants.list_all() if t.enabled]
    status = 0
    for t in selected:
        info = asyncio.run(sync_tenant(t.tenant_id, "cli", enqueue=False))
        if info is None:
            print(f"{t.tenant_id}: directory sync failed (see `o365mon sync logs --tenant {t.tenant_id}`)")
            status = 1
            continue
        try:
            handle_message(json.dumps({"tenant_id": t.tenant_id, "trigger": "cli"}), queued=False)
        except Exception as exc:  # recorded in the sync log; the other tenants still run
            print(f"{t.tenant_id}: matching failed: {exc}")
            status = 1
            continue
        print(f"{t.tenant_id}: {info.users} users; " + format_log(review.logs(t.tenant_id, 1)[0]))
    return status


def _review(args: argparse.Namespace) -> int:
    from shared.matching import review

    action = args.review_action
    if action == "list":
        items = review.list_items(args.status, args.tenant)
        if args.json:
            _print_json(items)
            return 0
        for it in items:
            if it["kind"] == "organization":
                extra = it["organization_name"] or ", ".join(
                    f"{s['name']} ({s['score']:.0f})" for s in it["suggestions"]
                )
                pending = f"  [pending: {it['decision']['action']}]" if it["decision"] else ""
                print(f"{it['status']:10} {it['tenant_id']}  {it['tenant_name']}  -> {extra or '-'}{pending}")
            else:
                print(f"{'  user':10} {it['upn']}: ambiguous at {it['rule']}: {it['detail']}")
        return 0
    if action == "manage-link":
        print(review.manage_url(args.user_id))
        return 0
    if action == "compare":
        out = review.compare(args.tenant, args.contact_id)
        if args.json:
            _print_json(out)
            return 0
        c = out["contact"]
        print(f"contact {c['first_name']} {c['last_name']} ({c['id']}) <-> {out['user']['user_principal_name']}")
        for d in out["differences"] or [{"field": "(none)", "documented": "", "microsoft365": ""}]:
            print(f"  {d['field']:14} documented={d['documented']!r}  microsoft365={d['microsoft365']!r}")
        print(f"  manage: {out['manage_url']}")
        return 0
    from shared.matching.actions import find

    chosen = find(action)
    p = chosen.parameter
    value = getattr(args, f"{p.name}_id" if p.positional else p.name) if p else None
    print(chosen.summary(chosen.run(args.tenant, value)))
    return 0


def handle(args: argparse.Namespace) -> int | None:
    command = getattr(args, "command", None)
    if command not in COMMANDS:
        return None
    from shared.errors import UserInputError
    from shared.matching.review import ReviewError

    try:
        return {"docs": _docs, "sync": _sync, "review": _review}[command](args)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1 if exc.status == 400 else 3
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
