"""Import and export of the documentation set as JSON (organizations with nested contacts) or CSV (one file
of organizations, one of contacts). Imports are upserts keyed by id (ids derived from the name when blank), so
importing the same file twice changes nothing; an import never drops the Microsoft 365 link of a contact
that the file does not mention."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import asdict

from shared.docstore.base import DocumentationStore
from shared.docstore.model import Contact, Organization

_IMPORT_NS = uuid.UUID("0f6a3f2d-8d4e-4c1a-a7f1-3b2c5d6e7f80")
ORG_FIELDS = ["id", "name", "tenant_id", "link_source", "notes"]
CONTACT_FIELDS = [
    "organization_id", "organization_name", "id", "first_name", "last_name", "title", "emails", "phones",
    "active", "link_tenant", "link_user", "link_source", "link_rule", "notes",
]  # fmt: skip
_LINK_FIELDS = ("link_tenant", "link_user", "link_source", "link_rule", "deactivated_by_sync")


class ImportError_(ValueError):  # noqa: N801 - not the builtin ImportError
    pass


def _split(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value or "").replace(",", ";").split(";") if p.strip()]


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "n", "inactive")


def _org_id(row: dict) -> str:
    return (row.get("id") or "").strip() or str(uuid.uuid5(_IMPORT_NS, "org/" + row["name"].strip().lower()))


def _contact_id(org_id: str, row: dict) -> str:
    given = (row.get("id") or "").strip()
    if given:
        return given
    key = (_split(row.get("emails")) or [f"{row.get('first_name', '')} {row.get('last_name', '')}"])[0]
    return str(uuid.uuid5(_IMPORT_NS, f"contact/{org_id}/{key.strip().lower()}"))


class _Importer:
    def __init__(self, store: DocumentationStore) -> None:
        self.store = store
        self.orgs = {o.id: o for o in store.organizations()}
        self.by_name = {o.name.strip().lower(): o.id for o in self.orgs.values()}
        self.counts = {"organizations": 0, "contacts": 0}

    def org(self, row: dict) -> str:
        if not (row.get("name") or "").strip():
            raise ImportError_(f"organization without a name: {row}")
        org_id = _org_id(row)
        old = self.orgs.get(org_id)
        org = Organization(
            id=org_id,
            name=row["name"].strip(),
            tenant_id=(row.get("tenant_id") or (old.tenant_id if old else "")).strip().lower(),
            link_source=row.get("link_source") or (old.link_source if old else "") or "",
            notes=row.get("notes") or (old.notes if old else ""),
        )
        if org.tenant_id and not org.link_source:
            org.link_source = "manual"
        if old != org:
            self.store.save_organization(org)
        self.orgs[org_id] = org
        self.by_name[org.name.lower()] = org_id
        self.counts["organizations"] += 1
        return org_id

    def contacts(self, rows: list[dict], default_org: str = "") -> None:
        out: list[Contact] = []
        existing: dict[str, dict[str, Contact]] = {}
        for row in rows:
            org_id = (row.get("organization_id") or "").strip() or default_org
            if not org_id and row.get("organization_name"):
                org_id = self.by_name.get(row["organization_name"].strip().lower(), "")
            if org_id not in self.orgs:
                raise ImportError_(f"contact {row.get('first_name')} {row.get('last_name')}: unknown organization")
            if org_id not in existing:
                existing[org_id] = {c.id: c for c in self.store.contacts(org_id)}
            contact_id = _contact_id(org_id, row)
            old = existing[org_id].get(contact_id)
            c = Contact(
                organization_id=org_id,
                id=contact_id,
                first_name=(row.get("first_name") or "").strip(),
                last_name=(row.get("last_name") or "").strip(),
                title=(row.get("title") or "").strip(),
                emails=_split(row.get("emails")),
                phones=_split(row.get("phones")),
                active=_bool(row.get("active", True)),
                notes=row.get("notes") or "",
            )
            for f in _LINK_FIELDS:
                value = row.get(f)
                if value not in (None, ""):
                    setattr(c, f, _bool(value) if f == "deactivated_by_sync" else str(value).strip().lower())
                elif old is not None:
                    setattr(c, f, getattr(old, f))
            if old != c:
                out.append(c)
            self.counts["contacts"] += 1
        self.store.save_contacts(out)


def import_json(store: DocumentationStore, text: str) -> dict[str, int]:
    data = json.loads(text)
    orgs = data.get("organizations", []) if isinstance(data, dict) else data
    imp = _Importer(store)
    for row in orgs:
        org_id = imp.org(row)
        imp.contacts(list(row.get("contacts", [])), default_org=org_id)
    if isinstance(data, dict) and data.get("contacts"):
        imp.contacts(list(data["contacts"]))
    return imp.counts


def import_csv(store: DocumentationStore, text: str) -> dict[str, int]:
    """One CSV file: organizations (a `name` column) or contacts (a `first_name` column)."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    imp = _Importer(store)
    header = set(rows[0]) if rows else set()
    if "first_name" in header or "last_name" in header:
        imp.contacts(rows)
    elif "name" in header:
        for row in rows:
            imp.org(row)
    elif rows:
        raise ImportError_("CSV needs a 'name' column (organizations) or 'first_name'/'last_name' (contacts)")
    return imp.counts


def export_json(store: DocumentationStore) -> str:
    out = []
    for o in store.organizations():
        d = asdict(o)
        d["contacts"] = [
            {k: v for k, v in asdict(c).items() if k != "organization_id"}
            for c in sorted(store.contacts(o.id), key=lambda c: (c.last_name.lower(), c.first_name.lower(), c.id))
        ]
        out.append(d)
    return json.dumps({"organizations": out}, ensure_ascii=False, indent=2) + "\n"


def export_csv(store: DocumentationStore, kind: str) -> str:
    buf = io.StringIO()
    orgs = store.organizations()
    if kind == "organizations":
        w = csv.DictWriter(buf, ORG_FIELDS, lineterminator="\n")
        w.writeheader()
        for o in orgs:
            w.writerow({k: getattr(o, k) for k in ORG_FIELDS})
        return buf.getvalue()
    if kind != "contacts":
        raise ValueError("kind must be organizations or contacts")
    w = csv.DictWriter(buf, CONTACT_FIELDS, lineterminator="\n")
    w.writeheader()
    for o in orgs:
        for c in sorted(store.contacts(o.id), key=lambda c: (c.last_name.lower(), c.first_name.lower(), c.id)):
            row = {k: getattr(c, k, "") for k in CONTACT_FIELDS}
            row.update(organization_name=o.name, emails=";".join(c.emails), phones=";".join(c.phones))
            row["active"] = "true" if c.active else "false"
            w.writerow(row)
    return buf.getvalue()
