"""App settings: read from the environment (Functions app settings), with local.settings.json honoured locally.

Everything the code reads from its settings is named here, so infra/ can be checked against this list.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_LOGIN_ENDPOINT = "https://login.microsoftonline.com"
DEFAULT_COLLECT_SCHEDULE = "0 0 */6 * * *"

# Every app setting the code reads, with its meaning (the README's configuration table is built from it).
SETTINGS: dict[str, str] = {
    "AzureWebJobsStorage": "Storage connection string (Azurite locally); or use the identity-based settings",
    "AzureWebJobsStorage__tableServiceUri": "Identity-based storage: table endpoint (DefaultAzureCredential)",
    "AzureWebJobsStorage__queueServiceUri": "Identity-based storage: queue endpoint",
    "AzureWebJobsStorage__blobServiceUri": "Identity-based storage: blob endpoint",
    "AzureWebJobsStorage__clientId": "Identity-based storage: client id of the user-assigned managed identity",
    "GRAPH_ENDPOINT": f"Microsoft Graph base URL (default {DEFAULT_GRAPH_ENDPOINT}; national clouds, simulator)",
    "LOGIN_ENDPOINT": f"Entra ID authority (default {DEFAULT_LOGIN_ENDPOINT}); must be https",
    "O365_CA_BUNDLE": "Optional CA file trusted for the login and Graph endpoints (the simulator's CA)",
    "O365_CLIENT_ID": "Application (client) id of the app registration used for every tenant",
    "O365_CLIENT_SECRET": "Its client secret (a Key Vault reference in Azure)",
    "O365_CLIENT_CERTIFICATE_PATH": "Or a PEM file with its certificate and private key",
    "O365_CLIENT_CERTIFICATE": "Or that PEM itself (a Key Vault reference in Azure, where no file can be mounted)",
    "O365_TENANT_ID": "Single-tenant shortcut: monitor this tenant without a Tenants table entry",
    "COLLECT_SCHEDULE": f"NCRONTAB schedule of the report collection (default '{DEFAULT_COLLECT_SCHEDULE}')",
    "COLLECT_CONCURRENCY": "Tenants collected at once (default 4)",
    "COLLECT_TENANT_DEADLINE_S": "Seconds one tenant's collection may take; its remaining datasets are then skipped "
    "(default 600)",
    "COLLECT_MAX_PAGES": "Most pages read from one JSON collection before it fails as endless (default 1000)",
    "RUNS_RETENTION_DAYS": "Days of collection-run records kept per tenant (default 30)",
    "HEALTH_SCHEDULE": "NCRONTAB schedule of the service health collection (default '0 */5 * * * *')",
    "SYNC_SCHEDULE": "NCRONTAB schedule of the directory sync and contact matching (default '0 0 */6 * * *')",
    "SYNC_INCLUDE_GUESTS": "Match and create guest users (#EXT#, userType Guest) as contacts (default false)",
    "SYNC_ONLY_ENABLED": "Create contacts only for enabled accounts (default true)",
    "SYNC_ONLY_LICENSED": "Create contacts only for licensed users (default true)",
    "MATCH_SUGGESTION_CUTOFF": "Minimum rapidfuzz WRatio score (0-100) of an organization suggestion (default 80)",
    "MATCH_LOCK_SECONDS": "Expiry of the per-tenant matching lock, renewed while a run progresses (default 300)",
    "MATCH_LOCK_WAIT": "Seconds a match waits for another run of the same tenant before retrying later (default 60)",
    "ITGLUE_API_URL": "IT Glue API base URL of the account's region (default https://api.itglue.com; or EU, AU)",
    "ITGLUE_API_KEY": "IT Glue API key, sent only as the x-api-key header (a Key Vault reference in Azure)",
    # Check engine limits (shared/checks/limits.py).
    "CHECK_REGEX_BUDGET_MS": "Milliseconds a check's user patterns may spend in slow matches (over 1 ms each) "
    "before it answers UNKNOWN (default 250)",
    "CHECK_DEADLINE_S": "Seconds a check may run before it answers UNKNOWN instead of holding a worker (default 10)",
}


def load_local_settings(path: Path | None = None) -> Path | None:
    """Copy local.settings.json `Values` into the environment, as Core Tools does; real env vars win.
    Returns the file read, or None when there is none."""
    path = path or Path(os.environ.get("O365MON_LOCAL_SETTINGS", "local.settings.json"))
    if not path.is_file():
        return None
    values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    for key, value in values.items():
        os.environ.setdefault(key, str(value))
    return path


def get(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True)
class GraphSettings:
    graph_endpoint: str
    login_endpoint: str
    ca_bundle: str | None

    @classmethod
    def from_env(cls) -> GraphSettings:
        return cls(
            graph_endpoint=get("GRAPH_ENDPOINT", DEFAULT_GRAPH_ENDPOINT).rstrip("/"),
            login_endpoint=get("LOGIN_ENDPOINT", DEFAULT_LOGIN_ENDPOINT).rstrip("/"),
            ca_bundle=get("O365_CA_BUNDLE") or None,
        )
