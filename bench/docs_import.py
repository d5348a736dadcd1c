"""Benchmark of a documentation import: N contacts over M organizations, as one JSON document posted to
the import (all-or-nothing: validated, then written in table transactions). Prints the wall time of the
import, of a re-import of the same file (nothing changes, nothing is written) and the entities per second.

    .venv/bin/python -m bench.docs_import --contacts 60000 --organizations 60
"""

from __future__ import annotations

import argparse
import json
import time


def make_document(contacts: int, organizations: int) -> str:
    per_org = max(1, contacts // organizations)
    orgs = []
    n = 0
    for o in range(organizations):
        rows = []
        for _ in range(per_org if o < organizations - 1 else contacts - n):
            rows.append(
                {
                    "first_name": f"First{n}", "last_name": f"Last{n}", "title": "Engineer",
                    "emails": [f"user{n}@org{o}.example.com"], "phones": ["+1 425 555 0100"],
                }
            )  # fmt: skip
            n += 1
        orgs.append({"name": f"Customer {o:04d}", "contacts": rows})
    return json.dumps({"organizations": orgs})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=60000)
    parser.add_argument("--organizations", type=int, default=60)
    args = parser.parse_args(argv)

    from bench.stack import storage_alone
    from shared.docs import transfer
    from shared.docs.tables import TableDocumentationStore

    text = make_document(args.contacts, args.organizations)
    with storage_alone():
        store = TableDocumentationStore(prefix="Bench")
        started = time.perf_counter()
        counts = transfer.import_json(store, text)
        first = time.perf_counter() - started
        started = time.perf_counter()
        transfer.import_json(store, text)
        again = time.perf_counter() - started
    print(f"contacts={counts['contacts']} organizations={counts['organizations']}")
    print(f"import: {first:.2f} s ({counts['contacts'] / first:,.0f} contacts/s); re-import (unchanged): {again:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
