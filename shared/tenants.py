"""The monitored tenants: the `Tenants` table, plus the `O365_TENANT_ID` single-tenant shortcut."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from azure.core.exceptions import ResourceNotFoundError

from shared import settings, storage

TABLE = "Tenants"
PARTITION = "tenant"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TenantError(Exception):
    pass


@dataclass
class Tenant:
    tenant_id: str
    display_name: str = ""
    domains: list[str] = field(default_factory=list)
    enabled: bool = True
    credential_prefix: str = ""  # names other app settings (<prefix>_CLIENT_ID ...): never a secret

    def to_entity(self) -> dict:
        return {
            "PartitionKey": PARTITION,
            "RowKey": self.tenant_id,
            "DisplayName": self.display_name,
            "Domains": ",".join(self.domains),
            "Enabled": self.enabled,
            "CredentialPrefix": self.credential_prefix,
        }

    @classmethod
    def from_entity(cls, e: dict) -> Tenant:
        return cls(
            tenant_id=e["RowKey"],
            display_name=e.get("DisplayName", ""),
            domains=[d for d in e.get("Domains", "").split(",") if d],
            enabled=bool(e.get("Enabled", True)),
            credential_prefix=e.get("CredentialPrefix", ""),
        )


def add(tenant: Tenant) -> None:
    if not _GUID.match(tenant.tenant_id):
        raise TenantError(f"tenant id must be a GUID: {tenant.tenant_id!r}")
    if tenant.credential_prefix and not re.fullmatch(r"[A-Z][A-Z0-9_]*", tenant.credential_prefix):
        raise TenantError("credential prefix must be an app-setting name prefix like CONTOSO (A-Z, 0-9, _)")
    tenant.tenant_id = tenant.tenant_id.lower()
    storage.table(TABLE).upsert_entity(tenant.to_entity())


def set_enabled(tenant_id: str, enabled: bool) -> None:
    t = get(tenant_id)
    t.enabled = enabled
    storage.table(TABLE).upsert_entity(t.to_entity())


def list_all() -> list[Tenant]:
    tenants = [Tenant.from_entity(e) for e in storage.table(TABLE).query_entities(f"PartitionKey eq '{PARTITION}'")]
    shortcut = settings.get("O365_TENANT_ID").lower()
    if shortcut and shortcut not in {t.tenant_id for t in tenants}:
        tenants.append(Tenant(tenant_id=shortcut, display_name="(O365_TENANT_ID)"))
    return sorted(tenants, key=lambda t: t.tenant_id)


def get(tenant_id: str) -> Tenant:
    try:
        return Tenant.from_entity(storage.table(TABLE).get_entity(PARTITION, tenant_id.lower()))
    except ResourceNotFoundError:
        if tenant_id.lower() == settings.get("O365_TENANT_ID").lower():
            return Tenant(tenant_id=tenant_id.lower(), display_name="(O365_TENANT_ID)")
        raise TenantError(f"unknown tenant '{tenant_id}'") from None


def resolve(name: str) -> Tenant:
    """A tenant by id (one point read) or by one of its domains."""
    if not name:
        raise TenantError("Need to specify --tenant option.")
    if _GUID.match(name):
        return get(name)
    wanted = name.lower()
    for t in list_all():
        if wanted in (d.lower() for d in t.domains) or wanted == t.display_name.lower():
            return t
    raise TenantError(f"unknown tenant '{name}'")
