"""Fan-out collection at MSP scale: simulated tenants of mixed sizes behind Graph's latency and report
throttling, collected through the `collect` queue by local-runner worker processes (each one a stand-in for a
Flex Consumption instance: host.json's batchSize + newBatchThreshold collections at once), and through the old
single-invocation path (every tenant in one call, COLLECT_CONCURRENCY at a time, datasets one after another).

Prints, per phase: wall time from the timer's enqueue to the last message done, the enqueue time, the peak queue
depth, worker CPU per tenant, Graph requests per tenant and throttling (429s, seconds waited) from the run
records; and, from a child process collecting sample tenants one at a time, CPU per tenant by size band.

Run: `.venv/bin/python -m bench.fanout` (1,000 tenants, N = 1, 2, 4, latency as Graph's);
N = 4 alone (the issue's goal, <= 10 min): `.venv/bin/python -m bench.fanout --workers 4`;
quick: `.venv/bin/python -m bench.fanout --tenants 50 --workers 2 --latency-scale 0.2 --old-tenants 8`.
Every phase has its own tenants (seeded sizes: 99 % from 20 to 500 users, log-uniform; 1 % from 5,000 to 20,000).
Before each phase's clock starts, the simulator renders that phase's CSV bodies into its cache (the bytes it would
generate per download, served unchanged, behind the same latency and throttling), so the 2 cores measured are
the workers' and Azurite's. While a phase runs, a progress line every 15 s: finished/total, queue depth, elapsed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path

PROGRESS_EVERY_S = 15.0
BIG_EVERY = 100  # one tenant in a hundred is large
BANDS = (("20-99", 20, 99), ("100-500", 100, 500), ("5k-20k", 5000, 20000))


def sizes(count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % BIG_EVERY == BIG_EVERY // 2:
            out.append(rng.randint(5000, 20000))
        else:
            out.append(int(20 * 25 ** rng.random()))  # log-uniform 20..500: most tenants are small
    return out


def band(users: int) -> str:
    return next((name for name, low, high in BANDS if low <= users <= high), "other")


# ----------------------------------------------------------------------------------------------- child processes


def _worker(stop: mp.synchronize.Event, results: mp.Queue, host_json: str) -> None:
    """One 'instance': the real function app under the local runner, only the collect queue trigger polling."""
    import function_app
    from devtools.azurite import free_port
    from devtools.runner import LocalRunner

    runner = LocalRunner(
        function_app.app, Path(host_json), port=free_port(), function_key="f", master_key="m", enable_timers=False
    )
    runner.start()
    stop.wait()
    runner.stop(timeout=120)
    results.put(time.process_time())


def collect_one_at_a_time(tenant_ids: list[str], results: mp.Queue) -> None:
    """CPU seconds of each tenant's collection, one at a time (the first one, cold imports, not counted)."""
    from shared.collect.collector import collect_tenant
    from shared.store import tenants

    out = []
    loop = asyncio.new_event_loop()  # one loop for all, as in a worker: its connection pool serves every tenant
    for i, tenant_id in enumerate(tenant_ids):
        t = tenants.get(tenant_id)
        before = time.process_time()
        run = loop.run_until_complete(collect_tenant(t))
        if i:
            out.append((tenant_id, time.process_time() - before, run.status, run.requests))
    results.put(out)


def _old_path(tenant_ids: list[str], results: mp.Queue) -> None:
    """The timer's former body: one invocation, COLLECT_CONCURRENCY tenants at a time, datasets in sequence."""
    from shared import settings
    from shared.collect.collector import collect_tenant
    from shared.store import tenants

    async def all_of() -> None:
        limit = asyncio.Semaphore(settings.integer("COLLECT_CONCURRENCY"))

        async def one(tenant_id: str) -> None:
            async with limit:
                await collect_tenant(await asyncio.to_thread(tenants.get, tenant_id))

        await asyncio.gather(*(one(t) for t in tenant_ids))

    cpu, start = time.process_time(), time.perf_counter()
    asyncio.run(all_of())
    results.put((time.perf_counter() - start, time.process_time() - cpu))


def in_child(target, *args) -> object:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, results))
    p.start()
    value = results.get()
    p.join()
    return value


# ----------------------------------------------------------------------------------------------------- phases


