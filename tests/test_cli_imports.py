"""`o365mon check` is a Nagios plugin started every few minutes per service: it imports only what reading the
stored data needs (no asyncio, no Graph SDK, no token library), whatever the plugin, mode or outcome."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.collect.catalog import MAILBOX_USAGE
from shared.store import tenants
from tests.support import store_snapshot

ROOT = Path(__file__).resolve().parent.parent
GB = 1024**3

# Top-level packages a check never needs: the collector's (asyncio, Graph SDK, its HTTP stacks, token
# libraries) and the collection code itself.
UNUSED_BY_CHECK = (
    "asyncio",
    "msgraph",
    "msgraph_core",
    "kiota_abstractions",
    "kiota_http",
    "kiota_authentication_azure",
    "kiota_serialization_json",
    "azure.identity",
    "msal",
    "aiohttp",
    "httpx",
    "shared.collect.graph",
    "shared.collect.collector",
    "shared.cli.sync",
    # The SDK's default transport and its stack: the check path sends over http.client
    # (shared/store/transport.py); urllib.request (and TLS with it) only for tenant discovery.
    "requests",
    "urllib3",
    "charset_normalizer",
    "urllib.request",
    # Only for a pattern that needs a timeout; the mode's default patterns compile with `re`.
    "regex",
)


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from `python -X importtime` lines ('import time: self | cumulative | name')."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                names.add(name)
    return names


def check_imports(storage_env, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {
        "AzureWebJobsStorage": storage_env.connection_string,
        "PATH": os.environ["PATH"],
        "O365MON_LOCAL_SETTINGS": os.devnull,
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shared.cli.main", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return done, imported_modules(done.stderr)


def unused(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in UNUSED_BY_CHECK))


@pytest.fixture
def mailboxes(storage_env, tenant_id: str) -> str:
    tenants.add(tenants.Tenant(tenant_id, "Contoso", [f"{tenant_id[:8]}.imports.contoso.com"]))
    rows = [
        ["ok@contoso.com", "2024-01-15", 1 * GB, 98 * GB, 99 * GB, 100 * GB, 10, 7],
        ["full@contoso.com", "2024-01-15", 99 * GB + 1, 98 * GB, 99 * GB, 100 * GB, 20, 7],
    ]
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    return tenant_id


def test_a_check_reading_stored_rows_imports_no_collector_module(storage_env, mailboxes: str) -> None:
    done, modules = check_imports(
        storage_env, "exchange", "mailbox-usage", f"--tenant={mailboxes}", "--filter-counters=status"
    )
    assert done.returncode == 2, done.stdout
    assert done.stdout.startswith("CRITICAL: Mailbox 'full@contoso.com' Used: 99.00 GB")
    assert "azure.data.tables" in modules  # the read itself is in the measured process
    assert unused(modules) == []


def test_answers_without_data_import_no_collector_module(storage_env) -> None:
    for args in (
        ("exchange", "mailbox-usage", "--tenant=unknown.imports.contoso.com"),  # unknown tenant
        ("exchange", "no-such-mode", "--tenant=x"),  # unknown mode
        ("exchange",),  # usage
    ):
        done, modules = check_imports(storage_env, *args)
        assert done.returncode == 3 and done.stdout.startswith("UNKNOWN: "), (args, done.stdout)
        assert unused(modules) == [], args
