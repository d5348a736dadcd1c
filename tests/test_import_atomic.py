# ruff: noqa: E501 - sample files read better on one line
"""Documentation imports are all or nothing: one bad or duplicate record writes nothing and the refusal names
it (record or row, field); a CSV body is recognised without ?format=csv; a non-UTF-8 body is refused clearly.
Through the function library, the admin HTTP route and the CLI, on Azurite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from shared.docs import transfer
from shared.docs.tables import TableDocumentationStore
from tests.test_http_hardening import request

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(storage_env) -> TableDocumentationStore:
    return TableDocumentationStore(prefix="t" + uuid.uuid4().hex[:10])


def test_json_with_one_bad_contact_writes_nothing_and_names_it(store) -> None:
    doc = {"organizations": [
        {"name": "Contoso", "contacts": [{"first_name": "Ana", "emails": ["ana@contoso.com"]}]},
        {"name": "Fabrikam", "contacts": [{"first_name": "Bo"}, {"first_name": "Cy", "emails": {"work": "cy@f.com"}}]},
        {"name": ""},
    ]}  # fmt: skip
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_json(store, json.dumps(doc))
    assert str(refused.value) == (
        "import refused, nothing written: 2 problems: organization 2 contact 2, field 'emails': must be text; "
        "organization 3, field 'name': empty (an organization needs a name)"
    )
    assert store.organizations() == []  # before: Contoso and Fabrikam were written, then the import died


def test_csv_with_an_unknown_organization_writes_no_contact(store) -> None:
    transfer.import_csv(store, "id,name\no1,Contoso\n")
    text = (
        "organization_name,first_name,last_name,emails\nContoso,Ana,Silva,ana@contoso.com\nNope Inc,Bo,Li,bo@nope.com\n"
    )
    with pytest.raises(
        transfer.ImportRefused, match=r"row 3, field 'organization_name': unknown organization 'Nope Inc'$"
    ):
        transfer.import_csv(store, text)
    assert store.contacts("o1") == []


def test_duplicate_rows_are_reported_not_merged(store) -> None:
    text = "id,name\no1,Contoso\no2,Fabrikam\no1,Contoso Ltd\n"
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_csv(store, text)
    assert str(refused.value).endswith("1 problem: row 4: duplicate of row 2 (same organization id 'o1')")
    transfer.import_csv(store, "id,name\no1,Contoso\n")
    contacts = (
        "organization_id,first_name,last_name,emails\no1,Ana,Silva,ana@contoso.com\no1,Ana,Silva,ANA@contoso.com\n"
    )
    with pytest.raises(transfer.ImportRefused, match=r"row 3: duplicate of row 2 \(same contact id '[0-9a-f-]+'\)"):
        transfer.import_csv(store, contacts)
    assert store.contacts("o1") == []


def test_keys_that_storage_refuses_are_named_before_any_write(store) -> None:
    with pytest.raises(transfer.ImportRefused, match=r"row 3, field 'id' cannot contain '/'"):
        transfer.import_csv(store, "id,name\nok,Contoso\na/b,Fabrikam\n")
    assert store.organizations() == []


def test_a_valid_import_still_writes_everything_and_reimport_writes_nothing(store) -> None:
    doc = {"organizations": [{"name": f"Org {o}", "contacts": [
        {"first_name": f"F{i}", "last_name": "L", "emails": [f"u{i}@o{o}.com"]} for i in range(150)
    ]} for o in range(3)]}  # fmt: skip
    assert transfer.import_json(store, json.dumps(doc)) == {"organizations": 3, "contacts": 450}
    assert sorted(len(store.contacts(o.id)) for o in store.organizations()) == [150, 150, 150]
    assert transfer.import_json(store, json.dumps(doc)) == {"organizations": 3, "contacts": 450}


def test_sniffing_recognises_csv_and_json_and_refuses_other_text() -> None:
    assert transfer.sniff('\ufeff  {"organizations": []}') == "json"
    assert transfer.sniff("first_name,last_name\nA,B\n") == "csv"
    assert transfer.sniff("hello world") is None


# -- over HTTP -------------------------------------------------------------------------------------------
def _org_names() -> set[str]:
    return {o.name for o in TableDocumentationStore().organizations()}


def test_http_import_of_a_bad_file_is_a_400_that_names_the_record(served_app) -> None:
    base, _ = served_app
    name = f"Stray {uuid.uuid4().hex[:8]}"
    doc = {"organizations": [{"name": name}, {"name": f"{name} 2", "contacts": [{"first_name": 7, "emails": [None]}]}]}
    status, _, body = request(base, "POST", "/api/docs/import", body=json.dumps(doc).encode())
    assert status == 400
    assert json.loads(body) == {
        "error": "import refused, nothing written: 1 problem: organization 2 contact 1, field 'emails': must be text"
    }
    assert name not in _org_names()


def test_http_csv_without_format_is_recognised(served_app) -> None:
    base, _ = served_app
    name = f"Sniffed {uuid.uuid4().hex[:8]}"
    status, _, body = request(base, "POST", "/api/docs/import", body=f"name,notes\n{name},x\n".encode())
    assert (status, json.loads(body)) == (200, {"imported": {"organizations": 1, "contacts": 0}})
    assert name in _org_names()


def test_http_body_that_is_neither_json_nor_csv_is_refused_clearly(served_app) -> None:
    base, _ = served_app
    status, _, body = request(base, "POST", "/api/docs/import", body=b"just some text\n")
    assert status == 400
    assert json.loads(body) == {"error": "cannot tell whether the body is JSON or CSV: give the format (json or csv)"}
    status, _, body = request(base, "POST", "/api/docs/import?format=json", body=b"name\nContoso\n")
    assert status == 400
    assert json.loads(body)["error"].endswith("; a CSV file needs format csv")


def test_http_latin1_csv_is_a_400_that_says_utf8(served_app) -> None:
    base, _ = served_app
    name = f"Soci\u00e9t\u00e9 {uuid.uuid4().hex[:8]}"
    status, _, body = request(base, "POST", "/api/docs/import?format=csv", body=f"name\n{name}\n".encode("latin-1"))
    assert status == 400
    assert json.loads(body) == {"error": "the body is not UTF-8 text (byte 0xe9 at offset 9): save the file as UTF-8"}
    assert name not in _org_names()


# -- CLI -------------------------------------------------------------------------------------------------
def test_cli_import_of_a_bad_file_exits_1_and_writes_nothing(storage_env, tmp_path: Path) -> None:
    name = f"CliStray {uuid.uuid4().hex[:8]}"
    path = tmp_path / "orgs.csv"
    path.write_text(f"name,id\n{name},\n,x\n", encoding="utf-8")
    env = {**os.environ, "AzureWebJobsStorage": storage_env.connection_string, "O365MON_LOCAL_SETTINGS": os.devnull}
    code = "import sys; from shared.cli.main import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, "docs", "import", str(path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 1, out
    # The first stderr line says which settings file the CLI read; the refusal is the last line.
    assert (
        out.stderr.splitlines(keepends=True)[-1]
        == f"{path}: import refused, nothing written: 1 problem: row 3, field 'name': empty (an organization needs a name)\n"
    )
    assert name not in _org_names()


# -- packed contacts layout ------------------------------------------------------------------------------
def _contact_rows(org: str, n: int, start: int = 0) -> list:
    from shared.docs.model import Contact

    return [Contact(org, f"c{i:05d}", first_name=f"F{i}", emails=[f"u{i}@x.com"]) for i in range(start, start + n)]


def test_contacts_are_packed_and_found_in_any_pack(store) -> None:
    from shared.store import storage

    store.save_contacts(_contact_rows("o1", 2500))
    entities = list(storage.table(store.contacts_table).query_entities("PartitionKey eq 'o1'"))
    assert sorted(e["RowKey"] for e in entities) == ["~pack-0000", "~pack-0001"]
    assert sorted(e["Count"] for e in entities) == [500, 2000]
    assert len(store.contacts("o1")) == 2500
    assert store.contact("o1", "c02499").emails == ["u2499@x.com"]
    assert store.contact("o1", "nope") is None


def test_rows_of_the_one_entity_per_contact_layout_are_read_and_migrated(store) -> None:
    from shared.docs.tables import _contact_entity
    from shared.store import storage

    old = _contact_rows("o1", 2)
    storage.table(store.contacts_table).create_entity(_contact_entity(old[0]))
    storage.table(store.contacts_table).create_entity(_contact_entity(old[1]))
    assert sorted(c.id for c in store.contacts("o1")) == ["c00000", "c00001"]
    old[0].title = "CFO"
    store.save_contacts([old[0]])
    keys = sorted(e["RowKey"] for e in storage.table(store.contacts_table).query_entities("PartitionKey eq 'o1'"))
    assert keys == ["c00001", "~pack-0000"]
    assert store.contact("o1", "c00000").title == "CFO" and store.contact("o1", "c00001") is not None


def test_a_concurrent_writer_is_not_overwritten(store, monkeypatch) -> None:
    store.save_contacts(_contact_rows("o1", 10))
    stale = store._entities("o1")
    store.save_contacts(_contact_rows("o1", 5, start=10))  # the other writer, after our read
    calls = iter([stale])
    real = store._entities
    monkeypatch.setattr(store, "_entities", lambda org: next(calls, None) or real(org))
    store.save_contacts(_contact_rows("o1", 5, start=20))  # its first write meets a changed ETag: re-read, merge
    assert sorted(c.id for c in store.contacts("o1")) == [f"c{i:05d}" for i in (*range(15), *range(20, 25))]
