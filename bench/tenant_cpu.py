"""CPU of one tenant's collection, the collector alone, as a queue worker runs it: one event loop in a child
process (the simulator and Azurite stay in this one), a warm-up collection not counted, then either `--tenants`
first collections of tenants of `--users` users each, or (`--repeat`) that many repeat collections of one
tenant, the steady state of a fleet collected every few hours. Prints the median, min and max CPU seconds.

This machine's run-to-run noise is ~20 %, so compare medians of many collections, alternating the code under
test with a `git archive` of the code before:
`cd DIR && PYTHONPATH=DIR /work/main/.venv/bin/python -m bench.tenant_cpu --users 500 --tenants 20 [--repeat]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import time

from bench.stack import local_stack


def _collect(tenant_ids: list[str], results: mp.Queue) -> None:
    from shared.collect.collector import collect_tenant
    from shared.store import tenants

    loop = asyncio.new_event_loop()  # one loop for all, as in a worker: its connection pool serves every tenant
    cpu = []
    for i, tenant_id in enumerate(tenant_ids):
        tenant = tenants.get(tenant_id)
        before = time.process_time()
        run = loop.run_until_complete(collect_tenant(tenant))
        if run.status != "success":
            results.put(f"tenant {tenant_id}: {run.status} {run.error}")  # the parent waits on this queue
            return
        if i:
            cpu.append(time.process_time() - before)
    results.put(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--tenants", type=int, default=20, help="collections measured (after one warm-up)")
    ap.add_argument("--repeat", action="store_true", help="repeat collections of one tenant instead of new ones")
    args = ap.parse_args()
    count = 1 if args.repeat else args.tenants + 1
    with local_stack([args.users] * count) as (sample, _sim):
        ids = [sample[0].tenant_id] * (args.tenants + 1) if args.repeat else [t.tenant_id for t in sample]
        ctx = mp.get_context("spawn")
        results: mp.Queue = ctx.Queue()
        child = ctx.Process(target=_collect, args=(ids, results))
        child.start()
        cpu = results.get()
        child.join()
    if isinstance(cpu, str):
        raise SystemExit(cpu)
    kind = "repeat" if args.repeat else "first"
    print(
        f"{args.users} users, {len(cpu)} {kind} collections: CPU s median {statistics.median(cpu):.3f}, "
        f"min {min(cpu):.3f}, max {max(cpu):.3f}"
    )


if __name__ == "__main__":
    main()
