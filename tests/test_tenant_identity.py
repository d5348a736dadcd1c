"""A tenant is found by its id, by any of its verified domains and by its display name, case-insensitively,
however it was registered (`tenants add <id>`, `tenants add <domain>`, `O365_TENANT_ID` as an id or a domain),
in every place a tenant is named: checks (HTTP and CLI), collect, runs, review and sync. Real Azurite, the
Graph simulator (real azure-identity + msgraph-sdk), the real CLI."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from devtools.simulator.server import AppCredential, GraphSimulator
from devtools.simulator.tenants import SampleTenant
from shared.checks import service as check_service
from shared.checks.service import answer
from shared.cli import main as cli
from shared.cli import sync as sync_cli
from shared.collect.collector import collect_all
from shared.directory import store as directory
from shared.directory.model import DirectoryInfo, DirectoryUser
from shared.matching import review
from shared.store import runs, snapshots, tenants
from tests.support import FUNCTION_KEY, MASTER_KEY, use_simulator

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "eeeeeeee-bbbb-cccc-dddd-eeeeeeeeeeee"
SECRET = "identity~secret"
SEEDS = list(range(601, 611))


@pytest.fixture(scope="module")
def sim(graph_simulator: GraphSimulator) -> GraphSimulator:
    sample = [SampleTenant.generate(seed, 12) for seed in SEEDS]
    return graph_simulator.serve(sample, {CLIENT_ID: AppCredential(secret=SECRET)})


@pytest.fixture
def env(sim: GraphSimulator, storage_env, monkeypatch: pytest.MonkeyPatch) -> GraphSimulator:
    use_simulator(monkeypatch, sim, CLIENT_ID, SECRET)
    check_service._tenant_cache.clear()
    return sim


def sample(seed: int) -> SampleTenant:
    return SampleTenant.generate(seed, 12)


def initial(t: SampleTenant) -> str:
    return f"{t.domain.split('.', 1)[0]}.onmicrosoft.com"


def check(tenant: str, mode: str = "directory-size-usage", plugin: str = "azuread") -> str:
    result, _ = answer(plugin, mode, {"tenant": tenant})
    return result.text()


def test_a_tenant_added_by_id_alone_is_found_by_every_name_after_a_collection(env, capsys) -> None:
    t = sample(601)
    assert cli.main(["tenants", "add", t.tenant_id.upper()]) == 0
    assert check(t.domain) == f"UNKNOWN: unknown tenant '{t.domain}' \n"  # nothing knows its names yet
    (run,) = asyncio.run(collect_all(t.tenant_id, schedule="reports"))
    assert run.status == "success", run.error
    by_id = check(t.tenant_id)
    assert by_id.startswith("OK: ") or by_id.startswith("WARNING: ") or by_id.startswith("CRITICAL: ")
    for name in (t.domain, t.domain.upper(), initial(t), initial(t).title(), t.display_name, t.display_name.lower()):
        assert check(name) == by_id, name
    capsys.readouterr()
    assert cli.main(["tenants", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(t.tenant_id))
    assert f"  {t.display_name}  {t.domain}, {initial(t)}" in line and "enabled" in line


def test_shortcut_given_as_an_id_is_found_by_its_domains(env, monkeypatch) -> None:
    t = sample(602)
    monkeypatch.setenv("O365_TENANT_ID", t.tenant_id)
    assert check(t.domain) == f"UNKNOWN: unknown tenant '{t.domain}' \n"
    runs_ = asyncio.run(collect_all(schedule="reports"))
    assert [r.status for r in runs_ if r.tenant_id == t.tenant_id] == ["success"]
    by_id = check(t.tenant_id)
    assert not by_id.startswith("UNKNOWN")
    assert check(t.domain) == check(initial(t).upper()) == check(t.display_name) == by_id
    shortcut = next(x for x in tenants.list_all() if x.tenant_id == t.tenant_id)
    assert shortcut.source == tenants.SHORTCUT and shortcut.org_name == t.display_name
    monkeypatch.delenv("O365_TENANT_ID")
    check_service._tenant_cache.clear()
    # Without the setting, its stored names are no longer a tenant: nothing is collected or answered for it.
    assert t.tenant_id not in {x.tenant_id for x in tenants.list_all()}
    assert check(t.domain) == f"UNKNOWN: unknown tenant '{t.domain}' \n"


def test_shortcut_given_as_a_domain_is_stored_under_its_guid(env, monkeypatch) -> None:
    t = sample(603)
    monkeypatch.setenv("O365_TENANT_ID", initial(t))
    runs_ = asyncio.run(collect_all(initial(t), schedule="reports"))
    assert [(r.tenant_id, r.status) for r in runs_] == [(t.tenant_id, "success")]
    assert snapshots.current(t.tenant_id, "organization") is not None
    assert snapshots.current(initial(t), "organization") is None
    by_id = check(t.tenant_id)
    assert not by_id.startswith("UNKNOWN")
    for name in (initial(t), initial(t).upper(), t.domain, t.display_name):
        assert check(name) == by_id, name
    assert [r["Status"] for r in runs.recent(t.tenant_id, 5)] == ["success"]


def test_shortcut_domain_over_http_and_the_cli(env, monkeypatch) -> None:
    import function_app
    from devtools.azurite import free_port
    from devtools.runner import LocalRunner

    t = sample(604)
    monkeypatch.setenv("O365_TENANT_ID", t.domain)
    asyncio.run(collect_all(schedule="reports"))
    expected = check(t.tenant_id)
    assert not expected.startswith("UNKNOWN")
    port = free_port()
    runner = LocalRunner(
        function_app.app, ROOT / "host.json", port=port, function_key=FUNCTION_KEY, master_key=MASTER_KEY
    )
    runner.start()
    try:
        for name in (t.domain, initial(t).upper()):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/checks/azuread/directory-size-usage?tenant={name}",
                headers={"x-functions-key": FUNCTION_KEY},
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert resp.read().decode() == expected
    finally:
        runner.stop()
    cli_env = {k: os.environ[k] for k in ("AzureWebJobsStorage", "PATH", "O365_TENANT_ID", "LOGIN_ENDPOINT")}
    cli_env["O365MON_LOCAL_SETTINGS"] = os.devnull
    out = subprocess.run(
        [str(ROOT / ".venv/bin/o365mon"), "check", "azuread", "directory-size-usage", f"--tenant={initial(t)}"],
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (out.stdout, out.stderr) == (expected, "")


def test_tenants_add_finds_the_id_of_a_domain_by_oidc_discovery(env, capsys) -> None:
    t = sample(605)
    assert cli.main(["tenants", "add", initial(t).upper(), "--name", "Mine"]) == 0
    assert capsys.readouterr().out == f"tenant {t.tenant_id} added ({initial(t)})\n"
    stored = tenants.get(t.tenant_id)
    assert (stored.display_name, stored.domains) == ("Mine", [initial(t)])
    assert tenants.resolve("MINE").tenant_id == tenants.resolve(initial(t)).tenant_id == t.tenant_id
    # Entra's own answer for a domain it does not know, without its trace ids.
    assert cli.main(["tenants", "add", "nobody-here.example.com"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown tenant 'nobody-here.example.com': AADSTS90002: " in err
    assert "Tenant 'nobody-here.example.com' not found. Check to make sure" in err
    assert "Trace ID" not in err
    # Neither an id nor a domain: refused before any request.
    requests_before = len(env.request_log)
    for bad in ("not-a-guid", "a/b.com", "x.com/../y"):
        assert cli.main(["tenants", "add", bad]) == 2
        assert "tenant id must be a GUID or a domain" in capsys.readouterr().err
    assert len(env.request_log) == requests_before


def test_names_resolve_by_index_reads_not_a_scan_of_the_tenants(env, tenant_id, monkeypatch) -> None:
    tenants.add(tenants.Tenant(tenant_id, "Index Corp", [f"{tenant_id[:8]}.index.example"]))
    scanned: list[str] = []
    real_table = tenants.storage.table

    class Spy:
        def __init__(self, name: str) -> None:
            self._t = real_table(name)
            self._name = name

        def query_entities(self, query: str, **kw):
            scanned.append(f"{self._name}: {query}")
            return self._t.query_entities(query, **kw)

        def __getattr__(self, attr):
            return getattr(self._t, attr)

    tenants._ensure_index()
    monkeypatch.setattr(tenants.storage, "table", Spy)
    assert tenants.resolve(f"{tenant_id[:8]}.INDEX.example").tenant_id == tenant_id
    assert scanned == ["TenantNames: PartitionKey eq @pk"]  # then one point read of the tenant


def test_a_domain_belongs_to_the_tenant_last_given_it(storage_env, tenant_id) -> None:
    import uuid

    other = str(uuid.uuid4())
    domain = f"{tenant_id[:8]}.moved.example"
    tenants.add(tenants.Tenant(tenant_id, "First", [domain]))
    tenants.add(tenants.Tenant(other, "Second", [domain]))
    assert tenants.resolve(domain).tenant_id == other
    assert tenants.get(tenant_id).domains == []
    name = f"Same Name {tenant_id[:8]}"
    tenants.add(tenants.Tenant(tenant_id, name))
    tenants.add(tenants.Tenant(other, name))
    with pytest.raises(tenants.TenantError, match=r"ambiguous .*name it by its id or a domain"):
        tenants.resolve(name)


def test_hostile_names_are_just_unknown(storage_env) -> None:
    for name in ("a/b", "x'y or PartitionKey ne 'z", "#?\\", "é" * 600, "\x00\n"):
        result, status = answer("azuread", "directory-size-usage", {"tenant": name})
        assert (result.exit_code, status) == (3, 404), name
        assert result.text().startswith("UNKNOWN: unknown tenant '"), name


def test_collect_collects_reports_and_health_and_only_narrows(env, capsys) -> None:
    t = sample(606)
    tenants.add(tenants.Tenant(t.tenant_id))
    assert cli.main(["collect", "--tenant", t.tenant_id, "--only", "reports"]) == 0
    assert f"{t.tenant_id} (reports): success" in capsys.readouterr().out
    assert "no data collected yet" in check(t.tenant_id, "service-status", "management")
    assert cli.main(["collect", "--tenant", initial(t)]) == 0  # a new user's first command: everything
    out = capsys.readouterr().out.splitlines()
    assert [x.split(":")[0] for x in out] == [f"{t.tenant_id} (reports)", f"{t.tenant_id} (health)"]
    status = check(t.domain, "service-status", "management")
    assert not status.startswith("UNKNOWN"), status
    assert cli.main(["collect", "--tenant", t.display_name, "--only", "health"]) == 0
    assert capsys.readouterr().out.startswith(f"{t.tenant_id} (health): success")
    assert cli.main(["runs", "--tenant", t.domain.upper(), "--limit", "1"]) == 0
    assert "success" in capsys.readouterr().out


@pytest.fixture
def suggested(storage_env, tenant_id):
    """A tenant whose match is `suggested`, known by a domain and by the display name a sync stored."""
    from shared.docs import transfer
    from shared.docs.tables import TableDocumentationStore
    from shared.matching.run import handle_message

    docs = TableDocumentationStore()
    name = f"Fabrikam {tenant_id[:8]}"
    user = DirectoryUser(id="u1", given_name="Ana", surname="Silva", upn="ana@fab.com", mail="ana@fab.com")
    directory.save(DirectoryInfo(tenant_id=tenant_id, display_name=name), [user])
    org = {"id": f"o{tenant_id[:8]}", "name": f"Fabrikham {tenant_id[:8]} Inc"}
    transfer.import_json(docs, json.dumps({"organizations": [org]}))
    domain = f"{tenant_id[:8]}.fabrikam.com"
    tenants.add(tenants.Tenant(tenant_id, domains=[domain]))
    handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "test"}))
    return tenant_id, domain, name


def run_sync_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sync_cli.add_commands(parser.add_subparsers(dest="command"))
    return sync_cli.handle(parser.parse_args(list(argv)))


def test_review_and_sync_commands_name_the_monitored_tenant_by_any_name(suggested, capsys) -> None:
    tenant_id, domain, name = suggested
    assert run_sync_cli("review", "list", "--tenant", domain.upper()) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"suggested  {tenant_id}  {name}  -> Fabrikham")
    assert run_sync_cli("review", "accept", domain) == 0
    assert capsys.readouterr().out == f"{tenant_id}: accept recorded; takes effect at the next sync (enqueued)\n"
    assert run_sync_cli("review", "ignore", name.upper()) == 0  # the display name the sync stored
    assert capsys.readouterr().out.startswith(f"{tenant_id}: ignore recorded")
    assert run_sync_cli("sync", "logs", "--tenant", domain) == 0
    assert "org=suggested" in capsys.readouterr().out
    assert run_sync_cli("review", "accept", "nobody.example.com") == 3
    assert capsys.readouterr().err == "error: unknown tenant 'nobody.example.com'\n"
    assert [i["tenant_id"] for i in review.list_items(tenant_id=domain)] == [tenant_id]


def test_review_and_sync_endpoints_take_a_domain(suggested) -> None:
    import azure.functions as func

    from functions import review as http

    tenant_id, domain, _ = suggested
    req = func.HttpRequest("GET", "/api/review/items", params={"tenant": domain}, body=b"")
    assert [i["tenant_id"] for i in json.loads(http.review_items(req).get_body())] == [tenant_id]
    req = func.HttpRequest("POST", "/x", route_params={"tenant": domain, "action": "accept"}, body=b"")
    resp = http.review_action(req)
    assert resp.status_code == 202 and json.loads(resp.get_body())["tenant_id"] == tenant_id
    req = func.HttpRequest("GET", "/api/sync/logs", params={"tenant": domain.upper()}, body=b"")
    assert json.loads(http.sync_logs(req).get_body())[0]["organization_status"] == "suggested"
    req = func.HttpRequest("POST", "/x", route_params={"tenant": "nobody.example.com", "action": "accept"}, body=b"")
    resp = http.review_action(req)
    assert (resp.status_code, json.loads(resp.get_body())) == (404, {"error": "unknown tenant 'nobody.example.com'"})


def test_cli_says_which_settings_file_it_read(storage_env, tmp_path) -> None:
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"Values": {"AzureWebJobsStorage": storage_env.connection_string}}))
    base = {"PATH": os.environ["PATH"]}
    exe = str(ROOT / ".venv/bin/o365mon")
    ok = subprocess.run(
        [exe, "tenants", "list"], env={**base, "O365MON_LOCAL_SETTINGS": str(settings_file)},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stderr == f"o365mon: settings from {settings_file.resolve()}\n"
    # The README's example from a directory without local.settings.json: it says what it read and what to do.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bare = subprocess.run([exe, "tenants", "list"], env=base, capture_output=True, text=True, timeout=60, cwd=elsewhere)
    assert bare.returncode == 2
    assert bare.stderr.splitlines() == [
        f"o365mon: no local settings file ({elsewhere / 'local.settings.json'}): app settings from the environment",
        "error: set AzureWebJobsStorage or AzureWebJobsStorage__tableServiceUri",
        "o365mon: point O365MON_LOCAL_SETTINGS at a local.settings.json "
        "(`make demo` writes .local/demo/local.settings.json) or set the storage settings",
    ]
    # A Nagios plugin prints only its result.
    quiet = subprocess.run(
        [exe, "check", "exchange", "email-activity"], env={**base, "O365MON_LOCAL_SETTINGS": str(settings_file)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert quiet.stderr == "" and quiet.stdout.startswith("UNKNOWN: Need to specify --tenant option.")


def test_tenants_stored_before_the_name_index_are_found_by_their_domain(storage_env, tenant_id) -> None:
    domain = f"{tenant_id[:8]}.legacy.example"
    # An entity as older versions wrote it, with no index row and no index marker.
    storage = tenants.storage
    storage.table(tenants.TABLE).upsert_entity(
        {"PartitionKey": "tenant", "RowKey": tenant_id, "DisplayName": "Legacy", "Domains": domain, "Enabled": True}
    )
    storage.table(tenants.NAMES_TABLE).delete_entity(*tenants._INDEX_MARKER)
    tenants._index_ready.clear()
    assert tenants.resolve(domain.upper()).tenant_id == tenant_id
