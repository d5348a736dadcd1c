"""`make demo`: the whole product on one machine, on embedded defaults.

Starts Azurite and the Graph simulator (two sample tenants, plus one whose secret is wrong), registers the
tenants, collects, serves the function app on 127.0.0.1:7071 through the local runner, prints real check
results over HTTP and from the CLI, then keeps serving until Ctrl-C or SIGTERM and stops what it started.

With real credentials in the environment (O365_TENANT_ID, O365_CLIENT_ID and O365_CLIENT_SECRET or
O365_CLIENT_CERTIFICATE_PATH) it collects that tenant from Microsoft instead of the simulator.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools.private_file import write_private

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "demo"
PORT = int(os.environ.get("O365MON_DEMO_PORT", "7071"))
WRONG_SECRET_PREFIX = "NORTHWIND"


def write_local_settings(path: Path, values: dict[str, str]) -> Path:
    """The demo's local.settings.json: it holds the client secret, so it is owner-only from creation."""
    return write_private(path, json.dumps({"IsEncrypted": False, "Values": values}, indent=2))


def say(text: str = "") -> None:
    print(text, flush=True)


def start_simulator() -> tuple[object, list]:
    from devtools.simulator.server import AppCredential, GraphSimulator
    from devtools.simulator.tenants import SampleTenant

    sample = [SampleTenant.generate(1, 500), SampleTenant.generate(2, 2000), SampleTenant.generate(3, 50)]
    client_id = "11111111-2222-3333-4444-555555555555"
    secret = "demo-" + secrets.token_urlsafe(16)
    sim = GraphSimulator(tenants=sample, apps={client_id: AppCredential(secret=secret)}, state_dir=STATE / "sim")
    sim.start()
    os.environ.update(
        {
            "GRAPH_ENDPOINT": sim.graph_endpoint,
            "LOGIN_ENDPOINT": sim.login_endpoint,
            "O365_CA_BUNDLE": str(sim.ca_path),
            "O365_CLIENT_ID": client_id,
            "O365_CLIENT_SECRET": secret,
            # The third tenant uses its own (wrong) secret: its collection fails and is recorded.
            f"{WRONG_SECRET_PREFIX}_CLIENT_ID": client_id,
            f"{WRONG_SECRET_PREFIX}_CLIENT_SECRET": "not-the-secret",
        }
    )
    return sim, sample


def http_check(path: str, key: str, accept: str = "text/plain") -> tuple[int, str, str]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/api/checks/{path}", headers={"x-functions-key": key, "Accept": accept}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers.get("X-Nagios-Exit-Code", ""), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("X-Nagios-Exit-Code", ""), err.read().decode()


def show_http(path: str, key: str, accept: str = "text/plain") -> None:
    status, code, body = http_check(path, key, accept)
    say(f"$ curl -H 'x-functions-key: ...' 'http://127.0.0.1:{PORT}/api/checks/{path}'")
    lines = body.rstrip("\n").splitlines()
    for line in lines[:6]:
        say(f"  {line[:400]}{' ...' if len(line) > 400 else ''}")
    if len(lines) > 6:
        say(f"  ... ({len(lines) - 6} more long-output lines)")
    say(f"  -> HTTP {status}, X-Nagios-Exit-Code: {code}")
    say()


def show_brief(path: str, key: str) -> None:
    """One line per check: enough to see every plugin answer."""
    status, code, body = http_check(path, key)
    first = body.splitlines()[0] if body else ""
    say(f"  [{code or '-'}] /api/checks/{path}")
    say(f"      {first[:300]}{' ...' if len(first) > 300 else ''}")


