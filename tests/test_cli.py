"""The o365mon command line: Centreon's command line as is, exit codes 0-3, tenant management, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import settings
from shared.cli.main import main, parse_check_args
from shared.collect.catalog import MAILBOX_USAGE
from shared.store import tenants
from tests.support import store_snapshot

ROOT = Path(__file__).resolve().parent.parent
GB = 1024**3


def test_centreon_and_short_spellings_parse_alike() -> None:
    centreon = parse_check_args(
        [
            "--plugin=cloud::microsoft::office365::exchange::plugin",
            "--mode=mailbox-usage",
            "--tenant",
            "t",
            "--filter-counters=",
            "--verbose",
            "--warning-status",
            "%{used} > 1",
        ]
    )
    short = parse_check_args(
        ["exchange", "mailbox-usage", "--tenant=t", "--filter-counters=", "--verbose", "--warning-status=%{used} > 1"]
    )
    assert centreon[1:] == short[1:]
    assert centreon[2] == {"tenant": "t", "filter-counters": "", "verbose": "1", "warning-status": "%{used} > 1"}


@pytest.fixture
def mailboxes(storage_env, tenant_id: str) -> str:
    tenants.add(tenants.Tenant(tenant_id, "Contoso", ["cli.contoso.com"]))
    rows = [
        ["ok@contoso.com", "2024-01-15", 1 * GB, 98 * GB, 99 * GB, 100 * GB, 10, 7],
        ["full@contoso.com", "2024-01-15", 99 * GB + 1, 98 * GB, 99 * GB, 100 * GB, 20, 7],
        ["idle@contoso.com", "2024-01-02", 2 * GB, 98 * GB, 99 * GB, 100 * GB, 30, 7],
    ]
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    return tenant_id


def run_cli(storage_env, *args: str) -> subprocess.CompletedProcess:
    env = {
        "AzureWebJobsStorage": storage_env.connection_string,
        "PATH": os.environ["PATH"],
        "O365MON_LOCAL_SETTINGS": os.devnull,
    }
    return subprocess.run([str(ROOT / ".venv/bin/o365mon"), "check", *args], env=env, capture_output=True, text=True)


def test_cli_check_exit_codes(storage_env, mailboxes: str) -> None:
    ok = run_cli(storage_env, "exchange", "mailbox-usage", f"--tenant={mailboxes}")
    assert ok.returncode == 0
    assert ok.stdout.startswith("OK: Active mailboxes on 2024-01-15 : 2/3 (66.67%) - Total Usage (active mailboxes): ")
    crit = run_cli(
        storage_env,
        "--plugin=cloud::microsoft::office365::exchange::plugin",
        "--mode=mailbox-usage",
        "--tenant=cli.contoso.com",
        "--filter-counters=status",
        "--client-secret=ignored",
    )
    assert crit.returncode == 2
    assert crit.stdout.startswith("CRITICAL: Mailbox 'full@contoso.com' Used: 99.00 GB")
    bad = run_cli(storage_env, "exchange", "mailbox-usage", f"--tenant={mailboxes}", "--critical-status=%{used} >")
    assert bad.returncode == 3 and bad.stdout.startswith("UNKNOWN:")
    missing = run_cli(storage_env, "exchange", "mailbox-usage")
    assert (missing.returncode, missing.stdout) == (3, "UNKNOWN: Need to specify --tenant option. \n")


def test_cli_flags_are_the_engines(storage_env, mailboxes: str) -> None:
    # A flag takes no value: it must not eat the plugin that follows it.
    assert parse_check_args(["--output-ignore-label", "exchange", "email-activity", "--tenant=x"]) == (
        "exchange",
        "email-activity",
        {"output-ignore-label": "1", "tenant": "x"},
    )
    unlabelled = run_cli(storage_env, "--output-ignore-label", "exchange", "mailbox-usage", f"--tenant={mailboxes}")
    assert unlabelled.returncode == 0
    assert unlabelled.stdout.startswith(
        "Active mailboxes on 2024-01-15 : 2/3 (66.67%) - Total Usage (active mailboxes): "
    )


def test_tenants_commands(storage_env, tenant_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "add", tenant_id.upper(), "--name", "Fabrikam", "--domain", "fabrikam.example"]) == 0
    assert main(["tenants", "disable", tenant_id]) == 0
    main(["tenants", "list"])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(tenant_id))
    assert "disabled" in line and "fabrikam.example" in line
    assert tenants.resolve("FABRIKAM.example").tenant_id == tenant_id
    assert main(["tenants", "add", "not-a-guid"]) == 2


def test_local_settings_values_are_honoured_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"GRAPH_ENDPOINT": "https://graph.microsoft.us", "COLLECT_SCHEDULE": "x"}}))
    monkeypatch.delenv("GRAPH_ENDPOINT", raising=False)
    monkeypatch.setenv("COLLECT_SCHEDULE", "from-env")
    settings.load_local_settings(path)
    assert settings.GraphSettings.from_env().graph_endpoint == "https://graph.microsoft.us"
    assert os.environ["COLLECT_SCHEDULE"] == "from-env"
    monkeypatch.delenv("GRAPH_ENDPOINT")


def test_python_module_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "shared.cli.main", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "collect" in out.stdout
