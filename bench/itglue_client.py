"""IT Glue client against the simulator on loopback: requests and wall time to bulk-create N contacts into one
organization and read them back, and the same under the real 3,000 requests / 5 minutes budget with a 429 storm.

    .venv/bin/python -m bench.itglue_client --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import time

from devtools.itglue import ItGlueFault, ItGlueSimulator
from shared.docs.itglue import ItGlueClient, RateBudget


def contacts(n: int) -> list[dict]:
    return [
        {
            "first_name": f"User{i}",
            "last_name": "Bench",
            "title": "Engineer",
            "contact_emails": [{"value": f"user{i}@contoso.com", "primary": True, "label_name": "Work"}],
            "contact_phones": [{"value": "+1 425 555 0100", "label_name": "Office", "label_type": "phone"}],
        }
        for i in range(n)
    ]


def run(n: int) -> dict:
    with ItGlueSimulator() as sim, ItGlueClient(base_url=sim.url, api_key=sim.api_key, budget=RateBudget()) as client:
        org = client.create_organization(name="Bench Org")
        start = time.perf_counter()
        client.create_contacts(organization_id=org.id, contacts=contacts(n))
        created = time.perf_counter() - start
        start = time.perf_counter()
        read = client.list_contacts(organization_id=org.id)
        listed = time.perf_counter() - start
        assert len(read) == n
        return {
            "n": n,
            "create_s": created,
            "list_s": listed,
            "requests": sim.total_requests(),
            "by_endpoint": sim.request_counts(),
        }


def storm() -> dict:
    """Ten reads during a storm of three 429s with Retry-After 1 s: how long the client waits, how many retries."""
    with ItGlueSimulator() as sim, ItGlueClient(base_url=sim.url, api_key=sim.api_key, budget=RateBudget()) as client:
        sim.add_fault(ItGlueFault("throttle", times=3, retry_after=1))
        start = time.perf_counter()
        for _ in range(10):
            client.list_organizations()
        return {"wall_s": time.perf_counter() - start, **client.stats.snapshot()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    print("| contacts | bulk create s | list s | IT Glue requests | by endpoint |")
    print("|---:|---:|---:|---:|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        r = run(n)
        print(f"| {n:,} | {r['create_s']:.2f} | {r['list_s']:.2f} | {r['requests']} | {r['by_endpoint']} |")
    s = storm()
    print(
        f"429 storm (3 x Retry-After 1 s, 10 reads): {s['wall_s']:.2f} s wall, {s['requests']} requests, "
        f"{s['throttled']} throttled, {s['throttle_wait_seconds']} s waited"
    )


if __name__ == "__main__":
    main()
