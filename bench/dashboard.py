"""Server time to build the all-tenants dashboard from N tenants' precomputed summaries on Azurite (in memory):
the one partition query, the render-time ages and worst statuses, then the JSON body and the HTML page.
Run: `.venv/bin/python -m bench.dashboard --tenants 1000 --runs 7` (prints the median and the spread)."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid

from devtools.azurite import Azurite

STATUSES = ("OK",) * 12 + ("WARNING", "CRITICAL", "UNKNOWN")


def outputs(rng: random.Random, check_id: str, status: str) -> tuple[str, list[str]]:
    """First lines and long outputs of the sizes real checks print (a few services, SKUs, mailboxes)."""
    words = {"service-status": "Service '{}' status is 'serviceOperational'", "licences": "Subscriptions '{}' "
             "capability status: enabled, usage total: 25 used: 19 (76.00%) free: 6 (24.00%)",
             "mailbox-quota": "Mailbox '{}@example.com' Used: 1.20 GB Issue Warning Quota: 49.00 GB",
             "app-credentials": "application '{}' password credential 'k1' status: valid, expires in 1y 2M",
             "data-freshness": "Report '{}' last success: 2026-12-01T00:00:00+00:00, data age: 52.00 h",
             "collection-status": "Report '{}' last collection: success at 2026-12-01T00:00:00+00:00"}  # fmt: skip
    long = [words[check_id].format(f"item{i}") for i in range(rng.randint(3, 25))]
    first = f"{status}: " + (" - ".join(long[:3]) if status != "OK" else "All are ok")
    return first, long


def store(count: int) -> None:
    from shared.insights.summary import CHECKS
    from shared.store import storage, summaries

    rng = random.Random(7)
    table = storage.table(summaries.SUMMARIES)
    batch: list = []
    for i in range(count):
        tenant_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        head = {"name": f"Customer {i:04d}", "domains": [f"customer{i}.example", f"customer{i}.onmicrosoft.com"],
                "last_attempt": "2026-12-02T03:00:00+00:00", "last_run_status": "success", "last_error": "",
                "consent_detail": "", "data_as_of": "2026-11-30"}  # fmt: skip
        checks = {}
        for check in CHECKS:
            status = rng.choice(STATUSES)
            first, _ = outputs(rng, check.check_id, status)
            checks[check.check_id] = [status, first[: summaries.MAX_BOARD_OUTPUT], "2026-12-02T03:00:05+00:00"]
        board = {"head": head, "consent": {"reports": "granted", "health": "granted"},
                 "last_success": {"reports": "2026-12-02T03:00:05+00:00", "health": "2026-12-02T03:55:00+00:00"},
                 "checks": checks}  # fmt: skip
        entity = {
            "PartitionKey": summaries.PARTITION, "RowKey": tenant_id, summaries.BOARD: json.dumps(board),
            summaries.LICENCES: json.dumps([{"sku": f"SKU{k}", "enabled": 25, "consumed": 19} for k in range(5)]),
        }  # fmt: skip
        batch.append(("upsert", entity))
        if len(batch) == storage.BATCH:
            table.submit_transaction(batch)
            batch = []
    if batch:
        table.submit_transaction(batch)


def timed(fn, runs: int) -> list[float]:
    fn()  # clients, templates
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ["O365MON_LOCAL_SETTINGS"] = os.devnull
    with Azurite() as azurite:
        os.environ["AzureWebJobsStorage"] = azurite.connection_string
        from shared.insights import dashboard
        from shared.store import storage

        storage.reset_caches()
        store(args.tenants)
        query = dashboard.Query.from_params({})

        def as_json() -> None:
            board = dashboard.build(query)
            assert len(board["rows"]) == args.tenants
            json.dumps(board)

        cases = {"JSON": as_json}
        html = _html_case(query, args.tenants)
        if html is not None:
            cases["HTML"] = html
        print(f"dashboard of {args.tenants} tenants, server time over {args.runs} runs (Azurite in memory)")
        for name, fn in cases.items():
            times = timed(fn, args.runs)
            print(f"  {name:5} median {statistics.median(times) * 1000:7.1f} ms  (min {min(times) * 1000:.1f}, "
                  f"max {max(times) * 1000:.1f})")  # fmt: skip


def _html_case(query, tenants: int):
    """The HTML page as the route renders it (None while the console shell is absent)."""
    try:
        from shared.insights import pages
    except ImportError:
        return None

    def as_html() -> None:
        from shared.insights import dashboard

        body = pages.dashboard_page(dashboard.build(query), principal=pages.bench_principal())
        assert body.count("<tr") >= tenants

    return as_html


if __name__ == "__main__":
    main()
