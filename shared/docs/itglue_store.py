"""`DocumentationStore` on IT Glue (DOCS_BACKEND=itglue), through `shared.docs.itglue` (the only module that
speaks IT Glue's HTTP) and o365mon's ledger (`shared.docs.ledger`), which keeps the links IT Glue has no field
for and makes every creation happen once.

Field mapping, as IT Glue's own Office 365 integration: first and last name (IT Glue's `name` is both), title =
job title, contact-emails = the primary address (label Work, primary) and the other aliases (label Alias),
contact-phones = business phones (Work) and mobile (Mobile). An update sends only the owned fields that changed,
and merges e-mails and phones into the documented ones. A contact whose user is disabled or gone gets the
configured contact type (ITGLUE_TERMINATED_CONTACT_TYPE_ID; the ledger keeps the previous one) or a dated note
line; it is never deleted. A 422 on one record (a PSA-synced contact, a value IT Glue refuses) is recorded with
its pointer and the rest of the request is sent again without it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shared import settings
from shared.docs.base import StoreReport
from shared.docs.itglue import PAGE_SIZE, ItGlueClient, ItGlueError, ItGlueOutcomeUnknown, Resource
from shared.docs.ledger import DONE, PENDING, REJECTED, ContactEntry, Ledger, OrgEntry, fingerprint
from shared.docs.model import CREATED, Contact, Organization
from shared.matching.normalize import email as norm_email
from shared.matching.normalize import fold

if TYPE_CHECKING:
    from shared.directory.model import DirectoryInfo, DirectoryUser

log = logging.getLogger("o365mon.itglue")

WORK, MOBILE, ALIAS = "Work", "Mobile", "Alias"
DISABLED_NOTE = "Disabled in Microsoft 365 (o365mon) on {date}"
ENABLED_NOTE = "Enabled in Microsoft 365 (o365mon) on {date}"
_NOTE_STATE = re.compile(r"^(Disabled|Enabled) in Microsoft 365 \(o365mon\) on ", re.MULTILINE)
_ITEM_POINTER = re.compile(r"^/data/(\d+)(?:/|$)")
PHONE_KEYS = ("value", "extension", "primary", "label-name", "label-type")
CREATE_ATTEMPTS = 3


def _phone_key(value: str) -> str:
    return re.sub(r"[^\d+]", "", value or "")


def _person(first: str, last: str) -> str:
    return f"{fold(first or '')} {fold(last or '')}".strip()


def _primary(attrs: dict[str, Any]) -> str:
    items = attrs.get("contact-emails") or []
    return norm_email(next((i.get("value") or "" for i in items if i.get("primary")), ""))


def _append_note(notes: str, line: str) -> str:
    return f"{notes.rstrip()}\n{line}" if notes and notes.strip() else line


def _error_text(what: str, err: dict[str, Any]) -> str:
    source = err.get("source") if isinstance(err.get("source"), dict) else {}
    pointer = (source or {}).get("pointer") or ""
    text = f"{what}: {err.get('status', 422)} {err.get('title') or 'Unprocessable Entity'}"
    if err.get("detail"):
        text += f": {err['detail']}"
    return text + (f" ({pointer})" if pointer else "")


def _bad_items(exc: ItGlueError, count: int) -> dict[int, dict[str, Any]]:
    """Index of each refused item of a bulk request (from `/data/<i>/...` pointers) -> its error."""
    bad: dict[int, dict[str, Any]] = {}
    for err in exc.errors:
        source = err.get("source") if isinstance(err.get("source"), dict) else {}
        m = _ITEM_POINTER.match(str((source or {}).get("pointer") or ""))
        if m and int(m.group(1)) < count:
            bad.setdefault(int(m.group(1)), err)
    if not bad and count == 1:
        bad[0] = exc.errors[0] if exc.errors else {"status": exc.status, "title": exc.title, "detail": exc.detail}
    return bad


class ItGlueDocumentationStore:
    def __init__(
        self,
        client: ItGlueClient | None = None,
        ledger: Ledger | None = None,
        *,
        terminated_type_id: str | None = None,
        today: Callable[[], str] | None = None,
        owns_client: bool | None = None,
    ) -> None:
        """`owns_client`: close() closes the client too (default: only the one made here)."""
        self._own_client = client is None if owns_client is None else owns_client
        self.client = client or ItGlueClient()
        self.ledger = ledger or Ledger()
        if terminated_type_id is None:
            terminated_type_id = settings.get("ITGLUE_TERMINATED_CONTACT_TYPE_ID")
        self.terminated_type_id = terminated_type_id.strip()
        if self.terminated_type_id and not self.terminated_type_id.isdigit():
            # Checked here rather than at the first disabled user, halfway through a run.
            raise ValueError("ITGLUE_TERMINATED_CONTACT_TYPE_ID must be an IT Glue contact type id (a number)")
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date().isoformat())
        self._raw: dict[str, dict[str, Any]] = {}  # contact id -> attributes as last read (to merge into)
        self._rejections: list[str] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def document_licences(
        self,
        tenant_id: str,
        org_id: str,
        info: DirectoryInfo,
        users: Sequence[DirectoryUser],
        contact_ids: Mapping[str, str],
    ) -> list[str]:
        from shared.docs import itglue_licences

        try:
            # Account-wide and cached for the process; without subscriptions only earlier assets could need marking.
            ltype = itglue_licences.account_licence_type(self.client, create=bool(info.skus))
        except itglue_licences.LicenceTypeUnusable as exc:
            self._reject(f"licences: {exc}")
            return []
        if ltype is None:
            return []
        res = itglue_licences.sync_licences(
            self.client,
            organization_id=org_id,
            info=info,
            users=users,
            contact_ids=contact_ids,
            licence_type=ltype,
        )
        for err in res.errors:
            self._reject(err.text())
        lines = [
            f"licences: {res.created} created, {res.updated} updated, {res.unchanged} unchanged"
            + (f", {len(res.vanished)} no longer in the tenant" if res.vanished else "")
        ]
        return lines + res.notes

    def report(self) -> StoreReport:
        s = self.client.stats
        with self._lock:
            rejections = list(self._rejections)
        return StoreReport(s.requests, s.throttled, s.throttle_wait_seconds, rejections)

    def _reject(self, text: str) -> None:
        log.warning("IT Glue refused %s", text)
        with self._lock:
            self._rejections.append(text)

    # ----------------------------------------------------------------- organizations
    def _links(self) -> dict[str, OrgEntry]:
        """Organization id -> the tenant's ledger entry linking it."""
        return {e.org_id: e for e in self.ledger.org_entries().values() if e.state == DONE and e.org_id}

    @staticmethod
    def _org(r: Resource, link: OrgEntry | None) -> Organization:
        return Organization(
            id=r.id,
            name=r.get("name") or "",
            tenant_id=link.tenant_id if link else "",
            link_source=link.source if link else "",
        )

    def organizations(self) -> list[Organization]:
        links = self._links()
        orgs = [self._org(r, links.get(r.id)) for r in self.client.list_organizations()]
        return sorted(orgs, key=lambda o: (o.name.lower(), o.id))

    def organization(self, org_id: str) -> Organization | None:
        if not org_id.isdigit():
            return None  # IT Glue ids are numbers: anything else names no record
        try:
            r = self.client.get_organization(organization_id=org_id)
        except ItGlueError as exc:
            if exc.status == 404:
                return None
            raise
        return self._org(r, self._links().get(r.id))

    def _find_created_org(self, name: str, tenant_id: str) -> Resource | None:
        """The organization a lost create made: exact name, not linked to another tenant; the newest wins (a
        namesake a person made existed before ours)."""
        links = self._links()
        free = [
            r
            for r in self.client.list_organizations(name=name)
            if r.get("name") == name and (r.id not in links or links[r.id].tenant_id == tenant_id)
        ]
        return max(free, key=lambda r: int(r.id), default=None)

    def create_organization(self, tenant_id: str, name: str) -> Organization:
        entry = self.ledger.org_entry(tenant_id)
        if entry is not None and entry.state == DONE and entry.source == CREATED and entry.org_id:
            org = self.organization(entry.org_id)
            if org is not None:
                return org  # created by an earlier delivery of this decision
        name = (name or tenant_id).strip()
        found = None
        if entry is not None and entry.state == PENDING and entry.name:
            found = self._find_created_org(entry.name, tenant_id)
        if found is None:
            body = {"name": name}
            self.ledger.save_org(OrgEntry(tenant_id, PENDING, name=name, source=CREATED, fingerprint=fingerprint(body)))
            try:
                found = self.client.create_organization(name=name)
            except ItGlueOutcomeUnknown:
                found = self._find_created_org(name, tenant_id)
                if found is None:
                    raise  # not created after all: the intent stays pending, the retry reads again first
        self._save_link(tenant_id, found.id, CREATED, name)
        return self._org(found, OrgEntry(tenant_id, DONE, found.id, source=CREATED))

    def _save_link(self, tenant_id: str, org_id: str, source: str, name: str = "") -> None:
        for other, e in self.ledger.org_entries().items():
            if e.org_id == org_id and other != tenant_id:
                self.ledger.delete_org(other)  # an organization documents one tenant
        self.ledger.save_org(OrgEntry(tenant_id, DONE, org_id, name=name, source=source))

    def link_organization(self, tenant_id: str, org_id: str, source: str) -> None:
        current = self.ledger.org_entry(tenant_id)
        if current is not None and current.state == DONE and current.org_id == org_id:
            return
        self._save_link(tenant_id, org_id, source)

    def unlink_organization(self, tenant_id: str) -> None:
        if self.ledger.org_entry(tenant_id) is not None:
            self.ledger.delete_org(tenant_id)

    # ----------------------------------------------------------------- contacts (read)
    def _active(self, attrs: dict[str, Any]) -> bool:
        if self.terminated_type_id:
            return str(attrs.get("contact-type-id") or "") != self.terminated_type_id
        states = _NOTE_STATE.findall(attrs.get("notes") or "")
        return not states or states[-1] != "Disabled"

    def _contact(self, org_id: str, r: Resource, entry: ContactEntry | None) -> Contact:
        a = r.attributes
        self._raw[r.id] = a
        emails = sorted(a.get("contact-emails") or [], key=lambda i: not i.get("primary"))
        phones = a.get("contact-phones") or []
        labels = {i["value"]: i.get("label-name") or "" for i in [*emails, *phones] if i.get("value")}
        c = Contact(
            organization_id=org_id,
            id=r.id,
            first_name=a.get("first-name") or "",
            last_name=a.get("last-name") or "",
            title=a.get("title") or "",
            emails=[i["value"] for i in emails if i.get("value")],
            phones=[i["value"] for i in phones if i.get("value")],
            active=self._active(a),
            notes=a.get("notes") or "",
            labels=labels,
        )
        if entry is not None:
            c.link_tenant, c.link_user = entry.tenant_id, entry.user_id
            c.link_source, c.link_rule = entry.source, entry.rule
            c.deactivated_by_sync = entry.deactivated_by_sync
        return c

    def _resolve(
        self, pending: Sequence[ContactEntry], listed: Sequence[Resource], entries: dict[str, ContactEntry]
    ) -> list[ContactEntry]:
        """Pending intents whose contact IT Glue has (same primary e-mail and name, not linked to another user):
        marked done in the ledger and returned. The newest candidate wins: a namesake a person made is older."""
        taken = {e.contact_id for e in entries.values() if e.state == DONE and e.contact_id}
        index: dict[tuple[str, str], list[Resource]] = {}
        for r in listed:
            if r.id not in taken:
                key = (_primary(r.attributes), _person(r.get("first-name") or "", r.get("last-name") or ""))
                index.setdefault(key, []).append(r)
        resolved = []
        for e in pending:
            candidates = [r for r in index.get((e.email, _person(e.first_name, e.last_name)), []) if r.id not in taken]
            if candidates:
                r = max(candidates, key=lambda r: int(r.id))
                taken.add(r.id)
                resolved.append(replace(e, state=DONE, contact_id=r.id))
        if resolved:
            self.ledger.save_contacts(resolved)
            for e in resolved:
                entries[e.user_id] = e
        return resolved

    def contacts(self, org_id: str) -> list[Contact]:
        listed = self.client.list_contacts(organization_id=org_id)
        by_contact: dict[str, ContactEntry] = {}
        for tenant_id in sorted(e.tenant_id for e in self._links().values() if e.org_id == org_id):
            entries = self.ledger.contacts(tenant_id)
            pending = [e for e in entries.values() if e.state == PENDING and e.org_id == org_id]
            if pending:  # answers lost earlier: adopt what IT Glue has before anyone plans a new create
                self._resolve(pending, listed, entries)
            by_contact.update({e.contact_id: e for e in entries.values() if e.state == DONE and e.contact_id})
        return [self._contact(org_id, r, by_contact.get(r.id)) for r in listed]

    def contact(self, org_id: str, contact_id: str) -> Contact | None:
        return next((c for c in self.contacts(org_id) if c.id == contact_id), None)

    # ----------------------------------------------------------------- contacts (create)
    def _mark(self, attrs: dict[str, Any], notes: str) -> None:
        if self.terminated_type_id:
            attrs["contact-type-id"] = int(self.terminated_type_id)
        else:
            attrs["notes"] = _append_note(notes, DISABLED_NOTE.format(date=self._today()))

    def _create_body(self, c: Contact) -> dict[str, Any]:
        body: dict[str, Any] = {
            "first-name": c.first_name or None,
            "last-name": c.last_name or None,
            "contact-emails": [
                {"value": e, "primary": i == 0, "label-name": c.labels.get(e) or (WORK if i == 0 else ALIAS)}
                for i, e in enumerate(c.emails)
            ],
            "contact-phones": [
                {"value": p, "primary": i == 0, "label-name": c.labels.get(p) or WORK, "label-type": "phone"}
                for i, p in enumerate(c.phones)
            ],
        }
        if c.title:
            body["title"] = c.title
        if not c.active:
            self._mark(body, "")
        return {k: v for k, v in body.items() if v is not None}

    def create_contacts(self, tenant_id: str, org_id: str, contacts: Sequence[Contact]) -> list[Contact]:
        if not contacts:
            return []
        entries = self.ledger.contacts(tenant_id)
        wanted = {c.link_user: c for c in contacts}
        made: list[Contact] = []
        pending = [entries[u] for u in wanted if u in entries and entries[u].state == PENDING]
        if pending:
            listed = self.client.list_contacts(organization_id=org_id)
            by_id = {r.id: r for r in listed}
            for e in self._resolve(pending, listed, entries):
                made.append(self._contact(org_id, by_id[e.contact_id], e))
                wanted.pop(e.user_id)
        todo = list(wanted.values())
        bodies = [self._create_body(c) for c in todo]
        intents = [
            ContactEntry(
                tenant_id,
                c.link_user,
                PENDING,
                org_id=org_id,
                source=CREATED,
                fingerprint=fingerprint(b),
                email=norm_email(c.emails[0]) if c.emails else "",
                first_name=c.first_name,
                last_name=c.last_name,
                deactivated_by_sync=c.deactivated_by_sync,
            )
            for c, b in zip(todo, bodies, strict=True)
        ]
        self.ledger.save_contacts(intents)  # before the POST: a lost answer is then resolved, never re-sent
        for start in range(0, len(todo), PAGE_SIZE):
            end = start + PAGE_SIZE
            made.extend(self._create_chunk(tenant_id, org_id, todo[start:end], bodies[start:end], intents[start:end]))
        return made

    def _create_chunk(
        self,
        tenant_id: str,
        org_id: str,
        contacts: Sequence[Contact],
        bodies: Sequence[dict[str, Any]],
        intents: Sequence[ContactEntry],
    ) -> list[Contact]:
        items = list(zip(contacts, bodies, intents, strict=True))
        made: list[Contact] = []
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            if not items:
                break
            try:
                created = self.client.create_contacts(organization_id=org_id, contacts=[b for _, b, _ in items])
            except ItGlueOutcomeUnknown:
                # The bulk may have committed: read back and adopt, then send only what is really missing.
                listed = self.client.list_contacts(organization_id=org_id)
                by_id = {r.id: r for r in listed}
                resolved = self._resolve([e for _, _, e in items], listed, self.ledger.contacts(tenant_id))
                made.extend(self._contact(org_id, by_id[e.contact_id], e) for e in resolved)
                done = {e.user_id for e in resolved}
                items = [x for x in items if x[2].user_id not in done]
                if items and attempt == CREATE_ATTEMPTS:
                    raise
                continue
            except ItGlueError as exc:
                bad = _bad_items(exc, len(items)) if exc.status == 422 else {}
                if not bad:
                    raise
                rejected = []
                for i, err in sorted(bad.items()):
                    c, _, e = items[i]
                    text = _error_text(f"new contact {c.first_name} {c.last_name} (user {c.link_user})", err)
                    self._reject(text)
                    rejected.append(replace(e, state=REJECTED, error=text))
                self.ledger.save_contacts(rejected)
                items = [x for i, x in enumerate(items) if i not in bad]
                continue
            done_entries = []
            for (_, _, e), r in zip(items, created, strict=True):
                e = replace(e, state=DONE, contact_id=r.id)
                done_entries.append(e)
                made.append(self._contact(org_id, r, e))
            self.ledger.save_contacts(done_entries)
            break
        return made

    # ----------------------------------------------------------------- contacts (update)
    def _raw_of(self, contact_id: str) -> dict[str, Any]:
        if contact_id not in self._raw:
            self._raw[contact_id] = self.client.get_contact(contact_id=contact_id).attributes
        return self._raw[contact_id]

    def _diff(self, old: Contact, new: Contact, entry: ContactEntry | None) -> tuple[dict[str, Any], ContactEntry]:
        """The attributes to PATCH (owned fields that changed; lists merged into what is documented) and the
        ledger entry the contact should have."""
        attrs: dict[str, Any] = {}
        for name in ("first_name", "last_name", "title"):
            value = getattr(new, name)
            if value and value != getattr(old, name):
                attrs[name.replace("_", "-")] = value
        known = {norm_email(e) for e in old.emails}
        added = [e for e in new.emails if norm_email(e) not in known]
        if added:
            items = [dict(i) for i in self._raw_of(old.id).get("contact-emails") or []]
            has_primary = any(i.get("primary") for i in items)
            for e in added:
                label = new.labels.get(e) or ALIAS
                primary = not has_primary and label == WORK
                has_primary = has_primary or primary
                items.append({"value": e, "primary": primary, "label-name": label})
            attrs["contact-emails"] = items
        have = {_phone_key(p) for p in old.phones}
        new_phones = [p for p in new.phones if _phone_key(p) not in have]
        if new_phones:
            raw = self._raw_of(old.id).get("contact-phones") or []
            items = [{k: i.get(k) for k in PHONE_KEYS if i.get(k) is not None} for i in raw]
            items += [
                {"value": p, "primary": False, "label-name": new.labels.get(p) or WORK, "label-type": "phone"}
                for p in new_phones
            ]
            attrs["contact-phones"] = items
        base = entry or ContactEntry(new.link_tenant, new.link_user, DONE, org_id=new.organization_id)
        wanted = replace(
            base,
            state=DONE,
            contact_id=new.id,
            org_id=new.organization_id,
            source=base.source or new.link_source,
            rule=base.rule or new.link_rule,
            deactivated_by_sync=new.deactivated_by_sync,
        )
        if old.active and not new.active:
            raw = self._raw_of(old.id)
            if self.terminated_type_id:
                wanted.previous_type_id = str(raw.get("contact-type-id") or "")
            self._mark(attrs, raw.get("notes") or "")
        elif new.active and not old.active:
            if self.terminated_type_id:
                prev = (entry.previous_type_id if entry else "") or ""
                attrs["contact-type-id"] = int(prev) if prev else None
            else:
                line = ENABLED_NOTE.format(date=self._today())
                attrs["notes"] = _append_note(self._raw_of(old.id).get("notes") or "", line)
            wanted.previous_type_id = ""
        return attrs, wanted

    def update_contacts(self, changes: Sequence[tuple[Contact, Contact]]) -> int:
        ledgers: dict[str, dict[str, ContactEntry]] = {}
        patches: dict[str, dict[str, Any]] = {}
        rows: dict[str, tuple[ContactEntry | None, ContactEntry]] = {}
        names: dict[str, str] = {}
        for old, new in changes:
            if not new.linked:
                continue  # never touch a contact the integration did not create or link
            if new.link_tenant not in ledgers:
                ledgers[new.link_tenant] = self.ledger.contacts(new.link_tenant)
            entry = ledgers[new.link_tenant].get(new.link_user)
            if entry is not None and not (entry.state == DONE and entry.contact_id == new.id):
                entry = None  # another contact, or a create that never happened: this link replaces it
            attrs, wanted = self._diff(old, new, entry)
            if attrs:
                patches[new.id] = attrs
                names[new.id] = f"{old.first_name} {old.last_name}".strip()
            if entry is None or wanted != replace(entry, updated=wanted.updated):
                rows[new.id] = (entry, wanted)
        refused = self._patch(patches, names)
        ledger_rows = []
        for contact_id, (entry, wanted) in rows.items():
            if contact_id in refused:
                if entry is not None and entry.contact_id == contact_id:
                    continue  # nothing changed after all: the ledger keeps what IT Glue still shows
                # The link is o365mon's own data: keep it even though IT Glue refused the fields.
                wanted = replace(wanted, deactivated_by_sync=False, previous_type_id="")
            ledger_rows.append(wanted)
        self.ledger.save_contacts(ledger_rows)
        return len((set(patches) - refused) | {r.contact_id for r in ledger_rows})

    def _patch(self, patches: dict[str, dict[str, Any]], names: dict[str, str]) -> set[str]:
        """Bulk PATCH in chunks; a chunk IT Glue refuses for some items is sent again without them. Returns the
        ids refused."""
        refused: set[str] = set()
        items = list(patches.items())
        for start in range(0, len(items), PAGE_SIZE):
            chunk = items[start : start + PAGE_SIZE]
            while chunk:
                try:
                    self.client.patch_contacts(updates=dict(chunk))
                    break
                except ItGlueError as exc:
                    bad = _bad_items(exc, len(chunk)) if exc.status == 422 else {}
                    if not bad:
                        raise
                    for i, err in sorted(bad.items()):
                        contact_id = chunk[i][0]
                        refused.add(contact_id)
                        self._reject(_error_text(f"contact {contact_id} ({names.get(contact_id, '')})", err))
                    chunk = [x for i, x in enumerate(chunk) if i not in bad]
        return refused
