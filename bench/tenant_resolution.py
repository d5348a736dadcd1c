"""Finding a tenant by a domain among N registered tenants: the name index (one partition read of
`TenantNames` plus one point read) against a scan of every `Tenants` entity (what resolution did before the
index). Azurite in memory. Run: `.venv/bin/python -m bench.tenant_resolution --tenants 10,500,2000`."""

from __future__ import annotations

import argparse
import os
import time
import uuid

from devtools.azurite import Azurite


def scan(name: str) -> str:
    from shared.store import tenants

    wanted = name.lower()
    for t in tenants.list_all():
        if wanted in (d.lower() for d in t.domains) or wanted == t.display_name.lower():
            return t.tenant_id
    raise LookupError(name)


def timed(fn, names: list[str]) -> float:
    start = time.perf_counter()
    for n in names:
        fn(n)
    return (time.perf_counter() - start) * 1000 / len(names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", default="10,500,2000")
    parser.add_argument("-n", type=int, default=50, help="look-ups per case")
    args = parser.parse_args()
    os.environ["O365MON_LOCAL_SETTINGS"] = os.devnull
    os.environ.pop("O365_TENANT_ID", None)
    with Azurite() as azurite:
        os.environ["AzureWebJobsStorage"] = azurite.connection_string
        from shared.store import storage, tenants

        storage.reset_caches()
        registered: list[str] = []
        print(f"{'tenants':>8} {'index ms/lookup':>16} {'scan ms/lookup':>15}")
        for size in (int(s) for s in args.tenants.split(",")):
            while len(registered) < size:
                tid = str(uuid.uuid4())
                domain = f"t{len(registered)}.bench.example"
                tenants.add(tenants.Tenant(tid, f"Bench {len(registered)}", [domain]))
                registered.append(domain)
            names = [registered[(i * 7919) % size] for i in range(args.n)]
            tenants.resolve(names[0])  # the index marker, table clients
            index = timed(tenants.resolve, names)
            full = timed(scan, names[: max(1, args.n // 10)])
            print(f"{size:>8} {index:>16.2f} {full:>15.2f}")


if __name__ == "__main__":
    main()
