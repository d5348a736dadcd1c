"""Contact sync into IT Glue (DOCS_BACKEND=itglue) against the IT Glue simulator, with the matcher, the ledger
and Azurite on the real path (the `contact-match` queue's work):

1. initial sync of one tenant of N users into an empty organization: IT Glue requests, wall time, 429 waits,
   under the simulator's real budget (3,000 requests per 300 s unless --rate-window says otherwise);
2. a resync with nothing changed: writes (POST/PATCH) and reads;
3. T tenants of U users each, one organization each: requests per tenant.

    .venv/bin/python -m bench.itglue_sync --users 10000 --tenants 1000 --tenant-users 50
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections import Counter

from devtools.azurite import Azurite
from devtools.itglue import ItGlueSimulator

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kenji", "Lena"]
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
LAST = ["Lee", "Müller", "Dubois", "Smith", "Novák", "Rossi", "García", "Kowalski", "Brown", "Nørgaard"]


def store_directory(tenant_id: str, name: str, users: int) -> None:
    from shared.directory import store as directory
    from shared.directory.model import DirectoryInfo, DirectoryUser

    domain = f"t{tenant_id[:8]}.example.com"
    skus = [{"skuId": E3, "skuPartNumber": "SPE_E3", "enabled": users + 5, "consumedUnits": users}]
    info = DirectoryInfo(tenant_id=tenant_id, display_name=name, default_domain=domain, domains=[domain], skus=skus)
    rows = []
    for i in range(users):
        first, last = FIRST[i % len(FIRST)], f"{LAST[i // len(FIRST) % len(LAST)]}{i}"
        mail = f"{first.lower()}.{i}@{domain}"
        rows.append(
            DirectoryUser(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{i}")), given_name=first, surname=last,
                display_name=f"{first} {last}", upn=mail, mail=mail,
                proxy_addresses=[f"SMTP:{mail}", f"smtp:{first.lower()}{i}@{domain}"], other_mails=[],
                job_title="Engineer", business_phones=["+1 425 555 0100"], mobile_phone="+1 425 555 0199",
                account_enabled=True, user_type="Member", sku_ids=[E3],
            )
        )  # fmt: skip
    directory.save(info, rows)


def sync(tenant_id: str) -> dict:
    from shared.matching.run import handle_message

    record = handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "bench"}), queued=False)
    return dict(record.counts)


def writes(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k.split(" ", 1)[0] in ("POST", "PATCH", "DELETE"))


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def timed_sync(sim: ItGlueSimulator, tenant_id: str) -> tuple[float, dict[str, int], dict[str, int]]:
    """One sync: wall seconds, the matcher's counts, and the IT Glue requests it made per endpoint."""
    before = sim.request_counts()
    start = time.perf_counter()
    counts = sync(tenant_id)
    return time.perf_counter() - start, counts, delta(sim.request_counts(), before)


def one_tenant(sim: ItGlueSimulator, users: int) -> None:
    tenant_id = str(uuid.uuid4())
    store_directory(tenant_id, "Bench Big Tenant", users)
    sim.seed_organization("Bench Big Tenant")
    wall, counts, used = timed_sync(sim, tenant_id)
    print(f"initial sync, {users:,} users into an empty organization: {wall:.1f} s wall, counts {counts}")
    print(f"  IT Glue requests: {sum(used.values())} (goal <= 300), writes {writes(used)}: {used}")
    wall, counts, used = timed_sync(sim, tenant_id)
    print(f"resync, nothing changed: {wall:.1f} s wall, counts {counts}")
    print(f"  IT Glue requests: {sum(used.values())}, writes {writes(used)} (goal 0): {used}")


def many_tenants(sim: ItGlueSimulator, tenants: int, users: int) -> None:
    ids = [str(uuid.uuid4()) for _ in range(tenants)]
    start = time.perf_counter()
    for i, tenant_id in enumerate(ids):
        store_directory(tenant_id, f"Bench Customer {i:04d}", users)
        sim.seed_organization(f"Bench Customer {i:04d}")
    print(f"{tenants} tenants x {users} users stored in {time.perf_counter() - start:.1f} s")
    before = sim.request_counts()
    start = time.perf_counter()
    per_tenant: list[int] = []
    for tenant_id in ids:
        mark = sum(sim.request_counts().values())
        sync(tenant_id)
        per_tenant.append(sum(sim.request_counts().values()) - mark)
    wall = time.perf_counter() - start
    used = delta(sim.request_counts(), before)
    spread = Counter(per_tenant)
    print(
        f"{tenants} tenants x {users} users, initial sync: {wall:.1f} s wall, {sum(used.values())} IT Glue requests, "
        f"{sum(used.values()) / tenants:.1f} per tenant (distribution {dict(sorted(spread.items()))})"
    )
    print(f"  by endpoint: {used}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--tenant-users", type=int, default=50)
    parser.add_argument("--rate-limit", type=int, default=3000)
    parser.add_argument("--rate-window", type=float, default=300.0)
    args = parser.parse_args()
    from shared.store import storage

    with Azurite() as azurite, ItGlueSimulator(rate_limit=args.rate_limit, rate_window=args.rate_window) as sim:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "O365MON_LOCAL_SETTINGS": os.devnull,
                "DOCS_BACKEND": "itglue",
                "ITGLUE_API_URL": sim.url,
                "ITGLUE_API_KEY": sim.api_key,
                # One process stands for the whole app here: it may use the account's whole budget.
                "ITGLUE_RATE_SHARE": str(args.rate_limit),
            }
        )
        storage.reset_caches()
        print(f"IT Glue simulator budget: {args.rate_limit} requests per {args.rate_window:g} s")
        if args.users:
            one_tenant(sim, args.users)
        if args.tenants:
            many_tenants(sim, args.tenants, args.tenant_users)


if __name__ == "__main__":
    main()
