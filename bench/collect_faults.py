"""Collection under faults: wall time and Graph requests of one tenant's collection when Graph throttles every
request, serves an endless chain of nextLinks, or cuts a report in half (then the stored row count).

Run: `.venv/bin/python -m bench.collect_faults` (Azurite and the simulator start on free ports).
"""

from __future__ import annotations

import asyncio
import time

from devtools.simulator.server import Fault


def main() -> None:
    from bench.stack import local_stack
    from shared.collect.collector import collect_all
    from shared.store import snapshots

    def collect(tenant_id: str, schedule: str = "reports") -> tuple[float, object]:
        start = time.perf_counter()
        (run,) = asyncio.run(collect_all(tenant_id, schedule=schedule))
        return time.perf_counter() - start, run

    with local_stack([300, 300, 300]) as (sample, sim):
        throttled, endless, cut = sample
        sim.add_fault(Fault("throttle", tenant=throttled.tenant_id, times=None, retry_after=5))
        wall, run = collect(throttled.tenant_id)
        statuses = sorted({r.status for r in run.reports})
        print(
            f"throttled at Retry-After 5 s on every request: {wall:.1f} s, {run.requests} Graph requests, "
            f"{run.throttle_wait_s:.1f} s really waited, datasets {statuses}"
        )
        sim.clear_faults()

        sim.add_fault(Fault("endless_pages", tenant=endless.tenant_id, path_contains="healthOverviews", times=None))
        wall, run = collect(endless.tenant_id, "health")
        print(f"endless nextLink chain: {wall:.1f} s, {run.requests} pages read, then: {run.reports[0].error}")
        sim.clear_faults()

        collect(cut.tenant_id)
        before = snapshots.current(cut.tenant_id, "mailbox_usage").rows
        sim.add_fault(Fault("cut_line", tenant=cut.tenant_id, path_contains="getMailboxUsageDetail", times=1))
        _, run = collect(cut.tenant_id)
        mailbox = next(r for r in run.reports if r.report == "mailbox_usage")
        after = snapshots.current(cut.tenant_id, "mailbox_usage").rows
        print(f"mailbox report cut at a line boundary: {before} mailboxes stored before, {after} after")
        print(f"  {mailbox.status}: {mailbox.error}")


if __name__ == "__main__":
    main()
