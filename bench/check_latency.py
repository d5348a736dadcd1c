"""Check latency through the HTTP layer (local runner, keep-alive client): p50/p99 per tenant size,
unfiltered and with `filter-mailbox`. Run: `make bench` or `.venv/bin/python -m bench.check_latency`."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import time

from bench.check_cpu import KEY, local_runner
from bench.stack import local_stack, percentile
from devtools.azurite import free_port


def measure(conn: http.client.HTTPConnection, path: str, n: int) -> tuple[float, float, str]:
    times = []
    first = ""
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", path, headers={"x-functions-key": KEY})
        resp = conn.getresponse()
        body = resp.read().decode()
        times.append((time.perf_counter() - start) * 1000)
        first = first or body.splitlines()[0]
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}: {body}")
    return percentile(times, 50), percentile(times, 99), first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("-n", type=int, default=200, help="requests per case (filtered cases use n/10)")
    args = parser.parse_args()
    from shared.collect.collector import collect_all

    sizes = [int(s) for s in args.sizes.split(",")]
    with local_stack(sizes) as (sample, sim):
        for run in asyncio.run(collect_all()) + asyncio.run(collect_all(schedule="health")):
            assert run.status == "success", run.error
        port = free_port()
        runner = local_runner(port)
        runner.start()
        graph_requests_before = len(sim.request_log)
        checks_run = 0
        conn = http.client.HTTPConnection("127.0.0.1", port)
        print(f"{'users':>8} {'case':<44} {'p50 ms':>8} {'p99 ms':>8}")
        try:
            for t in sample:
                cases = [
                    ("email-activity, unfiltered", f"exchange/email-activity?tenant={t.tenant_id}", args.n),
                    ("mailbox-usage, unfiltered", f"exchange/mailbox-usage?tenant={t.tenant_id}", args.n),
                    ("management service-status", f"management/service-status?tenant={t.tenant_id}", args.n),
                    ("sharepoint site-usage, unfiltered", f"sharepoint/site-usage?tenant={t.tenant_id}", args.n),
                    ("onedrive site-usage, unfiltered", f"onedrive/site-usage?tenant={t.tenant_id}", args.n),
                    (
                        "mailbox-usage, filter-mailbox=^a (regex)",
                        f"exchange/mailbox-usage?tenant={t.tenant_id}&filter-mailbox=%5Ea",
                        max(10, args.n // 10),
                    ),
                    (
                        "mailbox-usage, quota status of every mailbox",
                        f"exchange/mailbox-usage?tenant={t.tenant_id}&filter-counters=status",
                        max(10, args.n // 10),
                    ),
                ]
                for name, path, n in cases:
                    p50, p99, _ = measure(conn, f"/api/checks/{path}", n)
                    checks_run += n
                    print(f"{t.users:>8} {name:<44} {p50:>8.2f} {p99:>8.2f}")
            graph_requests = len(sim.request_log) - graph_requests_before
            print(f"Graph requests made while answering {checks_run} checks: {graph_requests}")
        finally:
            conn.close()
            runner.stop()


if __name__ == "__main__":
    main()
