# ruff: noqa: E501 - sample data tables read better on one line
"""Documentation store on Azurite: JSON and CSV import/export, several e-mails per contact, idempotent imports."""

from __future__ import annotations

import json
import uuid

from shared.docs import transfer
from shared.docs.tables import TableDocumentationStore

DOC = {
    "organizations": [
        {"id": "o1", "name": "Contoso Ltd", "contacts": [
            {"id": "c1", "first_name": "Ana", "last_name": "Silva", "emails": ["ana@contoso.com", "a.silva@contoso.com"],
             "phones": ["+1 1"], "title": "CFO"},
            {"first_name": "Léa", "last_name": "Moreau", "emails": "lea@contoso.com; lea.moreau@gmail.com", "active": "false"},
        ]},
        {"name": "Fabrikam"},
    ]
}  # fmt: skip


def test_json_import_export_round_trip_and_reimport_is_idempotent(storage_env) -> None:
    store = TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])
    assert transfer.import_json(store, json.dumps(DOC)) == {"organizations": 2, "contacts": 2}
    ana = store.contact("o1", "c1")
    assert ana.emails == ["ana@contoso.com", "a.silva@contoso.com"] and ana.title == "CFO"
    lea = next(c for c in store.contacts("o1") if c.first_name == "Léa")
    assert lea.emails == ["lea@contoso.com", "lea.moreau@gmail.com"] and lea.active is False
    exported = transfer.export_json(store)
    transfer.import_json(store, json.dumps(DOC))
    transfer.import_json(store, exported)
    assert transfer.export_json(store) == exported and len(store.contacts("o1")) == 2


def test_csv_import_export_and_links_survive_an_import_without_them(storage_env) -> None:
    store = TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])
    transfer.import_csv(store, "id,name\no1,Contoso Ltd\n")
    transfer.import_csv(
        store,
        "\ufefforganization_name,id,first_name,last_name,emails\nContoso Ltd,c1,Ana,Silva,ana@contoso.com;a@contoso.com\n",
    )
    c = store.contact("o1", "c1")
    c.link_tenant, c.link_user, c.link_source = "t", "u", "linked"
    store.save_contacts([c])
    csv_text = transfer.export_csv(store, "contacts")
    assert "ana@contoso.com;a@contoso.com" in csv_text and "Contoso Ltd" in csv_text
    transfer.import_csv(store, "organization_id,id,first_name,last_name,emails\no1,c1,Ana,Silva,ana@contoso.com\n")
    c = store.contact("o1", "c1")
    assert (c.link_tenant, c.link_user, c.emails) == ("t", "u", ["ana@contoso.com"])
    assert transfer.export_csv(store, "organizations").splitlines()[1].startswith("o1,Contoso Ltd")
