"""The demo's documentation set (devtools/sample_docs/documentation.json, the same file the own-tables demo
imports) written into the IT Glue simulator, as an MSP's existing IT Glue account would hold it: organizations
with near-miss names, contacts that match a Microsoft 365 user by alias, by user name, by name, or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devtools.itglue.server import ItGlueSimulator

SAMPLE_DOCS = Path(__file__).resolve().parents[1] / "sample_docs" / "documentation.json"


def _contact_attributes(contact: dict[str, Any]) -> dict[str, Any]:
    emails = [{"value": e, "primary": i == 0, "label_name": "Work"} for i, e in enumerate(contact.get("emails") or [])]
    attrs: dict[str, Any] = {
        "first_name": contact.get("first_name") or None,
        "last_name": contact.get("last_name") or None,
        "title": contact.get("title") or None,
        "notes": contact.get("notes") or None,
        "contact_emails": emails,
    }
    return {k: v for k, v in attrs.items() if v is not None}


def seed(sim: ItGlueSimulator, path: Path = SAMPLE_DOCS) -> dict[str, int]:
    """Seeds every organization and contact of the sample set; returns sample id -> IT Glue id."""
    ids: dict[str, int] = {}
    for org in json.loads(path.read_text(encoding="utf-8"))["organizations"]:
        org_id = sim.seed_organization(org["name"], **({"quick_notes": org["notes"]} if org.get("notes") else {}))
        ids[org["id"]] = org_id
        for contact in org.get("contacts") or []:
            ids[contact["id"]] = sim.seed_contact(org_id, **_contact_attributes(contact))
    return ids
