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
import statistics

from bench.fanout import collect_one_at_a_time, in_child
from bench.stack import local_stack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--tenants", type=int, default=20, help="collections measured (after one warm-up)")
    ap.add_argument("--repeat", action="store_true", help="repeat collections of one tenant instead of new ones")
    args = ap.parse_args()
    count = 1 if args.repeat else args.tenants + 1
    with local_stack([args.users] * count) as (sample, _sim):
        ids = [sample[0].tenant_id] * (args.tenants + 1) if args.repeat else [t.tenant_id for t in sample]
        measured = in_child(collect_one_at_a_time, ids)  # (tenant, CPU s, status, requests) after the warm-up
    failed = [m for m in measured if m[2] != "success"]  # type: ignore[attr-defined]
    if failed:
        raise SystemExit(f"collections not successful: {failed[:3]}")
    cpu = [m[1] for m in measured]  # type: ignore[attr-defined]
    kind = "repeat" if args.repeat else "first"
    print(
        f"{args.users} users, {len(cpu)} {kind} collections: CPU s median {statistics.median(cpu):.3f}, "
        f"min {min(cpu):.3f}, max {max(cpu):.3f}"
    )


if __name__ == "__main__":
    main()
