"""Benchmark of the contact matcher in memory: N users against N contacts on one core, peak RSS, and how the
time grows when both sizes double. Each size runs in a child process (clean peak RSS). The load from storage
is measured separately with --storage (the directory snapshot of N users read back from Azurite).

    .venv/bin/python -m bench.matching --sizes 100000,200000 [--storage 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

TENANT = "bench-tenant"
FIRST = ["José", "María", "François", "Zoë", "Jürgen", "Søren", "Łukasz", "Anaïs", "John", "Emily", "Liam", "Olivia"]
LAST = ["García", "Müller", "Dubois", "Smith", "Johnson", "Nørgaard", "Kowalski", "Lefèvre", "Brown", "Rossi"]


def make_data(n: int, seed: int = 7) -> tuple[list, list]:
    from shared.directory.model import DirectoryUser
    from shared.docs.model import Contact

    rng = random.Random(seed)
    users, contacts = [], []
    for i in range(n):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{i // 3}"
        mail = f"user{i}@contoso.com"
        users.append(
            DirectoryUser(
                id=f"u{i:08d}", given_name=first, surname=last, display_name=f"{first} {last}", upn=mail, mail=mail,
                proxy_addresses=[f"SMTP:{mail}", f"smtp:u{i}@contoso.onmicrosoft.com", f"smtp:alias{i}@contoso.com"],
                other_mails=[], job_title="Engineer", business_phones=["+1 425 555 0100"],
                account_enabled=rng.random() > 0.03, user_type="Member", sku_ids=["sku"],
            )
        )  # fmt: skip
        roll = rng.random()
        if roll < 0.4:  # alias
            emails = [f"ALIAS{i}@contoso.com"]
        elif roll < 0.5:  # UPN (onmicrosoft)
            emails = [f"u{i}@contoso.onmicrosoft.com"]
            users[-1].upn = emails[0]
        elif roll < 0.7:  # first + last name
            emails = [f"old{i}@example.org"]
        else:  # unrelated: the user gets created, the contact stays
            emails = [f"other{i}@example.org"]
        cf, cl = (first, last) if roll < 0.7 else ("Other", f"Person{i}")
        contacts.append(
            Contact(organization_id="org", id=f"c{i:08d}", first_name=cf.upper(), last_name=cl, emails=emails)
        )
    return users, contacts


def one_size(n: int) -> dict:
    from shared.matching import contacts as matcher
    from shared.matching.policy import Policy

    users, docs = make_data(n)
    t0 = time.process_time()
    w0 = time.perf_counter()
    plan = matcher.plan(TENANT, "org", users, docs, Policy())
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1), **plan.counts}


def storage_load(n: int) -> dict:
    from devtools.azurite import Azurite
    from shared.directory import store
    from shared.directory.model import DirectoryInfo
    from shared.store import storage

    users, _ = make_data(n)
    with Azurite() as az:
        os.environ["AzureWebJobsStorage"] = az.connection_string
        storage.reset_caches()
        t0 = time.perf_counter()
        store.save(DirectoryInfo(tenant_id=TENANT, display_name="Bench"), users)
        write = time.perf_counter() - t0
        t0 = time.perf_counter()
        loaded = sum(1 for _ in store.load_users(TENANT))
        read = time.perf_counter() - t0
        info = store.load_info(TENANT)
    from shared.store import snapshots

    entities = snapshots.current.__module__ and info.users  # rows stored
    return {"n": n, "write_s": round(write, 2), "read_s": round(read, 2), "loaded": loaded, "rows": entities}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100000,200000")
    p.add_argument("--storage", type=int, default=0, help="also measure storing/loading a directory of N users")
    p.add_argument("--child", type=int, default=0)
    p.add_argument("--child-storage", type=int, default=0)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(one_size(args.child)))
        return 0
    if args.child_storage:
        print(json.dumps(storage_load(args.child_storage)))
        return 0
    cmd = [sys.executable, "-m", "bench.matching"]
    taskset = ["taskset", "-c", "0"] if sys.platform.startswith("linux") else []
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(taskset + cmd + ["--child", str(n)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| users x contacts | CPU s | wall s | peak RSS MB | matched | created | ambiguous | ignored |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']:,} | {r['cpu_s']} | {r['wall_s']} | {r['peak_rss_mb']} | {r['matched']:,} | {r['created']:,}"
            f" | {r['ambiguous']:,} | {r['ignored']:,} |"
        )
    if len(rows) >= 2:
        ratio = rows[-1]["cpu_s"] / max(rows[0]["cpu_s"], 1e-9)
        size = rows[-1]["n"] / rows[0]["n"]
        print(f"time ratio {ratio:.2f} for size ratio {size:.0f} (limit {size * 1.1:.1f})")
    if args.storage:
        out = subprocess.run(cmd + ["--child-storage", str(args.storage)], capture_output=True, text=True, check=True)
        s = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"storage (Azurite): store {s['n']:,} users {s['write_s']} s, load {s['read_s']} s ({s['loaded']:,} users)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