def _run_stats(ids: list[str], users: dict[str, int]) -> dict:
    from shared.store import runs

    per_band: dict[str, list[dict]] = {}
    statuses: dict[str, int] = {}
    for tenant_id in ids:
        recs = [r for r in runs.recent(tenant_id, 5) if r.get("Schedule") == "reports" and r["Status"] != "running"]
        if not recs:
            statuses["not collected"] = statuses.get("not collected", 0) + 1
            continue
        r = recs[0]
        statuses[r["Status"]] = statuses.get(r["Status"], 0) + 1
        per_band.setdefault(band(users[tenant_id]), []).append(r)
    return {"bands": per_band, "statuses": statuses, "runs": sum(len(v) for v in per_band.values())}


def _seconds(run: dict) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(run["Ended"]) - datetime.fromisoformat(run["Started"])).total_seconds()


def _print_runs(stats: dict) -> None:
    for name, recs in sorted(stats["bands"].items()):
        req = statistics.mean(int(r["Requests"]) for r in recs)
        thr = sum(int(r["Throttled"]) for r in recs)
        wait = sum(float(r["ThrottleWaitSeconds"]) for r in recs)
        took = statistics.mean(_seconds(r) for r in recs)
        print(f"    band {name:>8}: {len(recs):4d} tenants, {req:.1f} Graph requests/tenant, {thr} throttled "
              f"(429), {wait:.1f} s throttle wait, {took:.1f} s per collection (1 s resolution)")  # fmt: skip
    print(f"    run statuses: {stats['statuses']}")


