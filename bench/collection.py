"""Collection benchmark: a full collection (10 usage reports with their daily forms, service health,
licences, app credentials, organization, report settings) per tenant size: wall time, CPU, peak RSS, entities
written and Graph requests (which depend on the datasets, never on the number of checks); and the floor such a
collection is measured against: downloading the same CSV bodies (D7 and daily forms, through the same Graph
session, as many at once as the collector) and reading them with `csv.reader`, nothing else.

Each size is collected in a child process, so its peak RSS is the collector's own (the simulator and
Azurite run elsewhere). Run: `make bench` or `.venv/bin/python -m bench.collection --sizes 10000,100000`;
`--profile DIR` writes a cProfile of each warm collection to DIR/collection-<users>.prof.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
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


def child(tenant_id: str, profile: str = "") -> None:
    from shared.collect.collector import collect_all

    profiler = None
    if profile:
        import cProfile

        async def inline(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            return func(*args, **kwargs)

        # cProfile sees one thread: the work the collector hands to threads runs inline while profiled.
        asyncio.to_thread = inline
        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    (run,) = asyncio.run(collect_all(tenant_id))  # every report, licences, app credentials, organization
    (health,) = asyncio.run(collect_all(tenant_id, schedule="health"))  # service health (its own timer)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    print(
        json.dumps(
            {
                "status": "success" if run.status == health.status == "success" else "failed",
                "error": run.error or health.error,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "peak_rss_mb": peak_rss_mb(),
                "rows": run.rows + health.rows,
                "entities": sum(r.entities for r in run.reports + health.reports) + len(run.reports + health.reports),
                "graph_requests": run.requests + health.requests,
            }
        )
    )


def floor_child(tenant_id: str) -> None:
    """Download every CSV body a collection downloads and read it with csv.reader: what any collection costs."""
    from shared import settings
    from shared.collect import credentials
    from shared.collect.catalog import DATASETS
    from shared.collect.collector import COLLECTED
    from shared.collect.graph import GraphSession
    from shared.settings import GraphSettings
    from shared.store import tenants

    def parse(body: io.BufferedIOBase) -> tuple[int, str]:
        reader = csv.reader(io.TextIOWrapper(body, encoding="utf-8-sig", newline=""))
        header = [" ".join(h.split()) for h in next(reader)]
        refresh, rows = "", 0
        at = header.index("Report Refresh Date") if "Report Refresh Date" in header else None
        for cells in reader:
            if rows == 0 and at is not None:
                refresh = cells[at]
            rows += 1
        return rows, refresh

    async def run() -> int:
        tenant = tenants.get(tenant_id)
        slots = asyncio.Semaphore(max(1, settings.integer("COLLECT_REPORT_CONCURRENCY")))
        creds = credentials.resolve(tenant.credential_prefix)
        async with GraphSession(tenant_id, creds, GraphSettings.from_env()) as g:

            async def one(function: str, daily: bool) -> int:
                async with slots:
                    with await g.report(function, period="D7") as body:
                        rows, refresh = await asyncio.to_thread(parse, body)
                    if daily and refresh:
                        with await g.report(function, date=refresh) as body:
                            rows += (await asyncio.to_thread(parse, body))[0]
                return rows

            csv_reports = [DATASETS[k] for k in COLLECTED if DATASETS[k].source == "csv"]
            return sum(await asyncio.gather(*(one(r.function, r.daily) for r in csv_reports)))

    start, cpu = time.perf_counter(), time.process_time()
    rows = asyncio.run(run())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": peak_rss_mb(), "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--profile", default="", help="a directory: cProfile of each warm collection written there")
    parser.add_argument("--child")
    parser.add_argument("--floor-child")
    parser.add_argument("--profile-to", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile_to)
        return
    if args.floor_child:
        floor_child(args.floor_child)
        return
    from bench.stack import local_stack

    sizes = [int(s) for s in args.sizes.split(",")]
    # The simulator renders each CSV once and caches it: the first collection pays its generation time
    # ("cold"), the second measures the collector against ready downloads ("warm"), as with Microsoft.
    # The floor: the same downloads read by csv.reader alone, warm too (ratio = warm collection / floor).
    print(
        f"{'users':>8} {'cold s':>7} {'warm s':>7} {'CPU s':>6} {'peak RSS MB':>12} {'rows':>8} {'entities':>9} "
        f"{'Graph requests':>15} {'floor s':>8} {'floor CPU s':>12} {'x floor':>8} {'load':>5}"
    )
    with local_stack(sizes, render_cache_mb=4096) as (sample, _sim):
        for t in sample:
            cold = run_child("--child", t.tenant_id)
            profile = os.path.join(args.profile, f"collection-{t.users}.prof") if args.profile else ""
            warm = run_child("--child", t.tenant_id, *(("--profile-to", profile) if profile else ()))
            floor = run_child("--floor-child", t.tenant_id)
            if warm["status"] != "success":
                print(f"{t.users:>8} FAILED: {warm['error']}")
                continue
            print(
                f"{t.users:>8} {cold['wall_s']:>7} {warm['wall_s']:>7} {warm['cpu_s']:>6} {warm['peak_rss_mb']:>12} "
                f"{warm['rows']:>8} {warm['entities']:>9} {warm['graph_requests']:>15} {floor['wall_s']:>8} "
                f"{floor['cpu_s']:>12} {warm['wall_s'] / max(0.01, floor['wall_s']):>8.1f} "
                f"{os.getloadavg()[0]:>5.2f}"
            )


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.collection", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
