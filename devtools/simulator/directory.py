"""Directory data of a sample tenant: users (/users), licences (/subscribedSkus), app registrations
(/applications) and the organization (/organization), as Graph JSON (graph-api.md section 4).

Members are the users of the usage reports (same UPNs, same object ids as the Teams `User Id`), minus the
deleted ones, plus a few directory-only entries that contact matching must cope with: guests
(`first.last_gmail.com#EXT#@<initial>.onmicrosoft.com`, userType Guest), a namesake of user 0 (two people
sharing first and last name), an accented `José García` whose mail differs in case from its UPN, and an
unlicensed, disabled service account. Everything is recomputed from the tenant seed on demand.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from .tenants import SampleTenant, SampleUser, _ascii_slug, _sub_seed
from .workloads import initial_name, stable_guid, user_guid

# Product name (as in the reports' Assigned Products) -> (skuPartNumber, skuId) of the real SKU.
SKUS: dict[str, tuple[str, str]] = {
    "OFFICE 365 E3": ("ENTERPRISEPACK", "6fd2c87f-b296-42f0-b197-1e91e994b900"),
    "MICROSOFT 365 E5": ("SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06"),
    "OFFICE 365 E5": ("ENTERPRISEPREMIUM", "c7df2760-2c81-4ef7-b578-5b5392b571df"),
    "MICROSOFT POWER AUTOMATE FREE": ("FLOW_FREE", "f30db892-07e9-47e9-837c-80727f46fd3d"),
    "POWER BI (FREE)": ("POWER_BI_STANDARD", "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235"),
    "MICROSOFT 365 BUSINESS STANDARD": ("O365_BUSINESS_PREMIUM", "f245ecc8-75af-4f8e-b61f-27d8114de5f3"),
    "OFFICE 365 E1": ("STANDARDPACK", "18181a46-0d4e-45cd-891e-60aabd171b4e"),
    "MICROSOFT TEAMS EXPLORATORY": ("TEAMS_EXPLORATORY", "710779e8-3d4a-4c88-adb9-386c958d1fdf"),
    "EXCHANGE ONLINE (PLAN 1)": ("EXCHANGESTANDARD", "4b9405b0-7788-4568-add1-99614e613b69"),
    "MICROSOFT 365 E3": ("SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965"),
    "MICROSOFT POWER APPS PLAN 2 TRIAL": ("POWERAPPS_VIRAL", "dcb1a3ae-b33f-4487-846a-a640262fadf4"),
    "EXCHANGE ONLINE KIOSK": ("EXCHANGEDESKLESS", "80b2d799-d2ba-4d2a-8842-fb0d0f3a4b82"),
}
# SKUs bought but in another state, so the subscriptions mode meets Warning and Suspended.
_EXTRA_SKUS = (
    ("VISIOCLIENT", "c5928f49-12ba-48f7-ada3-0d743a3601d5", "Warning"),
    ("PROJECTPREMIUM", "09015f9f-377f-4538-bbb5-f75ceb09358a", "Suspended"),
)
_GUEST_NAMES = (("Ana", "Silva", "gmail.com"), ("Peter", "Smith", "outlook.com"), ("Chloé", "Dubois", "fabrikam.com"))
_JOBS = ("Accountant", "Engineer", "Sales Manager", "Consultant", "HR Partner", "Designer", None, None)
ALL_FIELDS = (
    "id", "displayName", "givenName", "surname", "userPrincipalName", "mail", "proxyAddresses", "otherMails",
    "jobTitle", "businessPhones", "mobilePhone", "accountEnabled", "userType", "assignedLicenses",
)  # fmt: skip
# What /users returns without $select [D user-list.md].
DEFAULT_FIELDS = (
    "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation",
    "preferredLanguage", "surname", "userPrincipalName",
)  # fmt: skip


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    displayName: str
    givenName: str | None
    surname: str | None
    userPrincipalName: str
    mail: str | None
    proxyAddresses: list[str] = field(default_factory=list)
    otherMails: list[str] = field(default_factory=list)
    jobTitle: str | None = None
    businessPhones: list[str] = field(default_factory=list)
    mobilePhone: str | None = None
    accountEnabled: bool = True
    userType: str = "Member"
    assignedLicenses: list[dict] = field(default_factory=list)
    in_reports: bool = False  # one of the usage reports' users

    def to_json(self, select: tuple[str, ...] | None = None) -> dict:
        fields = select or DEFAULT_FIELDS
        extra = {"officeLocation": None, "preferredLanguage": None}
        return {f: getattr(self, f, extra.get(f)) for f in fields if hasattr(self, f) or f in extra}


def _licences(products: str) -> list[dict]:
    out = []
    for product in products.split("+"):
        sku = SKUS.get(product)
        if sku:
            out.append({"disabledPlans": [], "skuId": sku[1]})
    return out


def _member(tenant: SampleTenant, user: SampleUser) -> DirectoryUser:
    rng = random.Random(_sub_seed(tenant.seed, user.index, 61))
    first, last = user.display_name.split(" ", 1)
    initial = initial_name(tenant)
    local = user.upn.split("@", 1)[0]
    licensed = rng.random() >= 0.04
    enabled = rng.random() >= 0.03
    # Exchange keeps the mail's case as typed by the admin: some differ in case from the UPN.
    mail = user.upn if rng.random() >= 0.15 else f"{local.title()}@{tenant.domain}"
    aliases = [f"smtp:{local}@{initial}.onmicrosoft.com"]
    if rng.random() < 0.3:
        aliases.append(f"smtp:{_ascii_slug(first)[:1]}{_ascii_slug(last)}{user.index}@{tenant.domain}")
    if rng.random() < 0.1:
        aliases.append(f"smtp:{local}@{initial}-legacy.com")
    phone = f"+1 425 555 {rng.randint(0, 9999):04d}"
    return DirectoryUser(
        id=user_guid(tenant, user),
        displayName=user.display_name,
        givenName=first,
        surname=last,
        userPrincipalName=user.upn,
        mail=mail,
        proxyAddresses=[f"SMTP:{mail}", *aliases],
        otherMails=[f"{_ascii_slug(first)}.{_ascii_slug(last)}@gmail.com"] if rng.random() < 0.1 else [],
        jobTitle=rng.choice(_JOBS),
        businessPhones=[phone] if rng.random() < 0.7 else [],
        mobilePhone=f"+1 206 555 {rng.randint(0, 9999):04d}" if rng.random() < 0.4 else None,
        accountEnabled=enabled,
        userType="Member",
        assignedLicenses=_licences(user.products) if licensed else [],
        in_reports=True,
    )


def _extras(tenant: SampleTenant) -> list[DirectoryUser]:
    initial = initial_name(tenant)
    onms = f"{initial}.onmicrosoft.com"
    out: list[DirectoryUser] = []
    for k, (first, last, domain) in enumerate(_GUEST_NAMES):
        external = f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}"
        out.append(
            DirectoryUser(
                id=stable_guid(tenant, "guest", k),
                displayName=f"{first} {last}",
                givenName=first,
                surname=last,
                userPrincipalName=f"{external.replace('@', '_')}#EXT#@{onms}",
                mail=external,
                proxyAddresses=[f"SMTP:{external}"],
                otherMails=[external],
                userType="Guest",
            )
        )
    if tenant.users:
        twin = tenant.user(0)
        first, last = twin.display_name.split(" ", 1)
        upn = f"{_ascii_slug(first)}.{_ascii_slug(last)}.2@{tenant.domain}"
        out.append(
            DirectoryUser(
                id=stable_guid(tenant, "namesake", 0),
                displayName=twin.display_name,
                givenName=first,
                surname=last,
                userPrincipalName=upn,
                mail=upn,
                proxyAddresses=[f"SMTP:{upn}"],
                jobTitle="Intern",
            )
        )
    upn = f"jose.garcia@{tenant.domain}"
    out.append(
        DirectoryUser(
            id=stable_guid(tenant, "accent", 0),
            displayName="José García",
            givenName="José",
            surname="García",
            userPrincipalName=upn,
            mail=f"Jose.Garcia@{tenant.domain.upper()}",
            proxyAddresses=[f"SMTP:Jose.Garcia@{tenant.domain.upper()}", f"smtp:jgarcia@{onms}"],
            businessPhones=["+34 91 555 0100"],
            assignedLicenses=_licences("OFFICE 365 E3"),
        )
    )
    out.append(
        DirectoryUser(
            id=stable_guid(tenant, "service", 0),
            displayName="Scanner Service Account",
            givenName=None,
            surname=None,
            userPrincipalName=f"svc-scanner@{onms}",
            mail=None,
            accountEnabled=False,
        )
    )
    return out


def directory_size(tenant: SampleTenant) -> int:
    """Number of directory users (report users that are not deleted, plus the extras)."""
    return sum(1 for u in tenant.iter_users() if not u.is_deleted) + len(_extras(tenant))


def iter_directory(tenant: SampleTenant, start: int = 0) -> Iterator[tuple[int, DirectoryUser]]:
    """(position, user) from `start`: positions 0..users-1 are the report users, then the extras."""
    for i in range(start, tenant.users):
        user = tenant.user(i)
        if not user.is_deleted:
            yield i, _member(tenant, user)
    extras = _extras(tenant)
    for k in range(max(0, start - tenant.users), len(extras)):
        yield tenant.users + k, extras[k]


def directory_users(tenant: SampleTenant) -> list[DirectoryUser]:
    return [u for _, u in iter_directory(tenant)]


def subscribed_skus(tenant: SampleTenant) -> list[dict]:
    consumed: dict[str, int] = {}
    for user in directory_users(tenant):
        for lic in user.assignedLicenses:
            consumed[lic["skuId"]] = consumed.get(lic["skuId"], 0) + 1
    out = []
    for part, sku_id in sorted(SKUS.values()):
        used = consumed.get(sku_id, 0)
        if not used:
            continue
        rng = random.Random(_sub_seed(tenant.seed, int(sku_id[:8], 16), 71))
        # Some SKUs are nearly or exactly full, so licence thresholds have something to say.
        free = 0 if rng.random() < 0.2 else rng.randint(1, max(1, used // 5 + 2))
        out.append(_sku(tenant, part, sku_id, "Enabled", used, {"enabled": used + free}))
    for part, sku_id, status in _EXTRA_SKUS:
        units = {"Warning": {"enabled": 0, "warning": 10}, "Suspended": {"enabled": 0, "suspended": 25}}[status]
        out.append(_sku(tenant, part, sku_id, status, 0, units))
    return out


def _sku(tenant: SampleTenant, part: str, sku_id: str, status: str, consumed: int, units: dict) -> dict:
    prepaid = {"enabled": 0, "lockedOut": 0, "suspended": 0, "warning": 0, **units}
    return {
        "accountName": tenant.display_name,
        "accountId": tenant.tenant_id,
        "appliesTo": "User",
        "capabilityStatus": status,
        "consumedUnits": consumed,
        "id": f"{tenant.tenant_id}_{sku_id}",
        "prepaidUnits": prepaid,
        "servicePlans": [],
        "skuId": sku_id,
        "skuPartNumber": part,
        "subscriptionIds": [stable_guid(tenant, "subscription", int(sku_id[:8], 16))],
    }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def applications(tenant: SampleTenant, now: dt.datetime | None = None) -> list[dict]:
    """App registrations with secrets and certificates: expired, expiring within 30 days, and valid ones.

    End dates are relative to `now` (default: the tenant's today at 00:00 UTC, so a day's data is stable).
    """
    base = now or dt.datetime.combine(tenant.today, dt.time(), dt.UTC)
    specs = (
        ("Backup Connector", [("password", -40), ("password", 330)], [("key", 700)]),
        ("HR Sync", [("password", 12)], []),
        ("Intranet SSO", [], [("key", -3), ("key", 25)]),
        ("Monitoring (o365mon)", [("password", 540)], [("key", 1000)]),
        ("Légacy Reporting", [("password", -400)], []),
        ("No Credentials App", [], []),
        ("Mail Relay", [("password", 5)], [("key", 90)]),
    )
    out = []
    for k, (name, passwords, keys) in enumerate(specs):
        rng = random.Random(_sub_seed(tenant.seed, k, 81))

        def cred(kind: str, days: int, j: int, k: int = k, name: str = name, rng: random.Random = rng) -> dict:
            end = base + dt.timedelta(days=days, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
            start = end - dt.timedelta(days=365 if days < 365 else 730)
            item = {
                "customKeyIdentifier": None,
                "displayName": f"{name} {kind} {j + 1}",
                "endDateTime": _iso(end),
                "keyId": stable_guid(tenant, f"cred-{k}-{kind}", j),
                "startDateTime": _iso(start),
            }
            if kind == "password":
                item["hint"] = "abc"
                item["secretText"] = None
            else:
                item["type"] = "AsymmetricX509Cert"
                item["usage"] = "Verify"
                item["key"] = None
            return item

        out.append(
            {
                "id": stable_guid(tenant, "app-object", k),
                "appId": stable_guid(tenant, "app", k),
                "displayName": name,
                "createdDateTime": _iso(base - dt.timedelta(days=800 + k)),
                "signInAudience": "AzureADMyOrg",
                "keyCredentials": [cred(kind, days, j) for j, (kind, days) in enumerate(keys)],
                "passwordCredentials": [cred(kind, days, j) for j, (kind, days) in enumerate(passwords)],
            }
        )
    return out


def organization(tenant: SampleTenant) -> dict:
    initial = initial_name(tenant)
    used = directory_size(tenant) + len(applications(tenant)) * 2 + 40
    total = 50_000 if tenant.users < 40_000 else 300_000
    return {
        "id": tenant.tenant_id,
        "displayName": tenant.display_name,
        "countryLetterCode": "US",
        "tenantType": "AAD",
        "createdDateTime": "2017-03-14T09:21:42Z",
        "technicalNotificationMails": [f"admin@{tenant.domain}"],
        "directorySizeQuota": {"used": used, "total": total},
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": True,
                "isInitial": False,
                "name": tenant.domain,
                "type": "Managed",
            },
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": False,
                "isInitial": True,
                "name": f"{initial}.onmicrosoft.com",
                "type": "Managed",
            },
        ],
        "onPremisesSyncEnabled": None,
        "securityComplianceNotificationMails": [],
    }
