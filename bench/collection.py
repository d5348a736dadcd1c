"""Collection benchmark: a full collection (10 usage reports with their daily forms, service health,
licences, app credentials, organization, report settings) per tenant size: wall time, peak RSS, entities
written and Graph requests (which depend on the datasets, never on the number of checks).

Each size is collected in a child process, so its peak RSS is the collector's own (the simulator and
Azurite run elsewhere). Run: `make bench` or `.venv/bin/python -m bench.collection --sizes 10000,100000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time


def peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's RSS at fork time (here the parent holds
    # the simulator and its cached CSVs), while VmHWM belongs to the process's own address space.
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(tenant_id: str) -> None:
    from shared.collect.collector import collect_all

    start = time.perf_counter()
    (run,) = asyncio.run(collect_all(tenant_id))  # every report, licences, app credentials, organization
    (health,) = asyncio.run(collect_all(tenant_id, schedule="health"))  # service health (its own timer)
    wall = time.perf_counter() - start
    print(
        json.dumps(
            {
                "status": "success" if run.status == health.status == "success" else "failed",
                "error": run.error or health.error,
                "wall_s": round(wall, 2),
                "peak_rss_mb": peak_rss_mb(),
                "rows": run.rows + health.rows,
                "entities": sum(r.entities for r in run.reports + health.reports) + len(run.reports + health.reports),
                "graph_requests": run.requests + health.requests,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from bench.stack import local_stack

    sizes = [int(s) for s in args.sizes.split(",")]
    # The simulator renders each CSV once and caches it: the first collection pays its generation time
    # ("cold"), the second measures the collector against ready downloads ("warm"), as with Microsoft.
    print(
        f"{'users':>8} {'cold s':>7} {'warm s':>7} {'peak RSS MB':>12} {'rows':>8} {'entities':>9} "
        f"{'Graph requests':>15}"
    )
    with local_stack(sizes, render_cache_mb=4096) as (sample, _sim):
        for t in sample:
            cold, warm = (run_child(t.tenant_id) for _ in range(2))
            if warm["status"] != "success":
                print(f"{t.users:>8} FAILED: {warm['error']}")
                continue
            print(
                f"{t.users:>8} {cold['wall_s']:>7} {warm['wall_s']:>7} {warm['peak_rss_mb']:>12} {warm['rows']:>8} "
                f"{warm['entities']:>9} {warm['graph_requests']:>15}"
            )


def run_child(tenant_id: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.collection", "--child", tenant_id],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
