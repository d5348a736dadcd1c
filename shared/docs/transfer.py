"""Import and export of the documentation set as JSON (organizations with nested contacts) or CSV (one file
of organizations, one of contacts). Imports are upserts keyed by id (ids derived from the name when blank), so
importing the same file twice changes nothing; an import never drops the Microsoft 365 link of a contact
that the file does not mention. An import is all or nothing: the whole file is validated before the first
write, and a refusal names every bad or duplicate record."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import asdict

from shared.docs.base import DocumentationStore
from shared.docs.model import Contact, Organization
from shared.docs.tables import TableDocumentationStore
from shared.store import storage

_IMPORT_NS = uuid.UUID("0f6a3f2d-8d4e-4c1a-a7f1-3b2c5d6e7f80")
ORG_FIELDS = ["id", "name", "tenant_id", "link_source", "notes"]
CONTACT_FIELDS = [
    "organization_id", "organization_name", "id", "first_name", "last_name", "title", "emails", "phones",
    "active", "link_tenant", "link_user", "link_source", "link_rule", "notes",
]  # fmt: skip
_LINK_FIELDS = ("link_tenant", "link_user", "link_source", "link_rule", "deactivated_by_sync")


class ImportError_(ValueError):  # not the builtin ImportError
    status = 400


MAX_PROBLEMS_SHOWN = 20


class ImportRefused(ImportError_):
    """The file has bad records: nothing was written. `problems` names each one (record, field, what is wrong)."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"; and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"import refused, nothing written: {len(problems)} {noun}: {shown}{more}")
        self.problems = problems


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


def _clean(row: object, where: str, problems: list[str], lists: tuple[str, ...] = ()) -> dict | None:
    """The record with every value as text (lists kept for `lists`), or None after naming what is wrong."""
    if not isinstance(row, dict):
        problems.append(f"{where}: not an object")
        return None
    out: dict = {}
    for key, value in row.items():
        if key is None:  # csv.DictReader puts a row's extra cells under None
            problems.append(f"{where}: more cells than the header has columns")
            continue
        if value is None or isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool | int | float):
            out[key] = str(value).lower() if isinstance(value, bool) else str(value)
        elif isinstance(value, list) and key in lists and all(isinstance(v, str | int | float) for v in value):
            out[key] = [str(v) for v in value]
        elif key != "contacts":
            problems.append(f"{where}, field '{key}': must be text")
    return out


def _key_problem(value: str, what: str) -> str | None:
    try:
        storage.check_key(value, what)
    except storage.InvalidKeyError as exc:
        return str(exc)
    return None


class _Importer:
    """Validates a whole file into a plan (organizations and contacts to write); `write` applies it."""

    def __init__(self, store: TableDocumentationStore) -> None:
        self.store = store
        self.orgs = {o.id: o for o in store.organizations()}
        self.by_name = {o.name.strip().lower(): o.id for o in self.orgs.values()}
        self.counts = {"organizations": 0, "contacts": 0}
        self.problems: list[str] = []
        self.orgs_out: dict[str, Organization] = {}
        self.contacts_out: dict[tuple[str, str], Contact] = {}
        self._org_seen: dict[str, str] = {}  # id -> where it was first seen in this file
        self._contact_seen: dict[tuple[str, str], str] = {}
        self._existing: dict[str, dict[str, Contact]] = {}

    def org(self, raw: object, where: str) -> str:
        row = _clean(raw, where, self.problems)
        if row is None:
            return ""
        if not (row.get("name") or "").strip():
            self.problems.append(f"{where}, field 'name': empty (an organization needs a name)")
            return ""
        org_id = _org_id(row)
        problem = _key_problem(org_id, f"{where}, field 'id'")
        if problem:
            self.problems.append(problem)
            return ""
        if org_id in self._org_seen:
            self.problems.append(f"{where}: duplicate of {self._org_seen[org_id]} (same organization id {org_id!r})")
            return ""
        self._org_seen[org_id] = where
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
            self.orgs_out[org_id] = org
        self.orgs[org_id] = org
        self.by_name[org.name.lower()] = org_id
        self.counts["organizations"] += 1
        return org_id

    def contacts(self, raws: list, where: str, default_org: str = "") -> None:
        for n, raw in enumerate(raws, start=1):
            self.contact(raw, where.format(n=n), default_org)

    def contact(self, raw: object, where: str, default_org: str) -> None:
        row = _clean(raw, where, self.problems, lists=("emails", "phones"))
        if row is None:
            return
        org_id = (row.get("organization_id") or "").strip() or default_org
        org_field = "organization_id"
        if not org_id and row.get("organization_name"):
            org_field = "organization_name"
            org_id = self.by_name.get(row["organization_name"].strip().lower(), "")
        if org_id not in self.orgs:
            if not org_id and org_field == "organization_id":
                self.problems.append(f"{where}: needs organization_id or organization_name")
            else:
                shown = str(row.get(org_field) or "")[:80]
                self.problems.append(f"{where}, field '{org_field}': unknown organization {shown!r}")
            return
        if not any((row.get(f) or "") for f in ("first_name", "last_name")) and not _split(row.get("emails")):
            self.problems.append(f"{where}: a contact needs first_name, last_name or emails")
            return
        contact_id = _contact_id(org_id, row)
        problem = _key_problem(contact_id, f"{where}, field 'id'")
        if problem:
            self.problems.append(problem)
            return
        key = (org_id, contact_id)
        if key in self._contact_seen:
            self.problems.append(f"{where}: duplicate of {self._contact_seen[key]} (same contact id {contact_id!r})")
            return
        self._contact_seen[key] = where
        if org_id not in self._existing:
            self._existing[org_id] = {c.id: c for c in self.store.contacts(org_id)}
        old = self._existing[org_id].get(contact_id)
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
            self.contacts_out[key] = c
        self.counts["contacts"] += 1

    def write(self) -> dict[str, int]:
        if self.problems:
            raise ImportRefused(self.problems)
        # Organizations first: a contact never points at an organization that is not stored.
        self.store.save_organizations(list(self.orgs_out.values()))
        self.store.save_contacts(list(self.contacts_out.values()))
        return self.counts


