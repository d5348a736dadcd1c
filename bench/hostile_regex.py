"""Wall time of a check with a catastrophically backtracking filter, against real Azurite.

Stores an email-activity snapshot of N users ('firstname.lastname<i>@contoso.com', half of them active), then
answers `exchange email-activity --filter-user=<pattern>` through shared.check_service (the code path of the
HTTP function and the CLI) and prints the wall time and the first line of the answer. A check still running
after --cap seconds is reported as '> cap' (the process then exits: a match cannot be interrupted).

Run: `.venv/bin/python -m bench.hostile_regex --sizes 5000,100000`
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid

EVIL = r"^([a-z.]+){1,50}$"
CLASSIC = r"^([a-z.]+)+$"
ORDINARY = r"^firstname\.lastname1"
PATTERNS = {"ordinary": ORDINARY, "classic": CLASSIC, "evil": EVIL}


def store_tenant(users: int) -> str:
    from shared.collect.catalog import EMAIL_ACTIVITY
    from shared.collect.collector import store_rows
    from shared.store import tenants

    tenant_id = str(uuid.uuid4())
    tenants.add(tenants.Tenant(tenant_id, f"bench-{users}", []))
    rows = [[f"firstname.lastname{i}@contoso.com", "2024-01-15", 1, 2, 3, 7] for i in range(users)]
    rows += [[f"firstname.lastname{i}@contoso.com", "2024-01-15", 1, 2, 3, 1] for i in range(0, users, 2)]
    store_rows(tenant_id, EMAIL_ACTIVITY, rows, refresh_date="2024-01-15")
    return tenant_id


def timed_check(tenant_id: str, pattern: str, cap: float) -> tuple[float | None, str]:
    from shared.checks.service import answer

    done: dict[str, object] = {}

    def run() -> None:
        result, _ = answer("exchange", "email-activity", {"tenant": tenant_id, "filter-user": pattern})
        done["line"] = result.short.strip()

    start = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(cap)
    if worker.is_alive():
        return None, ""
    return time.perf_counter() - start, str(done.get("line", ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,100000")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds after which a check is reported as hung")
    parser.add_argument("--patterns", default="ordinary,classic,evil", help="which of ordinary, classic, evil")
    args = parser.parse_args()

    import shared
    from devtools.azurite import Azurite
    from shared.store import storage

    print(f"code under test: {os.path.dirname(shared.__file__)}")
    with Azurite() as azurite:
        os.environ.update({"AzureWebJobsStorage": azurite.connection_string, "O365MON_LOCAL_SETTINGS": os.devnull})
        storage.reset_caches()
        print("| users | filter-user | wall s | answer |")
        print("|---:|---|---:|---|")
        for users in [int(s) for s in args.sizes.split(",")]:
            tenant_id = store_tenant(users)
            for pattern in [PATTERNS[name] for name in args.patterns.split(",")]:
                wall, line = timed_check(tenant_id, pattern, args.cap)
                shown = f"> {args.cap:g}" if wall is None else f"{wall:.2f}"
                print(f"| {users:,} | `{pattern}` | {shown} | {line[:90]} |", flush=True)
                if wall is None:  # the hung match keeps a core busy: later figures would mean nothing
                    sys.stdout.flush()
                    os._exit(0)


if __name__ == "__main__":
    main()