def fan_out(ids: list[str], users: dict[str, int], workers: int, host_json: Path) -> None:
    from shared.collect import fanout
    from shared.store import storage, tenants

    for tenant_id in ids:
        tenants.set_enabled(tenant_id, True)
    queue = storage.queue(fanout.QUEUE)
    queue.clear_messages()
    ctx = mp.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(stop, results, str(host_json))) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(3)  # imports and the first poll, before the clock starts
    start, main_cpu = time.perf_counter(), time.process_time()
    enqueued = fanout.enqueue_round("reports", "bench")
    enqueue_s = time.perf_counter() - start
    peak, shown = 0, start
    while True:
        depth = queue.get_queue_properties().approximate_message_count
        peak = max(peak, depth)
        if depth == 0:
            break
        if time.perf_counter() - shown >= PROGRESS_EVERY_S:
            shown = time.perf_counter()
            # In-flight messages are still on the queue (invisible): "done" counts only finished ones.
            print(f"    [N={workers}] {len(enqueued) - depth}/{len(enqueued)} done, queue depth {depth}, "
                  f"{shown - start:.0f} s elapsed, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        time.sleep(0.5)
    wall = time.perf_counter() - start
    main_cpu = time.process_time() - main_cpu  # the simulator's threads, mostly
    stop.set()
    cpu = sum(results.get() for _ in procs)
    for p in procs:
        p.join()
    for tenant_id in ids:
        tenants.set_enabled(tenant_id, False)
    stats = _run_stats(ids, users)
    print(f"  queue path, N={workers} worker processes: {len(enqueued)} tenants in {wall:.1f} s wall "
          f"({wall / 60:.2f} min); enqueue {enqueue_s:.2f} s; peak queue depth {peak}; worker CPU {cpu:.1f} s "
          f"= {cpu / max(1, len(ids)):.3f} s/tenant (imports included); simulator process CPU "
          f"{main_cpu / max(1, len(ids)):.3f} s/tenant; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    _print_runs(stats)


def old_path(ids: list[str], users: dict[str, int], total: int) -> None:
    os.environ["COLLECT_REPORT_CONCURRENCY"] = "1"  # datasets one after another, as before the fan-out
    try:
        wall, cpu = in_child(_old_path, ids)  # type: ignore[misc]
    finally:
        os.environ.pop("COLLECT_REPORT_CONCURRENCY")
    per = wall / len(ids)
    print(f"  old single-invocation path (COLLECT_CONCURRENCY=4, datasets in sequence): {len(ids)} tenants in "
          f"{wall:.1f} s wall, CPU {cpu / len(ids):.3f} s/tenant; latency-bound at a fixed concurrency, so "
          f"{total} tenants would take ~{per * total / 60:.0f} min in one invocation (limit: 30)")  # fmt: skip
    _print_runs(_run_stats(ids, users))


def calibrate(sim, ids: list[str], users: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    latency, sim.latency = sim.latency, None  # CPU only: no waiting on simulated Graph
    try:
        out = in_child(collect_one_at_a_time, ids)
    finally:
        sim.latency = latency
    by_band: dict[str, list[float]] = {}
    for tenant_id, cpu, status, requests in out:  # type: ignore[attr-defined]
        by_band.setdefault(band(users[tenant_id]), []).append(cpu)
        print(f"    {users[tenant_id]:6d} users: {cpu:.3f} s CPU ({status}, {requests} Graph requests)")
    for name, values in sorted(by_band.items()):
        print(f"  CPU per tenant, band {name}: mean {statistics.mean(values):.3f} s, max {max(values):.3f} s")


def prerender(sim, group: list, what: str) -> None:  # type: ignore[no-untyped-def]
    """Render the phase's CSV bodies before its clock starts (the simulator is not the system under test)."""
    start, held = time.perf_counter(), 0
    for i in range(0, len(group), 100):
        held = sim.prerender(group[i : i + 100])
        if time.perf_counter() - start >= PROGRESS_EVERY_S or i + 100 >= len(group):
            print(f"    pre-rendering {what}: {min(i + 100, len(group))}/{len(group)} tenants, "
                  f"{held / 2**20:.0f} MiB held, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    if held >= sim.render_cache_bytes * 0.95:
        print(f"    warning: the render cache is full ({held / 2**20:.0f} MiB): raise --render-cache-mb")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress lines through a pipe too
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    ap.add_argument("--tenants", type=int, default=1000, help="tenants per queue-path phase (default 1000)")
    ap.add_argument("--workers", default="1,2,4", help="worker process counts, one phase each (default 1,2,4)")
    ap.add_argument("--latency-scale", type=float, default=1.0, help="multiplies every simulated Graph delay")
    ap.add_argument("--window-scale", type=float, default=1.0, help="multiplies the throttling windows")
    ap.add_argument("--old-tenants", type=int, default=20, help="tenants for the old path (0: skip it)")
    ap.add_argument("--no-calibrate", action="store_true", help="skip the CPU-per-tenant calibration")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--render-cache-mb", type=int, default=3072,
                    help="simulator cache of rendered CSV bodies, filled before each phase's clock starts "
                    "(0: render during the phases, on the same cores as the system under test)")  # fmt: skip
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w]

    import tempfile

    from bench.stack import CLIENT_ID, SECRET, stack_settings
    from devtools.azurite import Azurite
    from devtools.simulator.latency import realistic_options
    from devtools.simulator.server import AppCredential, GraphSimulator
    from devtools.simulator.tenants import SampleTenant
    from shared.store import storage, tenants

    phases = [sizes(args.tenants, args.seed + k) for k in range(len(workers))]
    old = sizes(args.old_tenants, args.seed + 100)
    calib = [50, 50, 80, 200, 350, 500, 500, 500, 5000, 20000] if not args.no_calibrate else []
    seed = iter(range(10_000, 10_000_000))
    groups = [[SampleTenant.generate(next(seed), u) for u in group] for group in (*phases, old, calib)]
    users = {t.tenant_id: t.users for g in groups for t in g}
    every = [t for g in groups for t in g]
    print(f"fan-out benchmark: {len(every)} simulated tenants ({sum(users.values()):,} users); Graph latency x"
          f"{args.latency_scale:g}, throttling windows x{args.window_scale:g}; {os.cpu_count()} CPUs")  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        Azurite() as azurite,
        GraphSimulator(
            every, {CLIENT_ID: AppCredential(secret=SECRET)}, Path(tmp),
            **realistic_options(args.latency_scale, args.window_scale, seed=args.seed),
            render_cache_mb=args.render_cache_mb,
        ) as sim,
    ):  # fmt: skip
        host = json.loads(Path(__file__).resolve().parent.parent.joinpath("host.json").read_text())
        host_json = Path(tmp) / "host.json"
        host_json.write_text(json.dumps(host))
        os.environ.update(
            {
                **stack_settings(azurite, sim),
                "AzureWebJobs.directory_sync.Disabled": "true",
                "AzureWebJobs.contact_match.Disabled": "true",
            }
        )
        storage.reset_caches()
        q = host["extensions"]["queues"]
        print(f"host.json queues: batchSize {q['batchSize']}, newBatchThreshold {q['newBatchThreshold']}")
        for t in every:
            tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain], enabled=False))
        if calib:
            print("CPU per tenant, collected one at a time in a child process (no simulated latency):")
            calibrate(sim, [groups[-1][0].tenant_id, *(t.tenant_id for t in groups[-1])], users)
        if old:
            if args.render_cache_mb:
                prerender(sim, groups[len(workers)], "old path")
            sim.reset_throttling()
            old_path([t.tenant_id for t in groups[len(workers)]], users, args.tenants)
        for n, group in zip(workers, groups, strict=False):
            if args.render_cache_mb:
                prerender(sim, group, f"N={n}")
            sim.reset_throttling()
            fan_out([t.tenant_id for t in group], users, n, host_json)


if __name__ == "__main__":
    main()