def import_json(store: TableDocumentationStore, text: str) -> dict[str, int]:
    """All or nothing: every record is checked before the first write; ImportRefused names the bad ones."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        hint = "; a CSV file needs format csv" if sniff(text) == "csv" else ""
        raise ImportError_(f"the body is not valid JSON ({exc}){hint}") from None
    if isinstance(data, dict):
        orgs, loose = data.get("organizations", []), data.get("contacts") or []
    else:
        orgs, loose = data, []
    if not isinstance(orgs, list) or not isinstance(loose, list):
        raise ImportError_('JSON import needs {"organizations": [...], "contacts": [...]} or a list of organizations')
    imp = _Importer(store)
    for n, row in enumerate(orgs, start=1):
        org_id = imp.org(row, f"organization {n}")
        nested = row.get("contacts", []) if isinstance(row, dict) else []
        if not isinstance(nested, list):
            imp.problems.append(f"organization {n}, field 'contacts': must be a list")
        elif org_id:
            imp.contacts(nested, f"organization {n} contact {{n}}", default_org=org_id)
    imp.contacts(loose, "contact {n}")
    return imp.write()


def import_csv(store: TableDocumentationStore, text: str) -> dict[str, int]:
    """One CSV file: organizations (a `name` column) or contacts (a `first_name` column). Row numbers in the
    messages are the file's line numbers (the header is line 1). All or nothing, as import_json."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ImportError_(f"the CSV is malformed at line {reader.line_num}: {exc}") from None
    imp = _Importer(store)
    header = set(reader.fieldnames or [])
    if "first_name" in header or "last_name" in header:
        for n, row in enumerate(rows, start=2):
            imp.contact(row, f"row {n}", "")
    elif "name" in header:
        for n, row in enumerate(rows, start=2):
            imp.org(row, f"row {n}")
    elif rows or header:
        raise ImportError_("CSV needs a 'name' column (organizations) or 'first_name'/'last_name' (contacts)")
    return imp.write()


def sniff(text: str) -> str | None:
    """'json' or 'csv' from the body itself, None when it is neither recognisably."""
    head = text.lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "["):
        return "json"
    first = head.split("\n", 1)[0].lower()
    columns = {c.strip().strip('"') for c in first.split(",")}
    if columns & {"name", "first_name", "last_name", "organization_id", "organization_name"}:
        return "csv"
    return None


def import_text(store: TableDocumentationStore, text: str, fmt: str | None = None) -> dict[str, int]:
    """Import a body whose format is given or recognised from its content."""
    fmt = fmt or sniff(text)
    if fmt is None:
        raise ImportError_("cannot tell whether the body is JSON or CSV: give the format (json or csv)")
    return import_json(store, text) if fmt == "json" else import_csv(store, text)


def export_json(store: DocumentationStore) -> str:
    out = []
    for o in store.organizations():
        d = asdict(o)
        d["contacts"] = [
            {k: v for k, v in asdict(c).items() if k not in ("organization_id", "labels")}
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
