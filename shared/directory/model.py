"""A directory user as the matcher sees it, and its packed row form (one list per user in the snapshot)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Column order of a `directory_users` snapshot row. Lists (aliases, phones, licences) stay JSON lists.
COLUMNS = [
    "id", "given_name", "surname", "display_name", "upn", "mail", "proxy_addresses", "other_mails",
    "job_title", "mobile_phone", "business_phones", "account_enabled", "user_type", "sku_ids",
]  # fmt: skip


@dataclass(slots=True)
class DirectoryUser:
    id: str
    given_name: str = ""
    surname: str = ""
    display_name: str = ""
    upn: str = ""
    mail: str = ""
    proxy_addresses: list[str] = field(default_factory=list)
    other_mails: list[str] = field(default_factory=list)
    job_title: str = ""
    mobile_phone: str = ""
    business_phones: list[str] = field(default_factory=list)
    account_enabled: bool = True
    user_type: str = "Member"
    sku_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_graph(cls, u: dict) -> DirectoryUser:
        """From a Graph user as `GraphSession.directory_users` yields it (Graph's JSON, `USER_SELECT` fields)."""
        return cls(
            id=u.get("id") or "",
            given_name=u.get("givenName") or "",
            surname=u.get("surname") or "",
            display_name=u.get("displayName") or "",
            upn=u.get("userPrincipalName") or "",
            mail=u.get("mail") or "",
            proxy_addresses=list(u.get("proxyAddresses") or []),
            other_mails=list(u.get("otherMails") or []),
            job_title=u.get("jobTitle") or "",
            mobile_phone=u.get("mobilePhone") or "",
            business_phones=list(u.get("businessPhones") or []),
            account_enabled=u.get("accountEnabled") is not False,
            user_type=u.get("userType") or "Member",
            sku_ids=[str(a["skuId"]) for a in u.get("assignedLicenses") or [] if a.get("skuId")],
        )

    def to_row(self) -> list:
        return [getattr(self, c) for c in COLUMNS]

    @property
    def is_guest(self) -> bool:
        return self.user_type.lower() == "guest" or "#ext#" in self.upn.lower()

    @property
    def licensed(self) -> bool:
        return bool(self.sku_ids)

    def aliases(self) -> set[str]:
        """Every SMTP address of the user: proxyAddresses (SMTP:/smtp: stripped), mail, otherMails; lowercased."""
        out = set()
        for p in self.proxy_addresses:
            scheme, sep, address = p.partition(":")
            if sep and scheme.lower() == "smtp" and address.strip():
                out.add(address.strip().lower())
        for m in [self.mail, *self.other_mails]:
            if m and m.strip():
                out.add(m.strip().lower())
        return out

    def phones(self) -> list[str]:
        return [p for p in [*self.business_phones, self.mobile_phone] if p]


@dataclass
class DirectoryInfo:
    """The tenant side of a stored directory: organization and SKUs (the pointer's summaries)."""

    tenant_id: str
    display_name: str = ""
    default_domain: str = ""
    initial_domain: str = ""
    domains: list[str] = field(default_factory=list)
    skus: list[dict] = field(default_factory=list)
    users: int = 0
    synced_at: str = ""
    snapshot_id: str = ""

    @classmethod
    def from_graph(cls, tenant_id: str, org: dict, skus: list[dict]) -> DirectoryInfo:
        """From Graph's organization and subscribedSkus JSON; each SKU keeps the five fields stored."""
        domains = org.get("verifiedDomains") or []
        return cls(
            tenant_id=tenant_id,
            display_name=org.get("displayName") or "",
            default_domain=next((d.get("name") or "" for d in domains if d.get("isDefault")), ""),
            initial_domain=next((d.get("name") or "" for d in domains if d.get("isInitial")), ""),
            domains=[d["name"] for d in domains if d.get("name")],
            skus=[
                {
                    "skuId": str(s.get("skuId") or ""),
                    "skuPartNumber": s.get("skuPartNumber") or "",
                    "capabilityStatus": s.get("capabilityStatus") or "",
                    "consumedUnits": s.get("consumedUnits") or 0,
                    "enabled": (s.get("prepaidUnits") or {}).get("enabled") or 0,
                }
                for s in skus
            ],
        )
