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


@dataclass(frozen=True)
class Setting:
    """One app setting: its meaning (the README's configuration table) and, for the settings the code reads as a
    number or a flag, the default that also gives its type."""

    meaning: str
    default: float | bool | None = None


# Every app setting the code reads (the README's configuration table lists each of them).
SETTINGS: dict[str, Setting] = {
    "AzureWebJobsStorage": Setting("Storage connection string (Azurite locally); or use the identity-based settings"),
    "AzureWebJobsStorage__tableServiceUri": Setting("Identity-based storage: table endpoint (DefaultAzureCredential)"),
    "AzureWebJobsStorage__queueServiceUri": Setting("Identity-based storage: queue endpoint"),
    "AzureWebJobsStorage__blobServiceUri": Setting("Identity-based storage: blob endpoint"),
    "AzureWebJobsStorage__clientId": Setting("Identity-based storage: client id of the user-assigned managed identity"),
    "GRAPH_ENDPOINT": Setting(
        f"Microsoft Graph base URL (default {DEFAULT_GRAPH_ENDPOINT}; national clouds, simulator)"
    ),
    "LOGIN_ENDPOINT": Setting(f"Entra ID authority (default {DEFAULT_LOGIN_ENDPOINT}); must be https"),
    "O365_CA_BUNDLE": Setting("Optional CA file trusted for the login and Graph endpoints (the simulator's CA)"),
    "O365_CLIENT_ID": Setting("Application (client) id of the app registration used for every tenant"),
    "O365_CLIENT_SECRET": Setting("Its client secret (a Key Vault reference in Azure)"),
    "O365_CLIENT_CERTIFICATE_PATH": Setting("Or a PEM file with its certificate and private key"),
    "O365_CLIENT_CERTIFICATE": Setting(
        "Or that PEM itself (a Key Vault reference in Azure, where no file can be mounted)"
    ),
    "O365_TENANT_ID": Setting("Single-tenant shortcut: monitor this tenant without a Tenants table entry"),
    "COLLECT_SCHEDULE": Setting(f"NCRONTAB schedule of the report collection (default '{DEFAULT_COLLECT_SCHEDULE}')"),
    "COLLECT_CONCURRENCY": Setting("Tenants collected at once by `o365mon collect`, in-process (default 4)", 4),
    "COLLECT_REPORT_CONCURRENCY": Setting(
        "Datasets of one tenant fetched at once; each report has its own Graph throttling budget (default 4)", 4
    ),
    "COLLECT_TENANT_DEADLINE_S": Setting(
        "Seconds one tenant's collection may take; its remaining datasets are then skipped (default 600)", 600.0
    ),
    "COLLECT_MAX_PAGES": Setting(
        "Most pages read from one JSON collection before it fails as endless (default 1000)", 1000
    ),
    "RUNS_RETENTION_DAYS": Setting("Days of collection-run records kept per tenant (default 30)", 30.0),
    "HISTORY_RETENTION_DAYS": Setting("Days of daily history (console charts) kept per tenant (default 400)", 400.0),
    "HEALTH_SCHEDULE": Setting("NCRONTAB schedule of the service health collection (default '0 */5 * * * *')"),
    "SYNC_SCHEDULE": Setting("NCRONTAB schedule of the directory sync and contact matching (default '0 0 */6 * * *')"),
    "SYNC_INCLUDE_GUESTS": Setting(
        "Match and create guest users (#EXT#, userType Guest) as contacts (default false)", False
    ),
    "SYNC_ONLY_ENABLED": Setting("Create contacts only for enabled accounts (default true)", True),
    "SYNC_ONLY_LICENSED": Setting("Create contacts only for licensed users (default true)", True),
    "SYNC_LICENCES": Setting(
        "Document each tenant's subscriptions as IT Glue licence assets, unless its sync settings say otherwise "
        "(default true)",
        True,
    ),
    "DISCOVER_SCHEDULE": Setting(
        "NCRONTAB schedule of partner discovery (GDAP): adds new customers, marks gone ones (default empty: off)"
    ),
    "DISCOVER_ADD_ENABLED": Setting(
        "Partner discovery adds new customers enabled, so collected at once, not disabled (default false)", False
    ),
    "MATCH_SUGGESTION_CUTOFF": Setting(
        "Minimum rapidfuzz WRatio score (0-100) of an organization suggestion (default 80)", 80.0
    ),
    "MATCH_LOCK_SECONDS": Setting(
        "Expiry of the per-tenant matching lock, renewed while a run progresses (default 300)", 300.0
    ),
    "MATCH_LOCK_WAIT": Setting(
        "Seconds a match waits for another run of the same tenant before retrying later (default 60)", 60.0
    ),
    "ITGLUE_API_URL": Setting(
        "IT Glue API base URL of the account's region (default https://api.itglue.com; or EU, AU)"
    ),
    "ITGLUE_API_KEY": Setting("IT Glue API key, sent only as the x-api-key header (a Key Vault reference in Azure)"),
    "ITGLUE_RATE_SHARE": Setting(
        "IT Glue requests per 5 minutes each instance may send; the account's 3,000 are shared by every integration "
        "and instance, and a 429 still makes it wait (default 1000)",
        1000,
    ),
    "DOCS_BACKEND": Setting(
        "Where the documentation lives: tables (o365mon's own tables) or itglue (IT Glue's API; default tables)"
    ),
    "ITGLUE_PRIMARY_EMAIL": Setting(
        "Primary e-mail of the contacts written to IT Glue: upn (the user name, as IT Glue's integration) or mail "
        "(default upn)"
    ),
    "ITGLUE_TERMINATED_CONTACT_TYPE_ID": Setting(
        "IT Glue contact type given to a contact whose user is disabled or removed (its previous type comes back "
        "when the user is enabled again); unset: a dated note line is appended instead"
    ),
    # Check engine limits (shared/checks/limits.py).
    "CHECK_REGEX_BUDGET_MS": Setting(
        "Milliseconds a check's user patterns may spend in slow matches (over 1 ms each) "
        "before it answers UNKNOWN (default 250)",
        250.0,
    ),
    # Above the heaviest legitimate check (every quota of 100,000 mailboxes: ~2 s, 5 s on a loaded host), below
    # check_o365's 15 s --http-timeout so the reason reaches the poller.
    "CHECK_DEADLINE_S": Setting(
        "Seconds a check may run before it answers UNKNOWN instead of holding a worker (default 10)", 10.0
    ),
    # A Flex Consumption instance has 2,048 MB by default; 256 MB holds the decoded rows of two or three reports
    # of a 100,000-user tenant (~13-22 MB of JSON each, counted 6x), or every report of dozens of ordinary ones.
    "CHECK_CACHE_MB": Setting(
        "Megabytes of decoded report rows and answers a serving process keeps between checks, 0 for none (default 256)",
        256,
    ),
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(text: str) -> bool | None:
    """True for 1/true/yes/on, False for 0/false/no/off (any case, blanks around), None for anything else.

    The one truth table of app settings and check flags; each caller decides what None means (a setting keeps
    its default, a check flag given with any other value is on)."""
    word = text.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


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


def _default(name: str, kind: type | tuple[type, ...]) -> float | bool:
    value = SETTINGS[name].default
    if value is None or not isinstance(value, kind):
        raise TypeError(f"{name} has no default of that type in SETTINGS")
    return value


def number(name: str) -> float:
    """A numeric setting; unset, unreadable, negative or NaN gives its default from SETTINGS."""
    default = float(_default(name, (float, int)))
    try:
        value = float(get(name) or default)
    except ValueError:
        return default
    return value if value >= 0 and value == value else default


def integer(name: str) -> int:
    """A whole-number setting; unset, unreadable or negative gives its default from SETTINGS."""
    default = int(_default(name, int))
    try:
        value = int(get(name) or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def flag(name: str) -> bool:
    """A yes/no setting (see parse_bool); unset or unreadable gives its default from SETTINGS."""
    default = bool(_default(name, bool))
    value = parse_bool(get(name))
    return default if value is None else value


DOCS_BACKENDS = ("tables", "itglue")


def docs_backend() -> str:
    """DOCS_BACKEND, checked: a misspelt backend must not silently document into the own tables."""
    value = get("DOCS_BACKEND").lower() or "tables"
    if value not in DOCS_BACKENDS:
        raise ValueError(f"DOCS_BACKEND must be one of {', '.join(DOCS_BACKENDS)}, got {value[:40]!r}")
    return value


def primary_email_source() -> str:
    """'upn' or 'mail' for the IT Glue backend (ITGLUE_PRIMARY_EMAIL); '' (mail, else UPN) for the own tables."""
    if docs_backend() != "itglue":
        return ""
    value = get("ITGLUE_PRIMARY_EMAIL").lower() or "upn"
    return value if value in ("upn", "mail") else "upn"


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
