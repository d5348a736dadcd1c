"""The monitored tenants: the `Tenants` table, plus the `O365_TENANT_ID` single-tenant shortcut.

A tenant is named by its id (GUID), by any of its domains or by its display name, case-insensitively. The
names a user gave (`--name`, `--domain`) and the names Microsoft 365 reports (the organization's display name
and verified domains, learned at each collection) are kept on the tenant's entity; `TenantNames`
(PartitionKey = the lower-cased name, RowKey = tenant id) indexes them, so finding a tenant by a name is one
partition read plus one point read, however many tenants there are. The entity stays the truth: an index
row whose tenant no longer has that name is ignored.

A domain is turned into its tenant id the way Entra ID does it: OIDC discovery
(`<LOGIN_ENDPOINT>/<domain>/v2.0/.well-known/openid-configuration`, whose `issuer` holds the id). A
shortcut tenant given as a domain is discovered once and then stored under its id (Source "O365_TENANT_ID"),
so its data, runs and names are keyed by the GUID like any other tenant's.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import ResourceNotFoundError

from shared import settings
from shared.echo import echo
from shared.store import storage

TABLE = "Tenants"
NAMES_TABLE = "TenantNames"
PARTITION = "tenant"
SHORTCUT = "O365_TENANT_ID"
DISCOVERED = "GDAP"  # Source of a tenant added by partner discovery (shared/store/discovery.py)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_GUID_IN = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# A DNS name (what Entra ID accepts as a verified domain); checked before it goes into a discovery URL.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Index rows written from the table once, for tenants stored before the index existed.
_INDEX_MARKER = ("~index", "v1")
DISCOVERY_TIMEOUT_S = 10.0
_FAILED_DISCOVERY_TTL_S = 60.0


class TenantError(Exception):
    pass


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value or ""))


def is_domain(value: str) -> bool:
    return bool(_DOMAIN.match((value or "").strip().lower()))


def _dedup(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for n in names:
        n = (n or "").strip()
        if n and n.lower() not in seen:
            seen[n.lower()] = n
    return list(seen.values())


@dataclass
class Tenant:
    tenant_id: str
    display_name: str = ""
    domains: list[str] = field(default_factory=list)
    enabled: bool = True
    credential_prefix: str = ""  # names other app settings (<prefix>_CLIENT_ID ...): never a secret
    # Learned from the tenant's `organization` at each collection; never typed by a user.
    org_name: str = ""
    verified_domains: list[str] = field(default_factory=list)
    source: str = ""  # SHORTCUT for a tenant known only through O365_TENANT_ID; DISCOVERED if GDAP added it
    # When partner discovery last found it no longer a customer (UTC, ISO 8601); never deleted for that.
    removed: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.org_name

    @property
    def all_domains(self) -> list[str]:
        return _dedup([*self.domains, *self.verified_domains])

    def names(self) -> set[str]:
        """Every lower-cased name the tenant answers to besides its id."""
        return {n.lower() for n in (self.display_name, self.org_name, *self.all_domains) if n and n.strip()}

    def to_entity(self) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": self.tenant_id,
            "DisplayName": self.display_name,
            "Domains": ",".join(self.domains),
            "Enabled": self.enabled,
            "CredentialPrefix": self.credential_prefix,
            "OrgName": self.org_name,
            "VerifiedDomains": ",".join(self.verified_domains),
            "Source": self.source,
            "Removed": self.removed,
        }

    @classmethod
    def from_entity(cls, e: dict) -> Tenant:
        return cls(
            tenant_id=e["RowKey"],
            display_name=e.get("DisplayName", ""),
            domains=[d for d in e.get("Domains", "").split(",") if d],
            enabled=bool(e.get("Enabled", True)),
            credential_prefix=e.get("CredentialPrefix", ""),
            org_name=e.get("OrgName", "") or "",
            verified_domains=[d for d in (e.get("VerifiedDomains", "") or "").split(",") if d],
            source=e.get("Source", "") or "",
            removed=e.get("Removed", "") or "",
        )


# ------------------------------------------------------------------------------------------------ name index


def _name_key(name: str) -> str:
    """A Table key for a name: `/ \\ # ?` and control characters are not allowed in keys, and keys are
    at most 1 KiB, so names are percent-encoded and long ones hashed."""
    key = quote(name.strip().lower(), safe="")
    return key if len(key) <= 512 else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


def _index(tenant_id: str, names: set[str]) -> None:
    table = storage.table(NAMES_TABLE)
    for n in names:
        table.upsert_entity(entity={"PartitionKey": _name_key(n), "RowKey": tenant_id, "Name": n})


def _unindex(tenant_id: str, names: set[str]) -> None:
    table = storage.table(NAMES_TABLE)
    for n in names:
        try:
            table.delete_entity(partition_key=_name_key(n), row_key=tenant_id)
        except ResourceNotFoundError:
            pass


_index_ready: set[str] = set()  # storage accounts whose index is known to be built, per process


def _ensure_index() -> None:
    table = storage.table(NAMES_TABLE)
    if table.url in _index_ready:
        return
    try:
        table.get_entity(partition_key=_INDEX_MARKER[0], row_key=_INDEX_MARKER[1])
    except ResourceNotFoundError:
        for e in storage.table(TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": PARTITION}):
            t = Tenant.from_entity(e)
            _index(t.tenant_id, t.names())
        table.upsert_entity(entity={"PartitionKey": _INDEX_MARKER[0], "RowKey": _INDEX_MARKER[1]})
    _index_ready.add(table.url)


def _load(tenant_id: str) -> Tenant | None:
    try:
        return Tenant.from_entity(storage.table(TABLE).get_entity(partition_key=PARTITION, row_key=tenant_id.lower()))
    except ResourceNotFoundError:
        return None


def _save(tenant: Tenant, previous: Tenant | None) -> None:
    storage.table(TABLE).upsert_entity(entity=tenant.to_entity())
    new = tenant.names()
    _index(tenant.tenant_id, new)
    if previous is not None:
        _unindex(tenant.tenant_id, previous.names() - new)
    added = {d.lower() for d in tenant.all_domains} - (previous.names() if previous else set())
    if added:
        _claim(tenant.tenant_id, added)


def _claim(tenant_id: str, domains: set[str]) -> None:
    """A domain belongs to one tenant (Entra ID verifies each in one directory): the tenant that was just
    given it takes it from any other, so a domain never becomes ambiguous."""
    for domain in domains:
        rows = storage.table(NAMES_TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": _name_key(domain)})
        for row in list(rows):
            other = _load(row["RowKey"]) if row["RowKey"] != tenant_id else None
            if other is None:
                continue
            before = Tenant(**{**other.__dict__})
            other.domains = [d for d in other.domains if d.lower() != domain]
            other.verified_domains = [d for d in other.verified_domains if d.lower() != domain]
            if other.to_entity() != before.to_entity():
                _save(other, before)


# ------------------------------------------------------------------------------------------- OIDC discovery

_failed_discovery: dict[str, tuple[float, str]] = {}


def discover(domain: str, graph_settings: settings.GraphSettings | None = None) -> str:
    """The tenant id of a domain, from Entra ID's OIDC discovery document (its `issuer`)."""
    name = (domain or "").strip().lower()
    if not _DOMAIN.match(name):
        raise TenantError(f"not a tenant id (GUID) or a domain: {domain!r}")
    import ssl  # discovery only: urllib.request and TLS are a fifth of a check process's imports
    import urllib.error
    import urllib.request

    gs = graph_settings or settings.GraphSettings.from_env()
    url = f"{gs.login_endpoint}/{name}/v2.0/.well-known/openid-configuration"
    context = ssl.create_default_context(cafile=gs.ca_bundle) if gs.ca_bundle else ssl.create_default_context()
    try:
        with urllib.request.urlopen(url, timeout=DISCOVERY_TIMEOUT_S, context=context) as resp:
            document = json.loads(resp.read(1 << 20))
    except urllib.error.HTTPError as exc:
        raise TenantError(f"unknown tenant '{name}': {_aad_reason(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TenantError(f"cannot look tenant '{name}' up at {gs.login_endpoint}: {reason}") from None
    except ValueError:
        raise TenantError(f"cannot look tenant '{name}' up: {url} did not answer JSON") from None
    match = _GUID_IN.search(str(document.get("issuer", "")) if isinstance(document, dict) else "")
    if not match:
        raise TenantError(f"cannot look tenant '{name}' up: no tenant id in the issuer of {url}")
    return match.group(0).lower()


def _aad_reason(exc: Any) -> str:
    """Entra ID's own first line (e.g. `AADSTS90002: Tenant 'x' not found. ...`), without trace ids."""
    try:
        body = json.loads(exc.read(65536) or b"{}")
        text = str(body.get("error_description") or body.get("error") or "")
    except ValueError:
        text = ""
    return text.split("\r\n", 1)[0].split("\n", 1)[0].strip() or f"HTTP {exc.code} from the login endpoint"


# ------------------------------------------------------------------------------------------------- shortcut


def _shortcut() -> str:
    return settings.get(SHORTCUT).lower()


def _visible(t: Tenant) -> bool:
    """A tenant stored for the shortcut counts only while O365_TENANT_ID still names it."""
    if t.source != SHORTCUT:
        return True
    shortcut = _shortcut()
    return bool(shortcut) and (shortcut == t.tenant_id or shortcut in t.names())


def _placeholder(tenant_id: str) -> Tenant:
    return Tenant(tenant_id=tenant_id, display_name=f"({SHORTCUT})", source=SHORTCUT)


def _shortcut_tenant(known: list[Tenant] | None = None) -> Tenant | None:
    """The shortcut's tenant: a stored one that answers to it, else (a domain) discovered once and stored
    under its id; if discovery fails, a placeholder keyed by the domain (a collection then records why)."""
    shortcut = _shortcut()
    if not shortcut:
        return None
    if known is not None:
        hit = next((t for t in known if shortcut == t.tenant_id or shortcut in t.names()), None)
        if hit:
            return hit
    elif is_guid(shortcut):
        return _load(shortcut) or _placeholder(shortcut)
    else:
        named = _by_name(shortcut)
        if named:
            return named[0]
    if is_guid(shortcut):
        return _placeholder(shortcut)
    failed = _failed_discovery.get(shortcut)
    if failed and time.monotonic() - failed[0] < _FAILED_DISCOVERY_TTL_S:
        return _placeholder(shortcut)
    try:
        tenant_id = discover(shortcut)
    except TenantError as exc:
        _failed_discovery[shortcut] = (time.monotonic(), str(exc))
        return _placeholder(shortcut)
    previous = _load(tenant_id)
    tenant = previous or Tenant(tenant_id=tenant_id, source=SHORTCUT)
    if shortcut not in tenant.names():
        tenant.domains = [*tenant.domains, shortcut]
    _save(tenant, previous)
    return tenant


# --------------------------------------------------------------------------------------------------- public


def add(tenant: Tenant, graph_settings: settings.GraphSettings | None = None) -> Tenant:
    """Register a tenant given by id or by a domain (looked up by OIDC discovery). What a collection
    learned about it (organization name, verified domains) is kept."""
    if tenant.credential_prefix and not re.fullmatch(r"[A-Z][A-Z0-9_]*", tenant.credential_prefix):
        raise TenantError("credential prefix must be an app-setting name prefix like CONTOSO (A-Z, 0-9, _)")
    given = tenant.tenant_id.strip()
    if not is_guid(given):
        if not is_domain(given):
            raise TenantError(f"tenant id must be a GUID or a domain: {given!r}")
        tenant.domains = _dedup([given.lower(), *tenant.domains])
        given = discover(given, graph_settings)
    tenant.tenant_id = given.lower()
    tenant.domains = _dedup(tenant.domains)
    previous = _load(tenant.tenant_id)
    if previous is not None:
        tenant.org_name, tenant.verified_domains = previous.org_name, previous.verified_domains
    tenant.source = ""
    _save(tenant, previous)
    return tenant


def load(tenant_id: str) -> Tenant | None:
    """The stored entity of a tenant id, whatever its source; None when there is none."""
    return _load(tenant_id)


def save(tenant: Tenant) -> Tenant:
    """Store a tenant as given (source and marks included), keeping its name index right."""
    tenant.tenant_id = tenant.tenant_id.lower()
    _save(tenant, _load(tenant.tenant_id))
    return tenant


def learn_names(tenant_id: str, display_name: str, domains: list[str]) -> None:
    """What the tenant's `organization` says it is called (display name, verified domains, default first):
    from now on the tenant is found by any of these names."""
    tenant_id = (tenant_id or "").lower()
    if not is_guid(tenant_id):
        return
    previous = _load(tenant_id)
    if previous is None:
        if _shortcut() != tenant_id:
            return  # not registered (removed meanwhile): nothing to name
        tenant = Tenant(tenant_id=tenant_id, source=SHORTCUT)
    else:
        tenant = Tenant(**{**previous.__dict__, "domains": list(previous.domains)})
    tenant.org_name = (display_name or "").strip()
    tenant.verified_domains = _dedup([d.lower() for d in domains if d])
    if previous is not None and previous.to_entity() == tenant.to_entity():
        return
    _save(tenant, previous)


def set_enabled(name: str, enabled: bool) -> Tenant:
    t = resolve(name)
    previous = _load(t.tenant_id)
    t.enabled = enabled
    if previous is None:
        t.source, t.display_name = SHORTCUT, ""
    _save(t, previous)
    return t


def list_all() -> list[Tenant]:
    tenants = [
        Tenant.from_entity(e)
        for e in storage.table(TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": PARTITION})
    ]
    tenants = [t for t in tenants if _visible(t)]
    shortcut = _shortcut_tenant(tenants)
    if shortcut is not None and shortcut.tenant_id not in {t.tenant_id for t in tenants}:
        tenants.append(shortcut)
    return sorted(tenants, key=lambda t: t.tenant_id)


def get(tenant_id: str) -> Tenant:
    """A tenant by its id (one point read)."""
    wanted = tenant_id.strip().lower()
    tenant = _load(wanted)
    if tenant is not None and _visible(tenant):
        return tenant
    if wanted == _shortcut():
        return _placeholder(wanted)
    raise TenantError(f"unknown tenant '{echo(tenant_id)}'")


def _by_name(name: str) -> list[Tenant]:
    wanted = name.strip().lower()
    _ensure_index()
    rows = storage.table(NAMES_TABLE).query_entities("PartitionKey eq @pk", parameters={"pk": _name_key(wanted)})
    found = []
    for row in rows:
        t = _load(row["RowKey"])
        if t is not None and _visible(t) and wanted in t.names():
            found.append(t)
    return found


def resolve(name: str) -> Tenant:
    """A tenant by id, by any of its domains or by its display name, case-insensitively."""
    if not name or not name.strip():
        raise TenantError("Need to specify --tenant option.")
    name = name.strip()
    if is_guid(name):
        return get(name)
    found = _by_name(name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ids = ", ".join(sorted(t.tenant_id for t in found))
        raise TenantError(f"tenant name '{echo(name)}' is ambiguous ({ids}): name it by its id or a domain")
    if name.lower() == _shortcut():
        shortcut = _shortcut_tenant()
        if shortcut is not None:
            return shortcut
    raise TenantError(f"unknown tenant '{echo(name)}'")