def show_cli(args: list[str], env: dict[str, str]) -> None:
    cmd = [str(ROOT / ".venv" / "bin" / "o365mon"), "check", *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    say("$ o365mon check " + " ".join(args))
    for line in out.stdout.rstrip("\n").splitlines()[:4]:
        say(f"  {line[:400]}")
    say(f"  -> exit code {out.returncode}")
    say()


def main(argv: list[str] | None = None) -> int:
    from devtools.azurite import Azurite
    from devtools.runner import LocalRunner

    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The collector and the sync record failures as data, and the demo prints them: no second copy on stderr.
    for noisy in ("azure.identity", "o365mon.directory", "o365mon.matching"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    STATE.mkdir(parents=True, exist_ok=True)
    real = all(os.environ.get(k) for k in ("O365_TENANT_ID", "O365_CLIENT_ID")) and (
        os.environ.get("O365_CLIENT_SECRET") or os.environ.get("O365_CLIENT_CERTIFICATE_PATH")
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with Azurite() as azurite:
        os.environ["AzureWebJobsStorage"] = azurite.connection_string
        for name, default in (
            ("COLLECT_SCHEDULE", "0 0 */6 * * *"),
            ("HEALTH_SCHEDULE", "0 */5 * * * *"),
            ("SYNC_SCHEDULE", "0 0 */6 * * *"),
        ):
            os.environ.setdefault(name, default)
        say(f"Azurite on 127.0.0.1 (table port {azurite.table_port})")
        sim = itglue = None
        from shared.collect.collector import collect_all
        from shared.store import tenants

        if real:
            tenant_names = [os.environ["O365_TENANT_ID"]]
            say("Real credentials found: collecting from Microsoft Graph")
        else:
            from devtools import demo_sync

            sim, sample = start_simulator()
            say(f"Graph simulator: login {sim.login_endpoint}, graph {sim.graph_endpoint}")
            itglue = demo_sync.start_itglue()
            say(f"IT Glue simulator: {itglue.url} (DOCS_BACKEND=itglue)")
            for i, t in enumerate(sample):
                prefix = WRONG_SECRET_PREFIX if i == 2 else ""
                tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain], credential_prefix=prefix))
                note = "  (wrong secret)" if prefix else ""
                say(f"  tenant {t.display_name:10} {t.domain:22} {t.users:>6} users{note}")
            tenant_names = [t.domain for t in sample]
        try:
            say("\nCollecting (o365mon collect) ...")
            runs = asyncio.run(collect_all()) + asyncio.run(collect_all(schedule="health"))
            for run in runs:
                say(
                    f"  {run.tenant_id}: {run.status}, {run.rows} rows, {run.requests} Graph requests"
                    + (f"\n    error: {run.error[:200]}" if run.error else "")
                )
            from shared.insights import dashboard

            say("\nConsole dashboard (precomputed summaries; the pages are under /api/console/):")
            for row in dashboard.build(dashboard.Query.from_params({}))["rows"]:
                reason = f": {row['last_error'][:160]}" if row["last_run_status"] == "failed" else ""
                say(f"  {row['name']:18} worst {row['worst']:8} consent {row['consent']:8}{reason}".rstrip())
            function_key, master_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            keys_file = STATE / "keys.json"
            write_private(keys_file, json.dumps({"function_key": function_key, "master_key": master_key}))
            settings_file = STATE / "local.settings.json"
            names = [
                "AzureWebJobsStorage",
                "COLLECT_SCHEDULE",
                "HEALTH_SCHEDULE",
                "SYNC_SCHEDULE",
                "GRAPH_ENDPOINT",
                "LOGIN_ENDPOINT",
                "O365_CA_BUNDLE",
                "O365_CLIENT_ID",
                "O365_CLIENT_SECRET",
                "DOCS_BACKEND",
                "ITGLUE_API_URL",
                "ITGLUE_API_KEY",
            ]
            values = {n: os.environ[n] for n in names if n in os.environ}
            write_local_settings(settings_file, values)

            import function_app

            # dev_sign_in: the console behind the runner's stand-in for App Service Authentication.
            runner = LocalRunner(
                function_app.app,
                ROOT / "host.json",
                port=PORT,
                function_key=function_key,
                master_key=master_key,
                dev_sign_in=True,
            )
            runner.start()
            say(f"\nFunction app served on http://127.0.0.1:{PORT}/api/ (keys in {keys_file.relative_to(ROOT)})\n")
            first, second = tenant_names[0], tenant_names[-1]
            big = tenant_names[1] if len(tenant_names) > 1 else first
            say("== HTTP checks ==")
            show_http(f"exchange/email-activity?tenant={first}", function_key)
            show_http(
                f"exchange/email-activity?tenant={big}&warning-active-users=90:&critical-active-users=50:", function_key
            )
            show_http(f"exchange/mailbox-usage?tenant={first}", function_key)
            show_http(f"exchange/mailbox-usage?tenant={big}&filter-counters=status&verbose=1", function_key)
            show_http(f"exchange/email-activity?tenant={first}&use-new-perfdata=1", function_key, "application/json")
            if not real:
                show_http(f"exchange/email-activity?tenant={second}", function_key)
            show_http(f"exchange/email-activity?tenant={first}&warning-active-users=abc", function_key)
            say("== One check of each plugin (first line; [exit code]) ==")
            for path in (
                f"teams/users-activity?tenant={big}",
                f"teams/devices-usage?tenant={big}",
                f"skype/users-activity?tenant={first}",
                f"onedrive/site-usage?tenant={first}&warning-total-usage-active=1TB",
                f"sharepoint/site-usage?tenant={first}",
                f"sharepoint/list-sites?tenant={first}",
                f"azuread/directory-size-usage?tenant={first}&warning-usage=80",
                f"management/service-status?tenant={first}",
                f"management/service-status?tenant={first}&exclude-classification=advisory",
                f"management/subscriptions?tenant={first}",
                f"management/app-credentials?tenant={first}&unit=d&warning-password-expires=30:",
                f"health/data-freshness?tenant={first}",
                f"health/collection-status?tenant={second}",
                "management/service-status?tenant=*",
            ):
                show_brief(path, function_key)
            say()
            say("== check_o365 (the poller plugin) with Centreon's command line ==")
            key_env = dict(os.environ, O365MON_FUNCTION_KEY=function_key)
            cmd = [
                sys.executable,
                str(ROOT / "pollers" / "check_o365"),
                f"--url=http://127.0.0.1:{PORT}",
                "--plugin=cloud::microsoft::office365::management::plugin",
                "--mode=subscriptions",
                f"--tenant={first}",
                "--client-secret=ignored",
                "--warning-subscription-usage-prct=90",
            ]
            out = subprocess.run(cmd, env=key_env, capture_output=True, text=True, timeout=60)
            say("$ check_o365 " + " ".join(cmd[2:]))
            say(f"  {out.stdout.splitlines()[0][:300] if out.stdout else out.stderr.strip()}")
            say(f"  -> exit code {out.returncode}")
            say()
            if itglue is not None:
                say("== Directory sync and contact matching into IT Glue (its API, simulated) ==")
                demo_sync.run(say, [t.tenant_id for t in sample], itglue)
                say()
            say("== CLI checks (Centreon's command line, stored data) ==")
            env = dict(os.environ, O365MON_LOCAL_SETTINGS=str(settings_file))
            show_cli(
                [
                    "--plugin=cloud::microsoft::office365::exchange::plugin",
                    "--mode=email-activity",
                    f"--tenant={first}",
                    "--client-id=ignored",
                    "--client-secret=ignored",
                    "--filter-user=^a",
                ],
                env,
            )
            show_cli(["exchange", "mailbox-usage", f"--tenant={big}", "--filter-counters=status"], env)
            say(f"First results after {time.monotonic() - started:.1f} s.")
            say(f"Still serving on http://127.0.0.1:{PORT}/api/ - in another shell:")
            say(
                f"  O365MON_LOCAL_SETTINGS={settings_file.relative_to(ROOT)} .venv/bin/o365mon check exchange "
                f"email-activity --tenant={first}"
            )
            keys_rel = keys_file.relative_to(ROOT)
            read_key = f'python3 -c \'import json;print(json.load(open("{keys_rel}"))["function_key"])\''
            say(
                f'  curl -H "x-functions-key: $({read_key})" '
                f"'http://127.0.0.1:{PORT}/api/checks/exchange/email-activity?tenant={first}'"
            )
            say(f"Console: http://127.0.0.1:{PORT}/api/console/review (review; dashboard at /api/console/)")
            say(
                f"  dev sign-in (pick a name and reader or admin): http://127.0.0.1:{PORT}/.auth/login/dev"
                "?post_login_redirect_uri=/api/console/review"
            )
            say("Ctrl-C to stop.")
            if os.environ.get("O365MON_DEMO_EXIT"):  # used by tests: do not wait
                stopping.set()
            try:
                while not stopping.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            runner.stop()
        finally:
            if sim is not None:
                sim.stop()
            if itglue is not None:
                itglue.stop()
    say("Stopped Azurite, the simulator and the runner.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
