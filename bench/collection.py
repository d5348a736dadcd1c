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


def child(tenant_id: str) -> None:
    from shared.collector import collect_all

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
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
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
    print(f"{'users':>8} {'wall s':>7} {'peak RSS MB':>12} {'rows':>8} {'entities':>9} {'Graph requests':>15}")
    with local_stack(sizes) as sample:
        for t in sample:
            out = subprocess.run(
                [sys.executable, "-m", "bench.collection", "--child", t.tenant_id],
                env=dict(os.environ),
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if r["status"] != "success":
                print(f"{t.users:>8} FAILED: {r['error']}")
                continue
            print(
                f"{t.users:>8} {r['wall_s']:>7} {r['peak_rss_mb']:>12} {r['rows']:>8} {r['entities']:>9} "
                f"{r['graph_requests']:>15}"
            )


if __name__ == "__main__":
    main()
