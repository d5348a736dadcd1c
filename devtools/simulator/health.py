"""Service health (`/admin/serviceAnnouncement/healthOverviews`) data: deterministic per tenant, or set by tests.

Values are stored in Graph's camelCase enum spelling; `render()` applies the simulator's casing switch
(PascalCase, as in the doc examples) and the optional unknown enum value (the SDK turns it into None).
"""

from __future__ import annotations

import copy
import datetime as dt
import random

from .tenants import SampleTenant

UNKNOWN_ENUM_VALUE = "someFutureStatus"
_ENUM_FIELDS = ("status", "classification", "origin")
_POST_ENUM_FIELDS = ("postType",)

_SERVICES = (
    ("Exchange", "Exchange Online", "EX", ("Email and calendar access", "E-Mail and calendar access")),
    ("microsoftteams", "Microsoft Teams", "TM", ("Teams Components", "Chat")),
    ("SharePoint", "SharePoint Online", "SP", ("SharePoint Features", "Search")),
    ("OneDriveForBusiness", "OneDrive for Business", "OD", ("OneDrive for Business", "Sync")),
    ("OrgLiveID", "Identity Service", "ID", ("Authentication", "Sign-in")),
    ("OSDPPlatform", "Microsoft 365 suite", "MO", ("Portal", "Administration")),
    ("Intune", "Microsoft Intune", "IT", ("Device Management", "Enrollment")),
)
_OPEN_STATUSES = ("investigating", "serviceDegradation", "restoringService", "extendedRecovery", "serviceInterruption")
_CLOSED_STATUSES = ("serviceRestored", "falsePositive", "postIncidentReviewPublished")
_TITLES = (
    "Users may be unable to access the service",
    "Some users may experience delays",
    "Admins can't view some reports in the admin center",
    "Users may see errors when signing in",
    "Délai de synchronisation pour certains utilisateurs",
)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def default_health(tenant: SampleTenant) -> list[dict]:
    """A few services; some with incident/advisory issues, resolved and unresolved. Stable per tenant and day."""
    rng = random.Random(tenant.seed * 7919 + 3)
    today = dt.datetime.combine(tenant.today, dt.time(6, 0), dt.UTC)
    out = []
    for k, (sid, name, prefix, (feature_group, feature)) in enumerate(_SERVICES):
        issues = []
        roll = rng.random()
        # Service 1 (Teams) always has an open incident and service 0 (Exchange) a resolved advisory, so any
        # tenant exercises both; the rest vary with the seed.
        count = 1 if k in (0, 1) else (0 if roll < 0.5 else rng.randint(1, 2))
        for _ in range(count):
            resolved = k == 0 or (k != 1 and rng.random() < 0.5)
            classification = "incident" if k == 1 or (k != 0 and rng.random() < 0.5) else "advisory"
            start = today - dt.timedelta(hours=rng.randint(2, 200))
            end = start + dt.timedelta(hours=rng.randint(1, 30)) if resolved else None
            status = rng.choice(_CLOSED_STATUSES) if resolved else rng.choice(_OPEN_STATUSES)
            issues.append(
                {
                    "startDateTime": _iso(start),
                    "endDateTime": _iso(end) if end else None,
                    "lastModifiedDateTime": _iso((end or start) + dt.timedelta(minutes=rng.randint(1, 50))),
                    "title": rng.choice(_TITLES),
                    "id": f"{prefix}{700000 + rng.randint(0, 99999)}",
                    "impactDescription": f"Users of {name} may be affected.",
                    "classification": classification,
                    "origin": "microsoft",
                    "status": status,
                    "service": name,
                    "feature": feature,
                    "featureGroup": feature_group,
                    "isResolved": resolved,
                    "details": [],
                    "posts": [
                        {
                            "createdDateTime": _iso(start + dt.timedelta(minutes=10)),
                            "postType": "regular",
                            "description": {"contentType": "html", "content": f"Title: {name} issue."},
                        }
                    ],
                }
            )
        open_issues = [i for i in issues if not i["isResolved"]]
        status = open_issues[-1]["status"] if open_issues else ("serviceRestored" if issues else "serviceOperational")
        out.append({"service": name, "status": status, "id": sid, "issues": issues})
    return out


def centreon_mock_health() -> list[dict]:
    """The healthOverviews `value` of Centreon's upstream mock (tests/cloud/microsoft/office365/management/
    office365.mockoon.json), verbatim: three services, Teams with two unresolved issues."""

    def issue(issue_id: str, title: str, classification: str) -> dict:
        return {
            "id": issue_id,
            "title": title,
            "service": "Exchange Online",
            "feature": "Meetings and Calling",
            "featureGroup": "Realtime Communications",
            "classification": classification,
            "origin": "microsoft",
            "isResolved": False,
            "startDateTime": "2025-09-30T07:15:00Z",
            "endDateTime": None,
            "lastModifiedDateTime": "2025-09-30T08:05:12Z",
            "status": "serviceDegradation",
            "impactDescription": " \U0001f600 \u6f22me with special fields.",
            "details": [
                {"key": "affectedRegions", "value": "Europe, North America"},
                {"key": "estimatedScope", "value": "95% of users attempting peer-to-peer media sessions"},
            ],
            "posts": [],
        }

    return [
        {"service": "Exchange Online", "status": "serviceRestored", "id": "Exchange"},
        {
            "service": "Microsoft Teams",
            "status": "serviceDegradation",
            "id": "Teams",
            "issues": [
                issue("ABCDEF-01", " \U0001f600 \u6f22 with special fields", "Incident"),
                issue("ABCDEF-02", "un deuxieme", "advisory"),
            ],
        },
        {"service": "SharePoint Online", "status": "serviceOperational", "id": "POIUYT"},
    ]


def _pascal(value: object) -> object:
    return value[:1].upper() + value[1:] if isinstance(value, str) and value else value


def render(overviews: list[dict], *, expand_issues: bool, pascal_case: bool, unknown_enum: bool) -> list[dict]:
    """The items as served: issues only with $expand=issues; casing and the unknown enum value applied."""
    out = copy.deepcopy(overviews)
    for n, service in enumerate(out):
        if not expand_issues:
            service.pop("issues", None)
        if pascal_case:
            service["status"] = _pascal(service.get("status"))
            for issue in service.get("issues") or []:
                for name in _ENUM_FIELDS:
                    issue[name] = _pascal(issue.get(name))
                for post in issue.get("posts") or []:
                    for name in _POST_ENUM_FIELDS:
                        post[name] = _pascal(post.get(name))
                    if isinstance(post.get("description"), dict):
                        post["description"]["contentType"] = _pascal(post["description"].get("contentType"))
        if unknown_enum and n == len(out) - 1:
            service["status"] = UNKNOWN_ENUM_VALUE
    return out
